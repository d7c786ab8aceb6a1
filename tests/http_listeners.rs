//! The daemon's HTTP listeners as an internet client sees them: a webhook listener of its
//! own serves the webhook alone, and slow, oversized or too many clients hold neither.

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use hubsync::connector::hubspot::webhook::v3_signature;
use serde_json::json;
use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWriteExt, BufReader};
use tokio::net::TcpStream;

use crate::support::app::{TestApp, spawn_app_with};

const SECRET: &str = "webhook-client-secret";
const PUBLIC: &str = "https://hooks.example.com/webhooks/hubspot";

/// The daemon with a HubSpot receiver; `extra` is TOML placed before its table.
async fn daemon(extra: &str) -> TestApp {
    let file = format!(
        "[connectors.hubspot]\nkind = \"hubspot\"\n\
         auth = {{ method = \"private_app\", token = {{ env = \"HS_TOKEN\" }} }}\n\
         {extra}\n[webhooks.hubspot]\npublic_url = \"{PUBLIC}\"\n\
         client_secret = {{ env = \"HS_SECRET\" }}\n"
    );
    spawn_app_with(&file, &[("HS_TOKEN", "sim-token"), ("HS_SECRET", SECRET)]).await
}

fn event(event_id: u64) -> String {
    json!([{"eventId": event_id, "subscriptionId": 1, "portalId": 62515,
            "occurredAt": chrono::Utc::now().timestamp_millis(),
            "subscriptionType": "contact.creation", "objectId": 123}])
    .to_string()
}

/// Posts `body` signed as HubSpot signs it for the public URL, to the listener at `addr`.
async fn deliver(addr: SocketAddr, body: String) -> u16 {
    let now = chrono::Utc::now().timestamp_millis().to_string();
    let signature = v3_signature(SECRET, "POST", PUBLIC, body.as_bytes(), &now);
    let response = reqwest::Client::new()
        .post(format!("http://{addr}/webhooks/hubspot"))
        .header("X-HubSpot-Signature-v3", signature)
        .header("X-HubSpot-Request-Timestamp", now)
        .body(body)
        .send()
        .await
        .unwrap();
    response.status().as_u16()
}

/// The status line the server answers with, or `None` when it closes without one.
async fn status_line(stream: impl AsyncRead + Unpin) -> Option<String> {
    let mut line = String::new();
    match BufReader::new(stream).read_line(&mut line).await {
        Ok(0) | Err(_) => None,
        Ok(_) => Some(line),
    }
}

#[tokio::test]
async fn a_webhook_listener_of_its_own_serves_only_the_webhook_and_the_admin_listener_the_rest() {
    let app = daemon("[webhooks]\nlisten = \"127.0.0.1:0\"\n").await;
    let hooks = app.webhook_addr.expect("a webhook listener");
    assert_ne!(hooks, app.addr);
    let http = reqwest::Client::new();
    for path in ["/metrics", "/api/status", "/api/journal", "/readyz", "/healthz", "/"] {
        let status = http.get(format!("http://{hooks}{path}")).send().await.unwrap().status();
        assert_eq!(status, 404, "{path} is not served on the webhook listener");
    }
    assert_eq!(deliver(hooks, event(1)).await, 200, "the webhook is");
    assert_eq!(deliver(app.addr, event(2)).await, 404, "and only there");
    assert_eq!(app.get("/metrics").await.status(), 200, "the admin listener keeps the rest");
    let journalled: i64 = sqlx::query_scalar("select count(*) from hubsync.journal")
        .fetch_one(&app.pool)
        .await
        .unwrap();
    assert_eq!(journalled, 1);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn without_a_webhook_listener_the_webhook_is_served_on_the_admin_listener() {
    let app = daemon("").await;
    assert_eq!(app.webhook_addr, None);
    assert_eq!(deliver(app.addr, event(1)).await, 200);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_body_dripped_a_byte_a_second_is_cut_off_at_the_read_timeout_and_others_are_served() {
    let app = daemon("[http]\nbody_read_timeout = \"1s\"\n").await;
    let slow = TcpStream::connect(app.addr).await.unwrap();
    let (read, mut write) = slow.into_split();
    let head = "POST /webhooks/hubspot HTTP/1.1\r\nhost: x\r\ncontent-length: 100\r\n\r\n";
    write.write_all(head.as_bytes()).await.unwrap();
    let started = Instant::now();
    let drip = tokio::spawn(async move {
        for _ in 0..100 {
            if write.write_all(b"[").await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_secs(1)).await;
        }
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert_eq!(deliver(app.addr, event(1)).await, 200, "other clients are served meanwhile");

    let answer = tokio::time::timeout(Duration::from_secs(5), status_line(read)).await;
    let answer = answer.expect("the slow client is still held 5 s later");
    assert!(answer.as_deref().is_none_or(|l| l.contains(" 408 ")), "{answer:?}");
    assert!(started.elapsed() >= Duration::from_millis(900), "cut off at the timeout, not before");
    drip.abort();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn headers_dripped_slowly_are_cut_off_at_the_header_read_timeout() {
    let app = daemon("[http]\nheader_read_timeout = \"1s\"\n").await;
    let slow = TcpStream::connect(app.addr).await.unwrap();
    let (read, mut write) = slow.into_split();
    let drip = tokio::spawn(async move {
        for byte in b"GET /healthz HTTP/1.1\r\nhost: hubsync\r\nx-slow: ".iter().cycle() {
            if write.write_all(&[*byte]).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    });
    let answer = tokio::time::timeout(Duration::from_secs(5), status_line(read)).await;
    let answer = answer.expect("the slow client is still held 5 s later");
    assert!(answer.as_deref().is_none_or(|l| l.contains(" 408 ")), "{answer:?}");
    drip.abort();
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_declared_body_over_the_limit_is_refused_with_413_before_it_is_read() {
    let app = daemon("").await;
    for path in ["/webhooks/hubspot", "/api/pause"] {
        let mut stream = TcpStream::connect(app.addr).await.unwrap();
        let head = format!("POST {path} HTTP/1.1\r\nhost: x\r\ncontent-length: 10485760\r\n\r\n");
        stream.write_all(head.as_bytes()).await.unwrap();
        let answer = tokio::time::timeout(Duration::from_secs(2), status_line(stream)).await;
        let answer = answer.unwrap_or_else(|_| panic!("{path} waited for a body it must refuse"));
        assert!(answer.as_deref().is_some_and(|l| l.contains(" 413 ")), "{path}: {answer:?}");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn past_the_connection_limit_a_client_waits_until_another_leaves() {
    let app = daemon("[webhooks]\nlisten = \"127.0.0.1:0\"\n[http]\nmax_connections = 2\n").await;
    let hooks = app.webhook_addr.unwrap();
    let first = TcpStream::connect(hooks).await.unwrap();
    let _second = TcpStream::connect(hooks).await.unwrap();
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut third = TcpStream::connect(hooks).await.unwrap();
    third
        .write_all(b"GET /nowhere HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n")
        .await
        .unwrap();
    let (read, _write) = third.into_split();
    let mut read = Box::pin(status_line(read));
    let early = tokio::time::timeout(Duration::from_millis(500), read.as_mut()).await;
    assert!(early.is_err(), "a third connection was served past the limit of two: {early:?}");
    drop(first);
    let answer = tokio::time::timeout(Duration::from_secs(5), read).await;
    let answer = answer.expect("served once a connection left");
    assert!(answer.as_deref().is_some_and(|l| l.contains(" 404 ")), "{answer:?}");
    assert_eq!(app.get("/healthz").await.status(), 200, "the admin listener has its own limit");
    app.stop().await.unwrap();
}
