//! The admin server as a probe or a scraper sees it: /healthz, /readyz, /metrics.

use std::time::Duration;

use tokio::io::AsyncWriteExt;

use crate::support::app::{self, spawn_app, spawn_app_with, test_settings};
use crate::support::database::TestDatabase;
use crate::support::proxy::ToggleProxy;

#[tokio::test]
async fn healthz_answers_ok_and_readyz_answers_ready_once_migrated() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(body["status"], "ready");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn readyz_is_503_with_a_reason_while_the_database_is_down_then_200_when_it_is_up() {
    let db = TestDatabase::create().await;
    let target = postgres_addr(&db.url);
    let proxy = ToggleProxy::start(target).await;
    let proxied = db.url.replace(&target.to_string(), &proxy.addr.to_string());
    let app = app::start(test_settings(&proxied, &[]), Some(db)).await;

    let body = app.wait_for_readyz(503, Duration::from_secs(5)).await;
    assert_eq!(body["code"], "starting", "{body}");
    assert!(body["reason"].as_str().unwrap().contains("waiting for the database"), "{body}");
    assert_eq!(app.get("/healthz").await.status(), 200, "the process itself is up");

    proxy.bring_up();
    app.wait_for_readyz(200, Duration::from_secs(10)).await;

    proxy.take_down();
    let body = app.wait_for_unready_code("database_unreachable", Duration::from_secs(10)).await;
    // a fixed sentence: no driver text, addresses or error chains for whoever can reach it
    let expected = serde_json::json!({"status": "unavailable", "code": "database_unreachable",
                                      "reason": "the database does not answer"});
    assert_eq!(body, expected);
    proxy.bring_up();
    app.wait_for_readyz(200, Duration::from_secs(10)).await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn readyz_reports_pending_migrations_when_start_up_migration_is_off() {
    // start-up finishes without migrating, so readiness is judged on the schema alone
    let db = TestDatabase::create().await;
    let settings = test_settings(&db.url, &[("HUBSYNC__DATABASE__MIGRATE_ON_START", "false")]);
    let app = app::start(settings, Some(db)).await;
    let body = app.wait_for_unready_code("migrations_pending", Duration::from_secs(5)).await;
    let all = hubsync::db::MIGRATOR.migrations.len();
    assert_eq!(body["reason"], format!("0 of {all} migrations applied"), "{body}");
    hubsync::db::migrate(&app.pool).await.unwrap();
    app.wait_for_readyz(200, Duration::from_secs(5)).await;
    app.stop().await.unwrap();
}

#[tokio::test]
async fn metrics_are_served_in_prometheus_text_format() {
    let app = spawn_app().await;
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), 200);
    let content_type = response.headers()["content-type"].to_str().unwrap().to_string();
    assert!(content_type.starts_with("text/plain"), "{content_type}");
    let text = response.text().await.unwrap();
    assert!(text.contains("# HELP hubsync_build_info"), "{text}");
    assert!(text.contains("hubsync_database_ready 1"), "{text}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn shutdown_ends_soon_after_the_grace_period_even_while_a_request_hangs() {
    const OPERATE: &str = "operate-token-0123456789";
    let tokens = "[[admin.tokens]]\nname = \"oncall\"\nscope = \"operate\"\n\
                  token = { env = \"OPERATE_TOKEN\" }\n";
    let env = [("OPERATE_TOKEN", OPERATE), ("HUBSYNC__SHUTDOWN__GRACE_PERIOD", "500ms")];
    let app = spawn_app_with(tokens, &env).await;
    // a client that sends its headers and half its body, then goes quiet
    let mut stalled = tokio::net::TcpStream::connect(app.addr).await.unwrap();
    let request = format!(
        "POST /api/pause HTTP/1.1\r\nhost: hubsync\r\nauthorization: Bearer {OPERATE}\r\n\
         content-type: application/json\r\ncontent-length: 100\r\n\r\n{{\"sync\":"
    );
    stalled.write_all(request.as_bytes()).await.unwrap();
    tokio::time::sleep(Duration::from_millis(300)).await;

    let asked = std::time::Instant::now();
    let stopped = tokio::time::timeout(Duration::from_secs(5), app.stop()).await;
    assert!(stopped.is_ok(), "the app was still stopping 5 s after shutdown was requested");
    stopped.unwrap().expect("an abandoned request is no error");
    assert!(asked.elapsed() < Duration::from_secs(3), "took {:?}", asked.elapsed());
    drop(stalled);
}

fn postgres_addr(url: &str) -> std::net::SocketAddr {
    let parsed = reqwest::Url::parse(url).unwrap();
    let host = parsed.host_str().unwrap();
    let host = if host == "localhost" { "127.0.0.1" } else { host };
    format!("{host}:{}", parsed.port().unwrap_or(5432)).parse().unwrap()
}
