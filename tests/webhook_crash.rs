//! `kill -9` of the real binary while it journals a webhook batch (catalog T01, T02): HubSpot
//! gets a 200 only once the batch is committed, and its redelivery after a restart
//! journals each event exactly once.

use std::time::Duration;

use sqlx::PgPool;

use crate::support::binary::{RunningBinary, hubsync};
use crate::support::database::TestDatabase;
use crate::webhook_receiver::{SECRET, property_event, v3_headers};

const PUBLIC: &str = "https://hooks.example.com/webhooks/hubspot";
const REACHED: Duration = Duration::from_secs(30);

/// The daemon with only a webhook receiver, ready, and the URL it listens on.
async fn spawn(
    config: &std::path::Path,
    db: &TestDatabase,
    point: Option<&str>,
) -> (RunningBinary, String) {
    let mut command = hubsync();
    command
        .args(["--config", config.to_str().unwrap(), "--log-format", "json", "run"])
        .env("DATABASE_URL", &db.url)
        .env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0")
        .env("HS_TOKEN", "sim-token")
        .env("HS_SECRET", SECRET);
    if let Some(point) = point {
        command.env("HUBSYNC_FAILPOINTS", point);
    }
    let mut daemon = RunningBinary::spawn(&mut command);
    let line = daemon.wait_for_line("admin server listening", REACHED);
    let log: serde_json::Value = serde_json::from_str(&line).expect("a json log line");
    let admin = log["admin"].as_str().unwrap().to_string();
    let deadline = tokio::time::Instant::now() + REACHED;
    let ready = format!("http://{admin}/readyz");
    while reqwest::get(&ready).await.map(|r| r.status().as_u16()).unwrap_or(0) != 200 {
        assert!(tokio::time::Instant::now() < deadline, "the daemon never became ready");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    (daemon, format!("http://{admin}/webhooks/hubspot"))
}

fn config() -> tempfile::NamedTempFile {
    let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    let config = format!(
        "[connectors.hubspot]\nkind = \"hubspot\"\nbase_url = \"http://127.0.0.1:9\"\n\
         auth = {{ method = \"private_app\", token = {{ env = \"HS_TOKEN\" }} }}\n\
         [webhooks.hubspot]\npublic_url = \"{PUBLIC}\"\n\
         client_secret = {{ env = \"HS_SECRET\" }}\n"
    );
    std::fs::write(file.path(), config).unwrap();
    file
}

/// Three changes made at `at` (ms), as HubSpot's `attempt`-th delivery of them.
fn batch(at: i64, attempt: u64) -> String {
    let events: Vec<_> = (0..3u64)
        .map(|n| {
            let mut event = property_event(900 + n, 70 + n, &format!("v{n}"), at + n as i64);
            event["attemptNumber"] = attempt.into();
            event
        })
        .collect();
    serde_json::Value::Array(events).to_string()
}

/// Posts `body` signed as HubSpot would sign it now; the status, or None if the connection
/// ended without an answer.
async fn deliver(url: &str, body: &str) -> Option<u16> {
    let headers = v3_headers(SECRET, PUBLIC, body, chrono::Utc::now().timestamp_millis());
    let mut request = reqwest::Client::new().post(url).body(body.to_string());
    for (name, value) in headers {
        request = request.header(name, value);
    }
    request.timeout(Duration::from_secs(60)).send().await.ok().map(|r| r.status().as_u16())
}

async fn journalled(db: &TestDatabase) -> i64 {
    let pool = PgPool::connect(&db.url).await.unwrap();
    let n =
        sqlx::query_scalar("select count(*) from hubsync.journal").fetch_one(&pool).await.unwrap();
    pool.close().await;
    n
}

/// Delivers a batch to a daemon held at `point`, kills it there, and checks what the first
/// delivery got and what the journal held; then restarts it and delivers the batch again.
async fn kill_at(point: &str, journalled_at_kill: i64) {
    let db = TestDatabase::create().await;
    let file = config();
    let (mut daemon, url) = spawn(file.path(), &db, Some(&format!("{point}=pause"))).await;
    let at = chrono::Utc::now().timestamp_millis() - 10_000;
    let first = tokio::spawn({
        let (url, body) = (url.clone(), batch(at, 0));
        async move { deliver(&url, &body).await }
    });
    daemon.wait_for_line(&format!("fail point {point} reached"), REACHED);
    assert_eq!(journalled(&db).await, journalled_at_kill, "journalled when killed at {point}");
    daemon.child.kill().expect("SIGKILL is sent");
    daemon.child.wait().unwrap();
    assert_eq!(first.await.unwrap(), None, "HubSpot got no answer, so it delivers again");

    let (_daemon, url) = spawn(file.path(), &db, None).await;
    assert_eq!(deliver(&url, &batch(at, 1)).await, Some(200), "the redelivery is accepted");
    assert_eq!(journalled(&db).await, 3, "each event journalled exactly once");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_killed_after_committing_a_batch_but_before_answering_journals_its_redelivery_once()
 {
    kill_at("ingest::after_commit_before_ack", 3).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_killed_before_committing_a_batch_journals_nothing_until_the_redelivery() {
    kill_at("ingest::before_commit", 0).await;
}
