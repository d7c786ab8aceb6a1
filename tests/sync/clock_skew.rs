//! The daemon's clock a minute off, both ways, under `faketime` (catalog T40): CRM
//! timestamps are compared with the CRM's own time, measured from its answers' `Date`
//! headers, so no edit looks stale and no poll waits on the host's clock.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use hubspot_sim::RateProfile;
use serde_json::{Value, json};
use sqlx::PgPool;
use testkit::sims::simulators;

use super::{config_file, contacts};
use crate::support::binary::RunningBinary;
use crate::support::database::TestDatabase;

/// The real binary with its clock shifted by `shift` (`+60s`, `-60s`). The test fails, and
/// says how to install it, when `faketime` is missing: CI installs it.
fn spawn_shifted(config: &Path, database_url: &str, shift: &str) -> (RunningBinary, String) {
    spawn_shifted_with(config, database_url, shift, &[])
}

/// [`spawn_shifted`] with extra environment variables.
fn spawn_shifted_with(
    config: &Path,
    database_url: &str,
    shift: &str,
    extra: &[(&str, &str)],
) -> (RunningBinary, String) {
    let found = Command::new("faketime").arg("--help").output();
    assert!(found.is_ok(), "faketime is missing: apt-get install -y faketime");
    let mut command = Command::new("faketime");
    command.env_clear().env("PATH", std::env::var("PATH").unwrap_or_default());
    // tokio's timers stay on the real monotonic clock; only the wall clock is off
    command.env("FAKETIME_DONT_FAKE_MONOTONIC", "1");
    command.args(["-f", shift, env!("CARGO_BIN_EXE_hubsync")]);
    command.arg("--config").arg(config).args(["--log-format", "json", "run"]);
    command.env("DATABASE_URL", database_url).env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0");
    for (key, value) in testkit::settings::fast(extra) {
        command.env(key, value);
    }
    let mut daemon = RunningBinary::spawn(&mut command);
    let line = daemon.wait_for_line("admin server listening", Duration::from_secs(30));
    let log: Value = serde_json::from_str(&line).expect("a json log line");
    let admin = log["admin"].as_str().expect("the admin address").to_string();
    (daemon, admin)
}

async fn wait_until<F, Fut>(what: &str, within: Duration, check: F)
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = bool>,
{
    let deadline = tokio::time::Instant::now() + within;
    while !check().await {
        assert!(tokio::time::Instant::now() < deadline, "{what} did not happen within {within:?}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn partner(pool: &PgPool, hubspot_id: u64) -> Option<String> {
    sqlx::query_scalar("select external_id from hubsync.links where hubspot_id = $1")
        .bind(hubspot_id.to_string())
        .fetch_optional(pool)
        .await
        .unwrap_or(None)
}

/// `/readyz` names the skew (beyond the default `admin.max_clock_skew` of 30 s), so an
/// operator learns of it before HubSpot's webhooks are refused as stale.
async fn assert_unready_for_skew(admin: &str) {
    let response = reqwest::get(format!("http://{admin}/readyz")).await.unwrap();
    assert_eq!(response.status(), 503);
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["code"], "clock_skew", "{body}");
    assert!(body["connector"].is_string(), "{body}");
}

/// The skew each connector measured, from `/metrics`.
async fn measured_skew(admin: &str) -> Vec<(String, f64)> {
    let text = reqwest::get(format!("http://{admin}/metrics")).await.unwrap().text().await.unwrap();
    text.lines()
        .filter(|line| line.starts_with("hubsync_connector_clock_skew_seconds{"))
        .filter_map(|line| {
            let connector = line.split('"').nth(1)?.to_string();
            Some((connector, line.rsplit(' ').next()?.parse().ok()?))
        })
        .collect()
}

fn assert_skew(skews: &[(String, f64)], expected: f64) {
    assert_eq!(skews.len(), 2, "both connectors measure the skew: {skews:?}");
    for (connector, skew) in skews {
        assert!((skew - expected).abs() < 3.0, "{connector} measured {skew}s, not {expected}s");
    }
}

/// A contact created on HubSpot and linked; returns its ids on both sides.
async fn linked_contact(
    hubspot: &hubspot_sim::HubspotSim,
    pool: &PgPool,
    email: &str,
) -> (u64, String) {
    let props = json!({"email": email, "firstname": "Before", "lastname": "Skew"});
    let id = hubspot.create_as_user("contacts", props, 7).unwrap();
    let within = Duration::from_secs(20);
    wait_until("the link", within, || async { partner(pool, id).await.is_some() }).await;
    (id, partner(pool, id).await.unwrap())
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_clock_a_minute_ahead_keeps_an_edit_made_just_after_its_write() {
    crate::support::init_test_log();
    let (hubspot, salesforce) = simulators(RateProfile::UNLIMITED).await;
    let db = TestDatabase::create().await;
    let secrets = tempfile::tempdir().unwrap();
    let config = secrets.path().join("hubsync.toml");
    let rules = contacts("prefer_hubspot", "flag");
    std::fs::write(&config, config_file(&hubspot, &salesforce, &secrets, &rules)).unwrap();
    let (_daemon, admin) = spawn_shifted(&config, &db.url, "+60s");
    let pool = PgPool::connect(&db.url).await.unwrap();

    let (id, sf_id) = linked_contact(&hubspot, &pool, "ahead@skew.test").await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    // a user edits the Salesforce copy seconds after hubsync wrote it: a new edit, not a
    // stale one (hubsync's write landed before it on Salesforce's clock)
    salesforce.edit_as_user(&sf_id, json!({"FirstName": "AfterWrite"})).unwrap();
    let edited = || async {
        let record = hubspot.record("contacts", id).expect("the contact");
        record.properties.get("firstname").map(String::as_str) == Some("AfterWrite")
    };
    wait_until("the Salesforce edit reaching HubSpot", Duration::from_secs(20), edited).await;
    assert_skew(&measured_skew(&admin).await, 60.0);
    assert_unready_for_skew(&admin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_clock_a_minute_behind_still_sees_edits_within_the_search_safety_lag() {
    crate::support::init_test_log();
    let (hubspot, salesforce) = simulators(RateProfile::UNLIMITED).await;
    let db = TestDatabase::create().await;
    let secrets = tempfile::tempdir().unwrap();
    let config = secrets.path().join("hubsync.toml");
    let rules = contacts("newest_wins", "flag");
    std::fs::write(&config, config_file(&hubspot, &salesforce, &secrets, &rules)).unwrap();
    let (_daemon, admin) = spawn_shifted(&config, &db.url, "-60s");
    let pool = PgPool::connect(&db.url).await.unwrap();

    // the search's upper bound is the portal's now, not the host's a minute ago
    let (id, sf_id) = linked_contact(&hubspot, &pool, "behind@skew.test").await;
    hubspot.edit_as_user("contacts", id, json!({"firstname": "Later"}), 7).unwrap();
    let moved =
        || async { salesforce.record(&sf_id).is_some_and(|record| record["FirstName"] == "Later") };
    wait_until("the HubSpot edit reaching Salesforce", Duration::from_secs(20), moved).await;
    assert_skew(&measured_skew(&admin).await, -60.0);
    assert_unready_for_skew(&admin).await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_host_ten_minutes_ahead_refuses_real_time_webhooks_as_stale_until_its_clock_is_fixed() {
    use crate::webhook_receiver::{SECRET, property_event, v3_headers};
    let public = "https://hooks.example.com/webhooks/hubspot";
    let db = TestDatabase::create().await;
    let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    let config = format!(
        "[connectors.hubspot]\nkind = \"hubspot\"\nbase_url = \"http://127.0.0.1:9\"\n\
         auth = {{ method = \"private_app\", token = {{ env = \"HS_TOKEN\" }} }}\n\
         [webhooks.hubspot]\npublic_url = \"{public}\"\n\
         client_secret = {{ env = \"HS_SECRET\" }}\n"
    );
    std::fs::write(file.path(), config).unwrap();
    let env = [("HS_TOKEN", "sim-token"), ("HS_SECRET", SECRET)];
    let at = chrono::Utc::now().timestamp_millis() - 5_000;
    let body = Value::Array(vec![property_event(41, 501, "Skewed", at)]).to_string();
    let deliver = |admin: String| {
        let body = body.clone();
        async move {
            let headers = v3_headers(SECRET, public, &body, chrono::Utc::now().timestamp_millis());
            let mut request =
                reqwest::Client::new().post(format!("http://{admin}/webhooks/hubspot")).body(body);
            for (name, value) in headers {
                request = request.header(name, value);
            }
            let response = request.send().await.unwrap();
            (response.status().as_u16(), response.text().await.unwrap())
        }
    };

    let (mut ahead, admin) = spawn_shifted_with(file.path(), &db.url, "+600s", &env);
    wait_until("the skewed daemon to be up", Duration::from_secs(30), || async {
        reqwest::get(format!("http://{admin}/healthz")).await.is_ok()
    })
    .await;
    let (status, answer) = deliver(admin.clone()).await;
    assert_eq!((status, answer.contains("stale")), (401, true), "fails closed: {answer}");
    ahead.child.kill().unwrap();
    ahead.child.wait().unwrap();

    // the clock fixed, HubSpot's redelivery (it retries for a day) is accepted
    let (_fixed, admin) = spawn_shifted_with(file.path(), &db.url, "+0s", &env);
    let mut accepted = None;
    for _ in 0..100 {
        let (status, _) = deliver(admin.clone()).await;
        if status == 200 {
            accepted = Some(status);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(accepted, Some(200), "the redelivery is accepted once the clock is right");
    let pool = PgPool::connect(&db.url).await.unwrap();
    let rows: i64 =
        sqlx::query_scalar("select count(*) from hubsync.journal").fetch_one(&pool).await.unwrap();
    assert_eq!(rows, 1, "journalled once");
}
