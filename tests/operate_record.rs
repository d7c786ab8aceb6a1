//! `hubsync record KEY` and `GET /api/records/{key}`: one record's whole story across both
//! sides, found by HubSpot id, external id, merged id or email.

use serde_json::{Value, json};

use crate::support::binary::text;
use crate::support::operate::{self, READ, Row, Seeded, seeded};

/// A contact captured on HubSpot, written to Salesforce, rejected once, edited on both
/// sides into a conflict; its HubSpot record was merged from `99`.
async fn story(seeded: &Seeded) {
    let pool = &seeded.pool;
    let email =
        json!({ "email": { "value": "ada@acme.com", "timestamp": "2026-11-01T10:00:00Z" } });
    let captured = Row {
        record_id: "99",
        properties: email,
        status: "applied",
        reason: Some("queued"),
        age: "50 minutes",
        ..Default::default()
    };
    let first = operate::journal(pool, captured).await;
    sqlx::query("insert into hubsync.journal_attempts (journal_id, attempt, worker, outcome, message) values ($1, 1, 'w1', 'applied', 'queued')")
        .bind(first)
        .execute(pool)
        .await
        .unwrap();
    operate::outbox(pool, Some(first), "failed", Some("INVALID_EMAIL: ada@acme is invalid")).await;
    let external = Row {
        side: "external",
        record_id: "003A",
        status: "conflict",
        reason: Some("conflict_held"),
        age: "10 minutes",
        ..Default::default()
    };
    let held = operate::journal(pool, external).await;
    let link = operate::link(pool, "101", "003A").await;
    sqlx::query("update hubsync.links set merged_from = '{99}' where id = $1")
        .bind(link)
        .execute(pool)
        .await
        .unwrap();
    operate::open_conflict(pool, Some(link), Some(held)).await;
    let rejected = Row {
        side: "external",
        record_id: "003A",
        status: "failed",
        reason: Some("needs_operator"),
        age: "5 minutes",
        ..Default::default()
    };
    let rejected = operate::journal(pool, rejected).await;
    let retry = hubsync::store::journal::OperatorAction::Retry;
    let ids = hubsync::store::journal::JournalFilter::ids([rejected]);
    hubsync::store::journal::act(pool, retry, &ids, "cli:grace").await.unwrap();
    operate::journal(pool, Row { record_id: "555", ..Default::default() }).await;
    let elsewhere =
        operate::journal(pool, Row { record_id: "556", status: "failed", ..Default::default() })
            .await;
    let skip = hubsync::store::journal::OperatorAction::Skip;
    let ids = hubsync::store::journal::JournalFilter::ids([elsewhere]);
    hubsync::store::journal::act(pool, skip, &ids, "cli:eve").await.unwrap();
}

#[tokio::test]
async fn record_tells_the_whole_story_whichever_key_the_operator_has() {
    let seeded = seeded().await;
    story(&seeded).await;
    let timeline = |key: &str| -> Value {
        let output = seeded.cli(&["record", key, "--json"]);
        assert!(output.status.success(), "{key}: {}", text(&output.stderr));
        serde_json::from_slice(&output.stdout).unwrap()
    };
    let by_email = timeline("ada@acme.com");
    let what: Vec<&str> = by_email["entries"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["what"].as_str().unwrap())
        .collect();
    let kinds = ["capture", "decision", "attempt", "write", "answer", "conflict", "link", "merge"];
    for kind in kinds.into_iter().chain(["operator"]) {
        assert!(what.contains(&kind), "no {kind} in {what:?}");
    }
    let times: Vec<&str> =
        by_email["entries"].as_array().unwrap().iter().map(|e| e["at"].as_str().unwrap()).collect();
    let parsed: Vec<chrono::DateTime<chrono::Utc>> =
        times.iter().map(|t| t.parse().unwrap()).collect();
    assert!(parsed.windows(2).all(|w| w[0] <= w[1]), "not in time order: {times:?}");
    let sides: Vec<&str> =
        by_email["entries"].as_array().unwrap().iter().filter_map(|e| e["side"].as_str()).collect();
    assert!(sides.contains(&"hubspot") && sides.contains(&"external"), "{sides:?}");
    for key in ["101", "003A", "99"] {
        assert_eq!(timeline(key)["entries"], by_email["entries"], "key {key}");
    }
    let table = text(&seeded.cli(&["record", "003A"]).stdout);
    assert!(table.contains("INVALID_EMAIL: ada@acme is invalid"), "{table}");
    assert!(table.contains("hubspot `99` merged into `101`"), "{table}");
    assert!(table.contains("cli:grace chose retry for journal row"), "{table}");
    assert!(!table.contains("cli:eve"), "another record's operator action leaked in:\n{table}");
    assert!(!table.contains("`555`"), "another record leaked in:\n{table}");
    let unknown = seeded.cli(&["record", "nobody@acme.com"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("no record matches `nobody@acme.com`"));
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_serves_a_timeline_to_a_read_token_and_404s_an_unknown_key() {
    let app = operate::app().await;
    operate::journal(&app.pool, Row { record_id: "777", ..Default::default() }).await;
    let get = |path: &str, token: Option<&str>| {
        let request = app.http.get(app.url(path));
        match token {
            Some(token) => request.bearer_auth(token).send(),
            None => request.send(),
        }
    };
    assert_eq!(get("/api/records/777", None).await.unwrap().status().as_u16(), 401);
    let found: Value = get("/api/records/777", Some(READ)).await.unwrap().json().await.unwrap();
    assert_eq!(found["entries"][0]["what"], "capture");
    assert_eq!(found["records"][0]["record_id"], "777");
    let missing = get("/api/records/888", Some(READ)).await.unwrap();
    assert_eq!(missing.status().as_u16(), 404);
    app.stop().await.unwrap();
}
