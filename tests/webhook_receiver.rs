//! The HubSpot webhook receiver, fed by the HubSpot simulator's real signed deliveries and by
//! hand-made forgeries: events are journalled once, refusals touch nothing.

use std::time::Duration;

use hubspot_sim::{Chaos, HubspotSim, RetrySchedule, SimConfig, Subscription, WebhookSettings};
use hubsync::connector::hubspot::webhook::{v1_signature, v3_signature};
use hubsync::journal::{self, ChangeKind};
use hubsync::store;
use hubsync::store::journal::JournalFilter;
use serde_json::json;

use crate::support::app::{TestApp, run_on, start_on, test_settings_with_file};
use crate::support::binary::{RunningBinary, hubsync};
use crate::support::database::TestDatabase;
use crate::support::proxy::{ToggleProxy, postgres_addr};

pub(crate) const SECRET: &str = "webhook-client-secret";
const PREVIOUS: &str = "webhook-previous-secret";

pub(crate) struct Setup {
    pub app: TestApp,
    pub url: String,
}

pub(crate) async fn receiver(extra: &str) -> Setup {
    receiver_behind(None, extra).await
}

/// The receiver, reached at `url` but configured with `public_url` (default: `url`), as
/// behind a proxy that HubSpot calls at the public address.
async fn receiver_behind(public_url: Option<&str>, extra: &str) -> Setup {
    let db = TestDatabase::create().await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/hubspot", listener.local_addr().unwrap());
    let settings = receiver_settings(&db.url, public_url.unwrap_or(&url), extra);
    Setup { app: start_on(listener, settings, db).await, url }
}

/// The receiver's settings: a HubSpot connector and its webhook at `public`.
fn receiver_settings(database_url: &str, public: &str, extra: &str) -> hubsync::config::Settings {
    let file = format!(
        "[connectors.hubspot]\nkind = \"hubspot\"\n\
         auth = {{ method = \"private_app\", token = {{ env = \"HS_TOKEN\" }} }}\n\
         [webhooks.hubspot]\npublic_url = \"{public}\"\n\
         client_secret = {{ env = \"HS_SECRET\" }}\n{extra}"
    );
    let env = [("HS_TOKEN", "sim-token"), ("HS_SECRET", SECRET), ("HS_PREVIOUS", PREVIOUS)];
    test_settings_with_file(database_url, Some(&file), &env)
}

fn deliveries_to(url: &str, chaos: Chaos) -> WebhookSettings {
    let subscriptions = vec![
        Subscription::new(1, "contact.creation"),
        Subscription::new(2, "contact.propertyChange").property("firstname"),
        Subscription::new(3, "contact.deletion"),
        Subscription::new(4, "contact.merge"),
        Subscription::new(5, "contact.restore"),
    ];
    let mut settings = WebhookSettings::new(url, SECRET, subscriptions);
    settings.retry = RetrySchedule::scaled(0.0001);
    settings.linger = Duration::from_millis(5);
    settings.max_batch = 3;
    settings.chaos = chaos;
    settings
}

pub(crate) async fn rows(app: &TestApp) -> Vec<journal::JournalRow> {
    store::journal::query(&app.pool, &JournalFilter::default(), 1000).await.unwrap()
}

async fn wait_for_rows(app: &TestApp, count: usize) -> Vec<journal::JournalRow> {
    for _ in 0..500 {
        let rows = rows(app).await;
        if rows.len() >= count {
            return rows;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("journal has {} rows, wanted {count}", rows(app).await.len());
}

#[tokio::test]
async fn signed_deliveries_from_hubspot_reach_the_journal_as_their_own_kinds() {
    let setup = receiver("").await;
    let sim = HubspotSim::start(SimConfig::default()).await.unwrap();
    sim.set_webhooks(Some(deliveries_to(&setup.url, Chaos::default())));
    let first =
        sim.create_as_user("contacts", json!({"email": "a@x.com", "firstname": "Ann"}), 7).unwrap();
    let second = sim.create_as_user("contacts", json!({"email": "b@x.com"}), 7).unwrap();
    sim.edit_as_user("contacts", first, json!({"firstname": "Anne"}), 7).unwrap();
    sim.archive_as_user("contacts", second, 7).unwrap();
    sim.restore_as_user("contacts", second, 7).unwrap();
    let survivor = sim.merge_as_user("contacts", first, second, 7).unwrap();

    // deliveries run concurrently, so the events may land in any order: wait for every kind
    let wanted = ["upsert", "delete", "restore", "merge"];
    let mut rows = wait_for_rows(&setup.app, 7).await;
    for _ in 0..250 {
        if wanted.iter().all(|k| rows.iter().any(|r| r.kind.as_str() == *k)) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
        rows = self::rows(&setup.app).await;
    }
    let kinds: Vec<&str> = rows.iter().map(|r| r.kind.as_str()).collect();
    for kind in wanted {
        assert!(kinds.contains(&kind), "no {kind} in {kinds:?}");
    }
    let renamed = |r: &&journal::JournalRow| {
        r.properties.get("firstname").and_then(|p| p.value.as_deref()) == Some("Anne")
    };
    assert!(rows.iter().any(|r| renamed(&r)), "the rename is journalled with its value");
    let merges: Vec<_> = rows.iter().filter(|r| r.kind.as_str() == "merge").collect();
    assert!(merges.iter().all(|r| r.kind == ChangeKind::Merge { into: survivor.to_string() }));
    assert!(rows.iter().all(|r| r.source == "webhook" && r.object_type == "contacts"));
    sim.stop().await.unwrap();
    setup.app.stop().await.unwrap();
}

#[tokio::test]
async fn an_association_made_and_removed_in_hubspot_is_journalled_on_both_records_as_its_own_kinds()
{
    let setup = receiver("").await;
    let sim = HubspotSim::start(SimConfig::default()).await.unwrap();
    let subscriptions = vec![
        Subscription::new(1, "contact.associationChange"),
        Subscription::new(2, "company.associationChange"),
    ];
    let mut settings = deliveries_to(&setup.url, Chaos::default());
    settings.subscriptions = subscriptions;
    sim.set_webhooks(Some(settings));
    let contact = sim.create_as_user("contacts", json!({"email": "a@x.com"}), 7).unwrap();
    let company = sim.create_as_user("companies", json!({"name": "Acme"}), 7).unwrap();
    sim.associate(("contacts", contact), ("companies", company), None).unwrap();
    sim.dissociate(("contacts", contact), ("companies", company)).unwrap();

    let rows = wait_for_rows(&setup.app, 4).await;
    let mut seen: Vec<(String, String, String, String)> = rows
        .iter()
        .map(|r| {
            let value = |name: &str| r.properties[name].value.clone().unwrap_or_default();
            let record = format!("{} {}", r.object_type, r.record_id);
            (record, r.kind.as_str().to_string(), value("association_type"), value("to_id"))
        })
        .collect();
    seen.sort();
    let (c, k) = (format!("contacts {contact}"), format!("companies {company}"));
    let row = |record: &str, kind: &str, kind_of: &str, to: u64| {
        (record.to_string(), kind.to_string(), kind_of.to_string(), to.to_string())
    };
    let mut expected = vec![
        row(&c, "association_added", "CONTACT_TO_COMPANY", company),
        row(&c, "association_removed", "CONTACT_TO_COMPANY", company),
        row(&k, "association_added", "COMPANY_TO_CONTACT", contact),
        row(&k, "association_removed", "COMPANY_TO_CONTACT", contact),
    ];
    expected.sort();
    assert_eq!(seen, expected);
    assert!(rows.iter().all(|r| r.source == "webhook"));
    sim.stop().await.unwrap();
    setup.app.stop().await.unwrap();
}

#[tokio::test]
async fn duplicate_and_out_of_order_deliveries_are_journalled_once_each() {
    let setup = receiver("").await;
    let sim = HubspotSim::start(SimConfig::default()).await.unwrap();
    let chaos = Chaos { duplicate_fraction: 0.5, out_of_order_fraction: 0.5, ..Chaos::default() };
    sim.set_webhooks(Some(deliveries_to(&setup.url, chaos)));
    sim.clock().freeze();
    let id = sim.create_as_user("contacts", json!({"email": "a@x.com"}), 7).unwrap();
    for n in 0..20 {
        sim.clock().advance(chrono::Duration::milliseconds(10));
        sim.edit_as_user("contacts", id, json!({"firstname": format!("v{n}")}), 7).unwrap();
    }
    sim.wait_for_deliveries(Duration::from_secs(10), |d| {
        d.iter().filter(|d| d.duplicate).count() > 0
    })
    .await;
    let rows = wait_for_rows(&setup.app, 21).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    let rows_after = self::rows(&setup.app).await;
    assert_eq!(rows_after.len(), 21, "each event once; first saw {}", rows.len());
    let mut by_time: Vec<_> =
        rows_after.iter().filter(|r| r.properties.contains_key("firstname")).collect();
    by_time.sort_by_key(|r| (r.occurred_at, r.id));
    let values: Vec<&str> =
        by_time.iter().filter_map(|r| r.properties["firstname"].value.as_deref()).collect();
    let edits: Vec<String> = (0..20).map(|n| format!("v{n}")).collect();
    assert_eq!(values, edits, "occurred_at keeps source order for every change");
    assert!(by_time.windows(2).all(|w| w[0].occurred_at < w[1].occurred_at));
    sim.stop().await.unwrap();
    setup.app.stop().await.unwrap();
}

/// A `firstname` change of contact `record` to `value` at `at` (ms).
pub(crate) fn property_event(
    event_id: u64,
    record: u64,
    value: &str,
    at: i64,
) -> serde_json::Value {
    json!({"eventId": event_id, "subscriptionId": 2, "portalId": 62515, "appId": 54321,
           "occurredAt": at, "subscriptionType": "contact.propertyChange", "attemptNumber": 0,
           "objectId": record, "propertyName": "firstname", "propertyValue": value,
           "changeSource": "CRM_UI"})
}

#[tokio::test]
async fn a_redelivery_signed_anew_is_answered_200_and_each_change_is_journalled_once_in_order() {
    let setup = receiver("").await;
    let base = chrono::Utc::now().timestamp_millis() - 60_000;
    // five changes to each of two contacts, a second apart
    let events: Vec<serde_json::Value> = [501u64, 502]
        .iter()
        .flat_map(|&record| {
            (0..5).map(move |n| {
                let at = base + n as i64 * 1000 + record as i64;
                property_event(record * 10 + n, record, &format!("v{n}"), at)
            })
        })
        .collect();
    // delivered out of order, in three batches
    let batches = [vec![4, 1, 7], vec![0, 9, 3, 5], vec![8, 2, 6]];
    let now = chrono::Utc::now().timestamp_millis();
    for (delivery, offset) in [(0, 0), (1, 1500)] {
        for (i, batch) in batches.iter().enumerate() {
            let body: Vec<_> = batch.iter().map(|&e| events[e].clone()).collect();
            let body = serde_json::Value::Array(body).to_string();
            // HubSpot's retry is the same body under a new timestamp, so a new signature
            let at = now + offset + i as i64;
            let headers = v3_headers(SECRET, &setup.url, &body, at);
            assert_eq!(post(&setup, &body, &headers).await, 200, "delivery {delivery}, batch {i}");
        }
    }
    let rows = rows(&setup.app).await;
    assert_eq!(rows.len(), 10, "each change once");
    for record in ["501", "502"] {
        let mut changes: Vec<_> = rows.iter().filter(|r| r.record_id == record).collect();
        changes.sort_by_key(|r| (r.occurred_at, r.id));
        let values: Vec<&str> =
            changes.iter().filter_map(|r| r.properties["firstname"].value.as_deref()).collect();
        assert_eq!(values, ["v0", "v1", "v2", "v3", "v4"], "record {record} in source order");
        let times: Vec<i64> = changes.iter().map(|r| r.occurred_at.timestamp_millis()).collect();
        let offset: i64 = record.parse().unwrap();
        let wanted: Vec<i64> = (0..5).map(|n| base + n * 1000 + offset).collect();
        assert_eq!(times, wanted, "record {record} keeps each change's source time");
    }
    setup.app.stop().await.unwrap();
}

fn event_body() -> String {
    json!([{"eventId": 1, "subscriptionId": 2, "portalId": 62515, "appId": 54321,
            "occurredAt": chrono::Utc::now().timestamp_millis(), "subscriptionType": "contact.creation",
            "attemptNumber": 0, "objectId": 123, "changeSource": "CRM_UI"}])
    .to_string()
}

async fn post(setup: &Setup, body: &str, headers: &[(&str, String)]) -> u16 {
    let mut request = setup.app.http.post(&setup.url).body(body.to_string());
    for (name, value) in headers {
        request = request.header(*name, value);
    }
    request.send().await.unwrap().status().as_u16()
}

pub(crate) fn v3_headers(
    secret: &str,
    url: &str,
    body: &str,
    millis: i64,
) -> Vec<(&'static str, String)> {
    let timestamp = millis.to_string();
    let signature = v3_signature(secret, "POST", url, body.as_bytes(), &timestamp);
    vec![("X-HubSpot-Signature-v3", signature), ("X-HubSpot-Request-Timestamp", timestamp)]
}

#[tokio::test]
async fn forged_stale_replayed_unsigned_and_oversized_requests_are_refused_and_change_nothing() {
    let setup = receiver("max_body_bytes = 4096\n").await;
    let body = event_body();
    let now = chrono::Utc::now().timestamp_millis();
    let forged = v3_headers("not-the-secret", &setup.url, &body, now);
    assert_eq!(post(&setup, &body, &forged).await, 401);
    let stale = v3_headers(SECRET, &setup.url, &body, now - 301_000);
    assert_eq!(post(&setup, &body, &stale).await, 401);
    let future = v3_headers(SECRET, &setup.url, &body, now + 301_000);
    assert_eq!(post(&setup, &body, &future).await, 401);
    assert_eq!(post(&setup, &body, &[]).await, 401);
    let tampered = v3_headers(SECRET, &setup.url, &body, now);
    assert_eq!(post(&setup, &body.replace("123", "124"), &tampered).await, 401);
    let other_host = v3_headers(SECRET, "http://evil.example/webhooks/hubspot", &body, now);
    assert_eq!(post(&setup, &body, &other_host).await, 401);
    let v1 = vec![("X-HubSpot-Signature", v1_signature(SECRET, body.as_bytes()))];
    assert_eq!(post(&setup, &body, &v1).await, 401, "v1 only when configured");
    let huge = "x".repeat(5000);
    assert_eq!(post(&setup, &huge, &v3_headers(SECRET, &setup.url, &huge, now)).await, 413);
    assert!(rows(&setup.app).await.is_empty());

    let good = v3_headers(SECRET, &setup.url, &body, now);
    assert_eq!(post(&setup, &body, &good).await, 200);
    for _ in 0..3 {
        assert_eq!(post(&setup, &body, &good).await, 200, "a replay is answered as a duplicate");
    }
    assert_eq!(rows(&setup.app).await.len(), 1);
    let metrics = setup.app.get("/metrics").await.text().await.unwrap();
    for reason in ["bad_signature", "stale", "unsigned", "v1_disabled", "too_large", "replayed"] {
        assert!(metrics.contains(&format!("reason=\"{reason}\"")), "{reason} not counted");
    }
    setup.app.stop().await.unwrap();
}

#[tokio::test]
async fn behind_a_proxy_the_signature_is_checked_against_the_public_url_whatever_the_host_header() {
    let public = "https://hooks.example.com/webhooks/hubspot";
    let setup = receiver_behind(Some(public), "").await;
    let body = event_body();
    let now = chrono::Utc::now().timestamp_millis();
    // the request reaches the daemon with Host 127.0.0.1:PORT, as a proxy forwards it
    let as_hubspot_signs = v3_headers(SECRET, public, &body, now);
    assert_eq!(post(&setup, &body, &as_hubspot_signs).await, 200);
    let other = body.replace("\"eventId\":1", "\"eventId\":2");
    let over_the_host = v3_headers(SECRET, &setup.url, &other, now);
    assert_eq!(post(&setup, &other, &over_the_host).await, 401, "the Host header is not trusted");
    let mut spoofed = v3_headers(SECRET, "http://evil.example/webhooks/hubspot", &other, now);
    spoofed.push(("Host", "evil.example".to_string()));
    assert_eq!(post(&setup, &other, &spoofed).await, 401, "nor a Host header set to match");
    assert_eq!(rows(&setup.app).await.len(), 1);
    setup.app.stop().await.unwrap();
}

#[tokio::test]
async fn during_a_rotation_the_previous_secret_is_accepted_and_v1_when_configured() {
    let setup =
        receiver("previous_client_secret = { env = \"HS_PREVIOUS\" }\naccept_v1 = true\n").await;
    let body = event_body();
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(post(&setup, &body, &v3_headers(PREVIOUS, &setup.url, &body, now)).await, 200);
    let other = body.replace("\"eventId\":1", "\"eventId\":2");
    let v1 = vec![("X-HubSpot-Signature", v1_signature(SECRET, other.as_bytes()))];
    assert_eq!(post(&setup, &other, &v1).await, 200);
    assert_eq!(rows(&setup.app).await.len(), 2);
    setup.app.stop().await.unwrap();
}

#[tokio::test]
async fn a_signed_body_that_does_not_parse_is_quarantined_with_200() {
    let setup = receiver("").await;
    let body = "[{\"eventId\": \"not a number\"}]";
    let now = chrono::Utc::now().timestamp_millis();
    assert_eq!(post(&setup, body, &v3_headers(SECRET, &setup.url, body, now)).await, 200);
    let kept: Vec<(String, Vec<u8>)> =
        sqlx::query_as("select reason, body from hubsync.webhook_quarantine")
            .fetch_all(&setup.app.pool)
            .await
            .unwrap();
    assert_eq!(kept.len(), 1);
    assert_eq!(kept[0].1, body.as_bytes());
    for garbage in ["not json", "{}"] {
        assert_eq!(deliver(&setup, garbage).await, 200, "{garbage}");
    }
    let kept = quarantined(&setup.app).await;
    let bodies: Vec<&[u8]> = kept.iter().map(|(_, _, body)| body.as_slice()).collect();
    assert_eq!(bodies, [body.as_bytes(), b"not json", b"{}"], "each kept as received");
    assert!(rows(&setup.app).await.is_empty());
    assert_eq!(post(&setup, "not json", &[]).await, 401, "unsigned garbage is refused");
    setup.app.stop().await.unwrap();
}

/// Every refusal's log line names its reason and leaves out the body: the daemon as an
/// operator runs it, with JSON logs.
#[tokio::test]
async fn each_refused_webhook_is_logged_with_its_reason_and_never_with_its_body() {
    let db = TestDatabase::create().await;
    let public = "https://hooks.example.com/webhooks/hubspot";
    let config = format!(
        "[connectors.hubspot]\nkind = \"hubspot\"\nbase_url = \"http://127.0.0.1:9\"\n\
         auth = {{ method = \"private_app\", token = {{ env = \"HS_TOKEN\" }} }}\n\
         [webhooks.hubspot]\npublic_url = \"{public}\"\nmax_body_bytes = 4096\n\
         client_secret = {{ env = \"HS_SECRET\" }}\n"
    );
    let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(file.path(), config).unwrap();
    let mut daemon = RunningBinary::spawn(
        hubsync()
            .args(["--config", file.path().to_str().unwrap(), "--log-format", "json", "run"])
            .env("DATABASE_URL", &db.url)
            .env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0")
            .env("HS_TOKEN", "sim-token")
            .env("HS_SECRET", SECRET),
    );
    let line = daemon.wait_for_line("admin server listening", Duration::from_secs(30));
    let log: serde_json::Value = serde_json::from_str(&line).expect("json log line");
    let url = format!("http://{}/webhooks/hubspot", log["admin"].as_str().unwrap());

    let body = event_body().replace("CRM_UI", "BODY-MARKER-4711");
    let now = chrono::Utc::now().timestamp_millis();
    let http = reqwest::Client::new();
    let send = |body: String, headers: Vec<(&'static str, String)>| {
        let mut request = http.post(&url).body(body);
        for (name, value) in headers {
            request = request.header(name, value);
        }
        async move { request.send().await.unwrap().status().as_u16() }
    };
    let forged = v3_headers("not-the-secret", public, &body, now);
    assert_eq!(send(body.clone(), forged).await, 401);
    let stale = v3_headers(SECRET, public, &body, now - 301_000);
    assert_eq!(send(body.clone(), stale).await, 401);
    assert_eq!(send(body.clone(), vec![]).await, 401);
    let huge = format!("{}BODY-MARKER-4711", "x".repeat(5000));
    assert_eq!(send(huge.clone(), v3_headers(SECRET, public, &huge, now)).await, 413);

    let last = daemon.wait_for_line("too_large", Duration::from_secs(10));
    daemon.send_signal("TERM");
    daemon.wait_for_exit(Duration::from_secs(30));
    let output = daemon.all_output();
    let refusals: Vec<String> = output
        .lines()
        .filter(|l| l.contains("webhook refused"))
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap()["reason"].to_string())
        .collect();
    assert_eq!(
        refusals,
        ["\"bad_signature\"", "\"stale\"", "\"unsigned\"", "\"too_large\""],
        "{last}"
    );
    assert!(!output.contains("BODY-MARKER-4711"), "a refused body reached the log:\n{output}");
    assert!(!output.contains(SECRET), "the webhook secret reached the log");
}

pub(crate) async fn quarantined(app: &TestApp) -> Vec<(String, String, Vec<u8>)> {
    sqlx::query_as("select source, reason, body from hubsync.webhook_quarantine order by id")
        .fetch_all(&app.pool)
        .await
        .unwrap()
}

/// Signs `body` as HubSpot does now and posts it; returns the status.
pub(crate) async fn deliver(setup: &Setup, body: &str) -> u16 {
    let now = chrono::Utc::now().timestamp_millis();
    post(setup, body, &v3_headers(SECRET, &setup.url, body, now)).await
}

#[tokio::test]
async fn only_a_whole_signature_inside_the_five_minute_window_is_accepted() {
    let setup = receiver("").await;
    let body = event_body();
    let now = chrono::Utc::now().timestamp_millis();
    let valid = v3_headers(SECRET, &setup.url, &body, now);
    let signature = valid[0].1.clone();
    let with_signature = |signature: String| {
        vec![
            ("X-HubSpot-Signature-v3", signature),
            ("X-HubSpot-Request-Timestamp", now.to_string()),
        ]
    };
    for (what, forged) in [
        ("its first 8 characters", signature[..8].to_string()),
        ("an empty signature", String::new()),
        ("a stray prefix", format!("x{signature}")),
    ] {
        assert_eq!(post(&setup, &body, &with_signature(forged)).await, 401, "{what}");
    }
    let mut not_a_number = valid.clone();
    not_a_number[1].1 = "yesterday".into();
    assert_eq!(post(&setup, &body, &not_a_number).await, 401, "a timestamp that is no number");
    let seconds = v3_headers(SECRET, &setup.url, &body, now / 1000);
    assert_eq!(post(&setup, &body, &seconds).await, 401, "seconds, not milliseconds");
    assert!(rows(&setup.app).await.is_empty(), "nothing refused was journalled");

    let inside = v3_headers(SECRET, &setup.url, &body, now - 299_000);
    assert_eq!(post(&setup, &body, &inside).await, 200, "299 s old is inside the window");
    assert_eq!(rows(&setup.app).await.len(), 1);
    setup.app.stop().await.unwrap();
}

#[tokio::test]
async fn a_body_reserialised_or_signed_for_another_path_is_refused() {
    let setup = receiver("").await;
    let body = event_body();
    let now = chrono::Utc::now().timestamp_millis();
    let signed = v3_headers(SECRET, &setup.url, &body, now);
    let value: serde_json::Value = serde_json::from_str(&body).unwrap();
    let pretty = serde_json::to_string_pretty(&value).unwrap();
    assert_eq!(post(&setup, &pretty, &signed).await, 401, "the same JSON, re-serialised");
    let spaced = body.replace(",", ", ");
    assert_eq!(post(&setup, &spaced, &signed).await, 401, "the same JSON, one space added");
    let other_path = setup.url.replace("/webhooks/hubspot", "/webhooks/other");
    let for_other_path = v3_headers(SECRET, &other_path, &body, now);
    assert_eq!(post(&setup, &body, &for_other_path).await, 401, "signed for another path");
    assert!(rows(&setup.app).await.is_empty());
    assert_eq!(post(&setup, &body, &signed).await, 200, "the bytes as signed");
    setup.app.stop().await.unwrap();
}

#[tokio::test]
async fn before_the_database_first_answers_a_delivery_gets_503_and_its_redelivery_is_journalled() {
    let db = TestDatabase::create().await;
    let target = postgres_addr(&db.url);
    let proxy = ToggleProxy::start(target).await;
    let proxied = db.url.replace(&target.to_string(), &proxy.addr.to_string());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/hubspot", listener.local_addr().unwrap());
    let settings = receiver_settings(&proxied, &url, "");
    let setup = Setup { app: run_on(listener, settings, db), url };
    let body = event_body();

    let now = chrono::Utc::now().timestamp_millis();
    let first = v3_headers(SECRET, &setup.url, &body, now);
    assert_eq!(post(&setup, &body, &first).await, 503, "HubSpot is told to deliver again");
    proxy.bring_up();
    setup.app.wait_until_ready().await;
    let again = v3_headers(SECRET, &setup.url, &body, chrono::Utc::now().timestamp_millis());
    assert_eq!(post(&setup, &body, &again).await, 200);
    assert_eq!(rows(&setup.app).await.len(), 1, "the redelivery is journalled once");
    setup.app.stop().await.unwrap();
}
