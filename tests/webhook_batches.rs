//! Signed batches as HubSpot really sends them, and as it never should: events sharing an
//! `eventId`, redeliveries, poison events among good ones, full batches of long values,
//! hostile values, and bodies too large or too deep.

use std::time::Duration;

use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};

use crate::webhook_receiver::{deliver, property_event, quarantined, receiver, rows};

#[tokio::test]
async fn two_different_events_sharing_an_event_id_are_both_journalled_and_a_redelivery_is_not() {
    let setup = receiver("").await;
    let at = chrono::Utc::now().timestamp_millis() - 10_000;
    // HubSpot documents eventId as not unique: two changes to two contacts, one eventId
    let first = property_event(7, 501, "Ann", at);
    let second = property_event(7, 502, "Bob", at + 5);
    let batch = serde_json::Value::Array(vec![first.clone(), second]).to_string();
    assert_eq!(deliver(&setup, &batch).await, 200);
    let journalled: Vec<String> =
        rows(&setup.app).await.iter().map(|r| r.record_id.clone()).collect();
    assert_eq!(journalled.len(), 2, "both events journalled: {journalled:?}");

    // HubSpot's retry: the same event, attemptNumber 1, signed anew
    let mut again = first;
    again["attemptNumber"] = json!(1);
    let redelivery = serde_json::Value::Array(vec![again]).to_string();
    assert_eq!(deliver(&setup, &redelivery).await, 200);
    assert_eq!(rows(&setup.app).await.len(), 2, "a redelivery is a duplicate");
    setup.app.stop().await.unwrap();
}

/// Events a correctly signed batch may hold that the journal must not take as they are,
/// written as raw JSON: serde cannot write a lone surrogate.
const POISON: [(&str, &str); 6] = [
    (
        r#"{"eventId":11,"subscriptionId":2,"portalId":62515,"occurredAt":AT,"subscriptionType":"contact.propertyChange","objectId":602,"propertyName":"firstname","propertyValue":"nul\u0000here"}"#,
        "NUL",
    ),
    (
        r#"{"eventId":12,"subscriptionId":2,"portalId":62515,"occurredAt":AT,"subscriptionType":"contact.propertyChange","objectId":603,"propertyName":"firstname","propertyValue":"lone \ud800 surrogate"}"#,
        "surrogate",
    ),
    (
        r#"{"eventId":13,"subscriptionId":1,"portalId":62515,"occurredAt":AT,"subscriptionType":"contact.creation"}"#,
        "objectId",
    ),
    (
        r#"{"eventId":14,"subscriptionId":1,"portalId":62515,"occurredAt":"yesterday","subscriptionType":"contact.creation","objectId":604}"#,
        "occurredAt",
    ),
    (
        r#"{"eventId":15,"subscriptionId":1,"portalId":62515,"occurredAt":0,"subscriptionType":"contact.creation","objectId":605}"#,
        "occurredAt",
    ),
    (
        r#"{"eventId":16,"subscriptionId":1,"portalId":62515,"occurredAt":AT,"subscriptionType":"contact.teleported","objectId":606}"#,
        "subscriptionType",
    ),
];

#[tokio::test]
async fn each_poison_event_is_quarantined_alone_with_its_reason_and_the_rest_of_its_batch_is_journalled()
 {
    let setup = receiver("").await;
    let at = chrono::Utc::now().timestamp_millis() - 10_000;
    let hostile = "'); DROP TABLE hubsync.journal;-- tab'le $1 %s \\ \u{202e} 🦀";
    let good = [property_event(21, 601, "Ann", at), property_event(22, 607, hostile, at)];
    let mut events: Vec<String> = vec![good[0].to_string()];
    events.extend(POISON.iter().map(|(raw, _)| raw.replace("AT", &at.to_string())));
    events.push(good[1].to_string());
    let body = format!("[{}]", events.join(","));
    assert_eq!(deliver(&setup, &body).await, 200);

    let rows = rows(&setup.app).await;
    let mut journalled: Vec<_> = rows
        .iter()
        .map(|r| (r.record_id.clone(), r.properties["firstname"].value.clone().unwrap()))
        .collect();
    journalled.sort();
    let wanted = [("601".to_string(), "Ann".to_string()), ("607".into(), hostile.into())];
    assert_eq!(journalled, wanted, "the well-formed events, byte-exact");
    let kept = quarantined(&setup.app).await;
    assert_eq!(kept.len(), POISON.len(), "one quarantined entry per poison event");
    for ((source, reason, body), (raw, why)) in kept.iter().zip(POISON) {
        assert_eq!(source, "hubspot");
        assert!(reason.contains(why), "`{reason}` does not say {why}");
        let raw = raw.replace("AT", &at.to_string());
        assert_eq!(String::from_utf8_lossy(body), format!("[{raw}]"), "the event as received");
    }
    let metrics = setup.app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("hubsync_quarantined_total{path=\"webhook\""), "not counted");
    setup.app.stop().await.unwrap();
}

#[tokio::test]
async fn a_full_batch_of_long_text_values_within_hubspots_limits_is_accepted_by_default() {
    let setup = receiver("").await;
    let at = chrono::Utc::now().timestamp_millis() - 10_000;
    // HubSpot sends up to 100 events; a text property holds up to 65,536 characters
    let long = "x".repeat(65_536);
    let events: Vec<_> =
        (0..100u64).map(|n| property_event(1000 + n, 700 + n, &long, at + n as i64)).collect();
    let body = serde_json::Value::Array(events).to_string();
    assert!(body.len() > 6 << 20, "{} bytes", body.len());
    assert_eq!(deliver(&setup, &body).await, 200);
    assert_eq!(rows(&setup.app).await.len(), 100);
    setup.app.stop().await.unwrap();
}

#[tokio::test]
async fn a_megabyte_value_round_trips_byte_exact_and_json_nested_ten_thousand_deep_is_quarantined()
{
    let setup = receiver("").await;
    let at = chrono::Utc::now().timestamp_millis() - 10_000;
    let huge = "Grüße \u{202e}🦀 '); --\t".repeat(50_000);
    assert!(huge.len() > 1 << 20);
    let body = serde_json::Value::Array(vec![property_event(31, 801, &huge, at)]).to_string();
    assert_eq!(deliver(&setup, &body).await, 200);
    let rows_now = rows(&setup.app).await;
    assert_eq!(rows_now[0].properties["firstname"].value.as_deref(), Some(huge.as_str()));

    let nested = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let deep = property_event(32, 802, "Ann", at).to_string();
    let deep = format!("[{},\"nested\":{nested}}}]", deep.trim_end_matches('}'));
    assert_eq!(deliver(&setup, &deep).await, 200, "refused by the parser's depth limit, kept");
    let kept = quarantined(&setup.app).await;
    assert_eq!(kept.len(), 1);
    assert!(kept[0].1.contains("recursion limit"), "{}", kept[0].1);
    let after = serde_json::Value::Array(vec![property_event(33, 803, "Bob", at)]).to_string();
    assert_eq!(deliver(&setup, &after).await, 200, "and the receiver goes on");
    assert_eq!(rows(&setup.app).await.len(), 2);
    setup.app.stop().await.unwrap();
}

#[tokio::test]
async fn a_chunked_body_growing_past_the_limit_is_refused_with_413_without_waiting_for_its_end() {
    let setup = receiver("max_body_bytes = 4096\n").await;
    let mut stream = tokio::net::TcpStream::connect(setup.app.addr).await.unwrap();
    let head = "POST /webhooks/hubspot HTTP/1.1\r\nhost: x\r\ntransfer-encoding: chunked\r\n\r\n";
    stream.write_all(head.as_bytes()).await.unwrap();
    let chunk = format!("400\r\n{}\r\n", "x".repeat(1024));
    for _ in 0..5 {
        stream.write_all(chunk.as_bytes()).await.unwrap();
    }
    let mut line = String::new();
    let mut reader = BufReader::new(stream);
    let read = reader.read_line(&mut line);
    tokio::time::timeout(Duration::from_secs(5), read).await.expect("answered").unwrap();
    assert!(line.contains(" 413 "), "{line}");
    assert!(rows(&setup.app).await.is_empty());
    setup.app.stop().await.unwrap();
}
