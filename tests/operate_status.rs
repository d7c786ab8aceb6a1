//! `hubsync status`, `GET /api/status`, pause and resume, and the queue gauges, against a
//! seeded journal and outbox.

use std::time::Duration;

use serde_json::{Value, json};

use crate::support::binary::text;
use crate::support::operate::{self, OPERATE, READ, Row, Seeded, last_audit, seeded};

/// Two pending rows (the older on the external side), a permanent failure, a dead row,
/// outbox items pending, done and failed, a published budget, a cursor and a pause.
async fn busy(seeded: &Seeded) -> i64 {
    let pool = &seeded.pool;
    operate::journal(pool, Row { age: "10 seconds", ..Default::default() }).await;
    let oldest = operate::journal(
        pool,
        Row { side: "external", record_id: "003A", age: "3 minutes", ..Default::default() },
    )
    .await;
    let failed = Row {
        status: "failed",
        error_kind: Some("permanent"),
        last_error: Some("INVALID_EMAIL: not-an-email is invalid"),
        ..Default::default()
    };
    operate::journal(pool, failed).await;
    let dead = Row { status: "dead", error_kind: Some("rate_limited"), ..Default::default() };
    operate::journal(pool, dead).await;
    operate::journal(pool, Row { status: "applied", age: "2 hours", ..Default::default() }).await;
    operate::outbox(pool, None, "pending", None).await;
    operate::outbox(pool, None, "done", None).await;
    operate::outbox(pool, None, "failed", Some("REQUIRED_FIELD_MISSING: LastName")).await;
    sqlx::raw_sql(
        "insert into hubsync.connector_budget (connector, requests_per_second, daily_remaining)
         values ('hubspot', 19.0, 499000);
         insert into hubsync.cursors (connector, object_type, stream, position_ts, position_id)
         values ('hubspot', 'contacts', 'changes', '2026-11-01T12:00:00Z', '101');
         insert into hubsync.paused (sync_name, reason, detail, paused_by)
         values ('contacts', 'blast_radius', '{\"deletes\": 900}', 'guard')",
    )
    .execute(pool)
    .await
    .unwrap();
    oldest
}

#[tokio::test]
async fn status_shows_lag_queues_rates_failures_budgets_cursors_and_how_to_resume() {
    let seeded = seeded().await;
    let oldest = busy(&seeded).await;
    let output = seeded.cli(&["status", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let report: Value = serde_json::from_slice(&output.stdout).unwrap();
    let sync = &report["syncs"][0];
    assert_eq!(sync["name"], "contacts");
    assert_eq!(sync["lag"]["journal_id"], oldest);
    assert_eq!(sync["lag"]["side"], "external");
    let age = sync["lag"]["age_seconds"].as_f64().unwrap();
    assert!((170.0..400.0).contains(&age), "{age}");
    assert_eq!(sync["journal_depth"], 2);
    assert_eq!(sync["outbox_depth"], 1);
    assert_eq!(
        sync["rates_5m"],
        json!({ "changes_received": 4, "writes_done": 1, "writes_failed": 1 })
    );
    assert_eq!(sync["failures"]["journal"], json!({ "permanent": 1, "rate_limited": 1 }));
    assert_eq!(sync["failures"]["outbox"], json!({ "permanent": 1 }));
    assert_eq!(sync["paused"]["reason"], "blast_radius");
    assert_eq!(sync["paused"]["resume_command"], "hubsync resume contacts");
    let hubspot = &sync["sides"][0];
    assert_eq!(hubspot["cursors"][0]["position_id"], "101");
    assert_eq!(hubspot["poller_live"], false);
    let budgets = report["connectors"].as_array().unwrap();
    assert_eq!(budgets[0]["connector"], "hubspot");
    assert_eq!(budgets[0]["budget"]["daily_remaining"], 499000);
    assert_eq!(budgets[1]["budget"], Value::Null, "salesforce has published nothing");

    let table = text(&seeded.cli(&["status"]).stdout);
    for needle in [
        "sync contacts",
        "journal 2 pending, outbox 1 pending",
        "4 changes received, 1 writes done, 1 writes failed",
        "journal permanent 1, rate_limited 1; outbox permanent 1",
        "poller not running",
        "resume with: hubsync resume contacts",
        "not published (is the daemon running?)",
    ] {
        assert!(table.contains(needle), "no {needle:?} in:\n{table}");
    }
}

#[tokio::test]
async fn pause_and_resume_change_the_block_audit_it_and_refuse_unknown_names() {
    let seeded = seeded().await;
    let refused = seeded.cli(&["pause", "contacts"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("without --yes"), "{}", text(&refused.stderr));

    let paused = seeded.cli(&["pause", "contacts", "--reason", "cutover", "--yes"]);
    assert!(text(&paused.stdout).contains("resume with: hubsync resume contacts"));
    let reason: String = sqlx::query_scalar("select reason from hubsync.paused")
        .fetch_one(&seeded.pool)
        .await
        .unwrap();
    assert_eq!(reason, "cutover");
    let (actor, action, target, _) = last_audit(&seeded.pool).await;
    assert!(actor.starts_with("cli:"), "{actor}");
    assert_eq!((action.as_str(), target), ("sync.pause", json!({ "sync": "contacts" })));
    let again = seeded.cli(&["pause", "contacts", "--yes"]);
    assert!(text(&again.stdout).contains("already paused (cutover"), "{}", text(&again.stdout));

    let unknown = seeded.cli(&["pause", "deals", "--yes"]);
    assert_eq!(unknown.status.code(), Some(1));
    assert!(text(&unknown.stderr).contains("unknown sync `deals`; configured: contacts"));

    let resumed = seeded.cli(&["resume", "contacts", "--yes"]);
    assert!(text(&resumed.stdout).contains("resumed sync `contacts`"));
    let left: i64 = sqlx::query_scalar("select count(*) from hubsync.paused")
        .fetch_one(&seeded.pool)
        .await
        .unwrap();
    assert_eq!(left, 0);
    assert_eq!(last_audit(&seeded.pool).await.1, "sync.resume");
}

#[tokio::test]
async fn the_queue_gauges_follow_the_journal_and_the_outbox() {
    let seeded = seeded().await;
    let recorder = metrics_exporter_prometheus::PrometheusBuilder::new().build_recorder();
    let handle = recorder.handle();
    let render = |depths: hubsync::operate::QueueDepths| {
        metrics::with_local_recorder(&recorder, || depths.set_gauges());
        handle.render()
    };
    let empty = hubsync::operate::QueueDepths::read(&seeded.pool).await.unwrap();
    assert!(render(empty).contains("hubsync_journal_depth 0"));
    busy(&seeded).await;
    let busy = hubsync::operate::QueueDepths::read(&seeded.pool).await.unwrap();
    let rendered = render(busy);
    assert!(rendered.contains("hubsync_journal_depth 2"), "{rendered}");
    assert!(rendered.contains("hubsync_outbox_depth 1"), "{rendered}");
    assert!(busy.oldest_pending_age >= 170.0, "{busy:?}");
}

async fn call(
    app: &crate::support::app::TestApp,
    method: &str,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    let mut request = match method {
        "GET" => app.http.get(app.url(path)),
        _ => app.http.post(app.url(path)),
    };
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

#[tokio::test(flavor = "multi_thread")]
async fn api_status_needs_a_token_and_shows_live_pollers_and_published_budgets() {
    let app = operate::app().await;
    let (status, body) = call(&app, "GET", "/api/status", None, None).await;
    assert_eq!((status, &body["error"]["code"]), (401, &json!("unauthorized")));
    let mut report = Value::Null;
    for _ in 0..100 {
        let (status, body) = call(&app, "GET", "/api/status", Some(READ), None).await;
        assert_eq!(status, 200, "{body}");
        report = body;
        let live = report["syncs"][0]["sides"][0]["poller_live"] == true;
        if live && report["connectors"][0]["budget"].is_object() {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(report["syncs"][0]["sides"][0]["poller_live"], true, "{report}");
    assert!(report["connectors"][0]["budget"]["requests_per_second"].as_f64().unwrap() > 0.0);
    let metrics = app.get("/metrics").await.text().await.unwrap();
    assert!(metrics.contains("hubsync_journal_depth"), "{metrics}");
    let (status, history) =
        call(&app, "GET", "/api/status/history?sync=contacts", Some(READ), None).await;
    assert_eq!((status, history["points"].is_array()), (200, true), "{history}");
    app.stop().await.unwrap();
}

#[tokio::test(flavor = "multi_thread")]
async fn api_pause_needs_the_operate_scope_and_is_audited_with_the_token_name() {
    let app = operate::app().await;
    let pause = json!({ "sync": "contacts", "reason": "cutover" });
    let (status, _) = call(&app, "POST", "/api/pause", None, Some(pause.clone())).await;
    assert_eq!(status, 401);
    let (status, body) = call(&app, "POST", "/api/pause", Some(READ), Some(pause.clone())).await;
    assert_eq!((status, &body["error"]["code"]), (403, &json!("forbidden")));
    let (status, body) = call(&app, "POST", "/api/pause", Some(OPERATE), Some(pause)).await;
    assert_eq!((status, &body["paused"], &body["changed"]), (200, &json!(true), &json!(true)));
    let (actor, action, ..) = last_audit(&app.pool).await;
    assert_eq!((actor.as_str(), action.as_str()), ("token:oncall", "sync.pause"));
    let unknown = json!({ "sync": "deals" });
    let (status, body) = call(&app, "POST", "/api/resume", Some(OPERATE), Some(unknown)).await;
    assert_eq!(status, 400);
    assert_eq!(body["error"]["message"], "unknown sync `deals`; configured: contacts");
    let resume = json!({ "sync": "contacts" });
    let (status, body) = call(&app, "POST", "/api/resume", Some(OPERATE), Some(resume)).await;
    assert_eq!((status, &body["paused"]), (200, &json!(false)));
    app.stop().await.unwrap();
}
