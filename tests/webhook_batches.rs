//! Signed batches as HubSpot really sends them: events sharing an `eventId`, redeliveries,
//! poison events among good ones, and full batches of long values.

use serde_json::json;

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
