//! The operator API under /api: bearer tokens with read and operate scopes, JSON errors,
//! size limits, and the audit trail of every mutation.

use std::collections::BTreeMap;

use chrono::Utc;
use hubsync::config::Side;
use hubsync::error_kind::ErrorKind;
use hubsync::journal::{Arrival, ChangeKind, NewChange};
use hubsync::store;
use serde_json::{Value, json};

use crate::support::app::{TestApp, spawn_app_with};

const READ: &str = "read-token-0123456789";
const OPERATE: &str = "operate-token-0123456789";

const TOKENS: &str = r#"
[[admin.tokens]]
name = "dashboard"
scope = "read"
token = { env = "READ_TOKEN" }

[[admin.tokens]]
name = "oncall"
scope = "operate"
token = { env = "OPERATE_TOKEN" }
"#;

async fn app(extra_config: &str) -> TestApp {
    let file = format!("{TOKENS}{extra_config}");
    spawn_app_with(&file, &[("READ_TOKEN", READ), ("OPERATE_TOKEN", OPERATE)]).await
}

/// A contact change that failed permanently; returns its journal id.
async fn failed_row(app: &TestApp) -> i64 {
    let change = NewChange {
        side: Side::Hubspot,
        connector: "hubspot".into(),
        object_type: "contacts".into(),
        record_id: "101".into(),
        kind: ChangeKind::Upsert,
        properties: BTreeMap::new(),
        occurred_at: Utc::now(),
        source: Arrival::Webhook,
        dedup_key: "evt-1".into(),
    };
    store::journal::append(&app.pool, &[change]).await.unwrap();
    let rows = store::journal::claim(&app.pool, "w1", 1, std::time::Duration::from_secs(60))
        .await
        .unwrap();
    store::journal::fail(&app.pool, "w1", &rows[0], ErrorKind::Permanent, "INVALID_EMAIL", 10)
        .await
        .unwrap();
    rows[0].id
}

async fn call(
    app: &TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = app.http.request(method.parse().unwrap(), app.url(path));
    if let Some(token) = token {
        request = request.bearer_auth(token);
    }
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn a_request_without_a_valid_token_gets_401_with_a_json_error() {
    let app = app("").await;
    let (status, body) = call(&app, "GET", "/api/journal", None, None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (401, Some("unauthorized")));
    let (status, _) = call(&app, "GET", "/api/journal", Some("not-a-token-at-all"), None).await;
    assert_eq!(status, 401);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_read_token_reads_the_journal_but_gets_403_on_retry_and_nothing_changes() {
    let app = app("").await;
    let id = failed_row(&app).await;
    let (status, body) = call(&app, "GET", "/api/journal?status=failed", Some(READ), None).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["rows"][0]["id"], id);
    assert_eq!(body["rows"][0]["last_error"], "INVALID_EMAIL");

    let (status, body) =
        call(&app, "POST", "/api/journal/retry", Some(READ), Some(json!({ "ids": [id] }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (403, Some("forbidden")));
    assert!(hubsync::store::audit::recent(&app.pool, 10).await.unwrap().is_empty());
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_operate_token_retries_a_row_and_the_audit_names_the_token() {
    let app = app("").await;
    let id = failed_row(&app).await;
    let (status, body) =
        call(&app, "POST", "/api/journal/retry", Some(OPERATE), Some(json!({ "ids": [id] }))).await;
    assert_eq!(status, 200, "{body}");
    assert_eq!(body["ids"], json!([id]));
    let (_, shown) = call(&app, "GET", &format!("/api/journal/{id}"), Some(READ), None).await;
    assert_eq!(shown["row"]["status"], "pending");
    assert_eq!(shown["attempts"][0]["outcome"], "needs_operator");
    let audit = hubsync::store::audit::recent(&app.pool, 10).await.unwrap();
    assert_eq!(
        (audit[0].actor.as_str(), audit[0].action.as_str()),
        ("token:oncall", "journal.retry")
    );
    assert!(audit[0].target.to_string().contains(&id.to_string()), "{:?}", audit[0].target);
    assert!((Utc::now() - audit[0].at).num_seconds().abs() < 60, "the audit row has its time");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn bad_requests_get_precise_json_errors() {
    let app = app("").await;
    let (status, body) = call(&app, "GET", "/api/journal?status=broken", Some(READ), None).await;
    assert_eq!(status, 400);
    assert!(
        body["error"]["message"].as_str().unwrap().contains("unknown status `broken`"),
        "{body}"
    );
    let (status, body) = call(&app, "GET", "/api/journal/999999", Some(READ), None).await;
    assert_eq!((status, body["error"]["code"].as_str()), (404, Some("not_found")));
    let (status, body) =
        call(&app, "POST", "/api/journal/skip", Some(OPERATE), Some(json!({ "id": 1 }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (400, Some("bad_request")), "{body}");
    let (status, _) =
        call(&app, "POST", "/api/journal/skip", Some(OPERATE), Some(json!({ "ids": [] }))).await;
    assert_eq!(status, 400);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_browser_on_another_origin_gets_no_cors_grant() {
    let app = app("").await;
    let preflight = app
        .http
        .request(reqwest::Method::OPTIONS, app.url("/api/journal/retry"))
        .header("origin", "https://evil.example")
        .header("access-control-request-method", "POST")
        .header("access-control-request-headers", "authorization")
        .send()
        .await
        .unwrap();
    let read = app
        .http
        .get(app.url("/api/journal"))
        .header("origin", "https://evil.example")
        .bearer_auth(READ)
        .send()
        .await
        .unwrap();
    for response in [&preflight, &read] {
        let granted: Vec<_> = response
            .headers()
            .keys()
            .filter(|k| k.as_str().starts_with("access-control-"))
            .collect();
        assert!(granted.is_empty(), "no CORS header is ever sent: {granted:?}");
    }
    assert_eq!(read.status(), 200, "a same-origin style call with a token still works");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_oversized_body_gets_413() {
    let app = app("[admin]\nmax_body_bytes = 2048\n").await;
    let ids: Vec<i64> = (0..2000).collect();
    let (status, body) =
        call(&app, "POST", "/api/journal/retry", Some(OPERATE), Some(json!({ "ids": ids }))).await;
    assert_eq!((status, body["error"]["code"].as_str()), (413, Some("too_large")), "{body}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn probes_can_be_closed_to_callers_without_a_token() {
    let db = crate::support::database::TestDatabase::create().await;
    let file = format!("{TOKENS}[admin]\nopen_probes = false\n");
    let env = [("READ_TOKEN", READ), ("OPERATE_TOKEN", OPERATE)];
    let settings = crate::support::app::test_settings_with_file(&db.url, Some(&file), &env);
    let app = crate::support::app::start(settings, Some(db)).await;
    assert_eq!(call(&app, "GET", "/metrics", None, None).await.0, 401);
    assert_eq!(call(&app, "GET", "/healthz", Some(READ), None).await.0, 200);
    app.stop().await.unwrap();
}
