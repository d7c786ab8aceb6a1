//! Secrets and personal data never leave hubsync through logs, metrics, error columns or API
//! answers (catalog T38): the real binary, run with canary secrets and a canary contact, is
//! pushed through a forged and a malformed webhook, rate limits, server errors, a dropped
//! connection, a permanent rejection, bad admin requests and an invalid config.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use hubspot_sim::{AppToken, HubspotSim, RateProfile};
use hubsync::connector::hubspot::webhook::v3_signature;
use salesforce_sim::SalesforceSim;
use serde_json::{Value, json};
use sim_kit::faults::{Fault, FaultRule, Trigger};
use sqlx::PgPool;
use testkit::sims::{ConnectorsToml, HubspotToml, RateLimit, SalesforceToml, SecretSource};

use crate::support::binary::{RunningBinary, hubsync, run, text};
use crate::support::database::TestDatabase;

const HS_TOKEN: &str = "canary-hs-token-5b1f0a";
const SF_SECRET: &str = "canary-sf-secret-8c2e4d";
const WEBHOOK_SECRET: &str = "canary-webhook-secret-3d7a9b";
const ADMIN_TOKEN: &str = "canary-admin-token-9e4b7c";
const DB_PASSWORD: &str = "canary-db-password-1f6c2e";
const EMAIL: &str = "canary+pii@example.invalid";
const NAME: &str = "Quillfeatherby";
const PUBLIC_URL: &str = "https://hooks.example.com/webhooks/hubspot";

/// Every canary, and how it would look URL-encoded.
fn canaries() -> Vec<String> {
    let plain = [HS_TOKEN, SF_SECRET, WEBHOOK_SECRET, ADMIN_TOKEN, DB_PASSWORD, EMAIL, NAME];
    let mut all: Vec<String> = plain.iter().map(|c| c.to_lowercase()).collect();
    all.extend(["canary%2bpii", "canary%2Bpii", "canary pii@", "quillfeatherby"].map(String::from));
    all
}

/// The canaries `text` holds.
fn leaked(text: &str) -> Vec<String> {
    let lower = text.to_lowercase();
    canaries().into_iter().filter(|c| lower.contains(&c.to_lowercase())).collect()
}

fn assert_clean(what: &str, text: &str) {
    let found = leaked(text);
    assert!(found.is_empty(), "{what} holds canaries {found:?}:\n{text}");
}

async fn hubspot_sim() -> HubspotSim {
    let config = hubspot_sim::SimConfig {
        tokens: vec![AppToken { token: HS_TOKEN.into(), app_id: 54321 }],
        rate: RateProfile::UNLIMITED,
        ..Default::default()
    };
    let sim = HubspotSim::start(config).await.expect("hubspot simulator starts");
    sim.create_property(
        "contacts",
        json!({"name": "salesforce_id", "label": "Salesforce id", "type": "string",
               "fieldType": "text", "groupName": "sync", "hasUniqueValue": true}),
    )
    .expect("unique property created");
    sim
}

async fn salesforce_sim() -> SalesforceSim {
    let seed = salesforce_sim::Seed::default().with_external_id("Contact", "HubSpot_Id__c", true);
    let config = salesforce_sim::SimConfig {
        client_secret: SF_SECRET.into(),
        seed,
        daily_api_limit: 10_000_000,
        ..Default::default()
    };
    SalesforceSim::start(config).await.expect("salesforce simulator starts")
}

fn config(hubspot: &HubspotSim, salesforce: &SalesforceSim) -> String {
    let connectors =
        ConnectorsToml::with(HubspotToml::new(hubspot), SalesforceToml::new(salesforce))
            .for_sync()
            .hubspot_rate(RateLimit::generous())
            .secrets_from_env("HS_TOKEN_VAR", "SF_SECRET_VAR");
    let webhooks = testkit::sims::webhooks_toml(PUBLIC_URL, &SecretSource::Env("HOOK_VAR".into()));
    let admin = "\n[[admin.tokens]]\nname = \"oncall\"\nscope = \"operate\"\n\
                 token = { env = \"ADMIN_VAR\" }\n";
    format!(
        "{}{webhooks}{admin}\n{}",
        connectors.render(),
        crate::sync::contacts("newest_wins", "flag")
    )
}

/// `hubsync` with the canary secrets in its environment and the database password in its URL.
fn with_secrets(config: &Path, database_url: &str) -> Command {
    let url = database_url.replacen(
        "postgres://postgres@",
        &format!("postgres://postgres:{DB_PASSWORD}@"),
        1,
    );
    let mut command = hubsync();
    command.arg("--config").arg(config).args(["--log-level", "info,hubsync=debug"]);
    command.env("DATABASE_URL", url).env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0");
    command.env("HS_TOKEN_VAR", HS_TOKEN).env("SF_SECRET_VAR", SF_SECRET);
    command.env("HOOK_VAR", WEBHOOK_SECRET).env("ADMIN_VAR", ADMIN_TOKEN);
    for (key, value) in testkit::settings::fast(&[("HUBSYNC__WRITER__MAX_ATTEMPTS", "3")]) {
        command.env(key, value);
    }
    command
}

fn respond(status: u16, body: Value) -> Fault {
    Fault::Respond { status, body, headers: vec![] }
}

/// Answers that quote the canary contact back, as real APIs do, and answers that make the
/// daemon's HTTP client fail with the request's URL (Salesforce's SOQL holds the email).
fn inject_faults(hubspot: &HubspotSim, salesforce: &SalesforceSim) {
    let echo = format!("lookup of {EMAIL} ({NAME}) failed");
    let search = "/crm/v3/objects/contacts/search";
    hubspot.faults().add(FaultRule::new(
        search,
        respond(
            429,
            json!({"status": "error",
        "message": format!("rate limit for {EMAIL}"), "policyName": "SECONDLY"}),
        ),
        Trigger::Next(2),
    ));
    hubspot.faults().add(FaultRule::new(
        search,
        respond(
            500,
            json!({"status": "error",
        "message": echo, "category": "INTERNAL_ERROR"}),
        ),
        Trigger::Next(1),
    ));
    hubspot.faults().add(FaultRule::new(
        search,
        respond(502, json!(format!("<html>proxy error for {EMAIL}</html>"))),
        Trigger::Next(1),
    ));
    // five of each: one whole lookup call (five attempts) fails with each, so the reconciler
    // logs and stores the error, then retries the row
    let query = "/services/data/*/query";
    salesforce.faults().add(FaultRule::new(query, Fault::DropMidBody, Trigger::Next(5)));
    salesforce.faults().add(FaultRule::new(
        query,
        respond(500, json!([{"message": echo, "errorCode": "UNKNOWN_EXCEPTION"}])),
        Trigger::Next(5),
    ));
    let rejected = json!([{"success": false, "errors": [{"statusCode": "INVALID_EMAIL_ADDRESS",
        "message": format!("invalid email address: {EMAIL}"), "fields": ["Email"]}]}]);
    let writes = FaultRule::new(
        "/services/data/*/composite/sobjects*",
        respond(200, rejected),
        Trigger::Next(100),
    );
    salesforce.faults().add(writes.method("PATCH"));
}

/// A forged and a signed but malformed delivery, each quoting the canary contact.
async fn webhooks(http: &reqwest::Client, admin: &str) -> Vec<String> {
    let url = format!("http://{admin}/webhooks/hubspot");
    let now = chrono::Utc::now().timestamp_millis().to_string();
    let body = json!([{"eventId": 1, "subscriptionId": 2, "portalId": 62515,
        "occurredAt": now, "subscriptionType": "contact.propertyChange", "objectId": EMAIL,
        "propertyName": "email", "propertyValue": EMAIL}])
    .to_string();
    let mut answers = Vec::new();
    for secret in ["not-the-secret", WEBHOOK_SECRET] {
        let signature = v3_signature(secret, "POST", PUBLIC_URL, body.as_bytes(), &now);
        let answer = http
            .post(&url)
            .body(body.clone())
            .header("X-HubSpot-Signature-v3", signature)
            .header("X-HubSpot-Request-Timestamp", &now)
            .send()
            .await
            .unwrap();
        answers.push(format!("{} {}", answer.status(), answer.text().await.unwrap()));
    }
    assert!(answers[0].starts_with("401"), "the forgery is refused: {answers:?}");
    answers
}

/// Admin requests the API refuses, each carrying the canary email.
async fn admin_refusals(http: &reqwest::Client, admin: &str) -> Vec<String> {
    let base = format!("http://{admin}");
    let requests = [
        // a key no record has (this contact's email would find it)
        http.get(format!("{base}/api/records/{NAME}-elsewhere")).bearer_auth(ADMIN_TOKEN),
        http.post(format!("{base}/api/journal/retry"))
            .bearer_auth(ADMIN_TOKEN)
            .json(&json!({"ids": [EMAIL]})),
        http.get(format!("{base}/api/journal?limit={EMAIL}")).bearer_auth(ADMIN_TOKEN),
        http.get(format!("{base}/api/status")).bearer_auth("canary+pii@example.invalid-token"),
    ];
    let mut answers = Vec::new();
    for (index, request) in requests.into_iter().enumerate() {
        let answer = request.send().await.unwrap();
        let status = answer.status();
        assert!(status.is_client_error(), "request {index} refused: {status}");
        answers.push(format!("{status} {}", answer.text().await.unwrap()));
    }
    answers
}

/// Every text or JSON column of hubsync's tables whose name says it holds an error, a reason
/// or a problem: the values it holds that mention a canary.
async fn error_columns(pool: &PgPool) -> Vec<String> {
    let columns: Vec<(String, String)> = sqlx::query_as(
        "select table_name::text, column_name::text from information_schema.columns
          where table_schema = 'hubsync' and data_type in ('text', 'jsonb', 'character varying')
            and (column_name like '%error%' or column_name like '%reason%'
                 or column_name in ('problem', 'message', 'detail'))",
    )
    .fetch_all(pool)
    .await
    .unwrap();
    assert!(columns.iter().any(|(t, c)| t == "outbox" && c == "last_error"), "{columns:?}");
    let mut found = Vec::new();
    for (table, column) in columns {
        let sql = format!("select {column}::text from hubsync.{table} where {column} is not null");
        let values: Vec<String> = sqlx::query_scalar(&sql).fetch_all(pool).await.unwrap();
        for value in values {
            if !leaked(&value).is_empty() {
                found.push(format!("{table}.{column}: {value}"));
            }
        }
    }
    found
}

async fn wait_for_rejection(pool: &PgPool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    loop {
        let failed: i64 = sqlx::query_scalar(
            "select count(*) from hubsync.outbox where status in ('failed', 'dead')",
        )
        .fetch_one(pool)
        .await
        .unwrap_or(0);
        if failed > 0 {
            return;
        }
        assert!(tokio::time::Instant::now() < deadline, "the write was never rejected");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn no_secret_or_personal_value_reaches_logs_metrics_error_columns_or_api_answers() {
    crate::support::init_test_log();
    let (hubspot, salesforce) = (hubspot_sim().await, salesforce_sim().await);
    let db = TestDatabase::create().await;
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("hubsync.toml");
    std::fs::write(&file, config(&hubspot, &salesforce)).unwrap();
    inject_faults(&hubspot, &salesforce);
    let person = json!({"email": EMAIL, "firstname": NAME, "lastname": NAME});
    hubspot.create_as_user("contacts", person, 7).unwrap();

    let mut daemon =
        RunningBinary::spawn(with_secrets(&file, &db.url).args(["--log-format", "json", "run"]));
    let line = daemon.wait_for_line("admin server listening", Duration::from_secs(30));
    let admin =
        serde_json::from_str::<Value>(&line).unwrap()["admin"].as_str().unwrap().to_string();
    let pool = PgPool::connect(&db.url).await.unwrap();
    wait_for_rejection(&pool).await;
    let http = reqwest::Client::new();
    let mut answers = webhooks(&http, &admin).await;
    answers.extend(admin_refusals(&http, &admin).await);
    let metrics =
        http.get(format!("http://{admin}/metrics")).send().await.unwrap().text().await.unwrap();
    tokio::time::sleep(Duration::from_secs(2)).await;
    daemon.send_signal("TERM");
    let logs = tokio::task::spawn_blocking(move || {
        daemon.wait_for_exit(Duration::from_secs(30));
        daemon.all_output()
    })
    .await
    .unwrap();

    let invalid = run(with_secrets(&file, &db.url)
        .env("HUBSYNC__DATABASE__MAX_CONNECTIONS", "0")
        .arg("check-config"));
    assert!(!invalid.status.success(), "the invalid config is refused");
    let refused = format!("{}{}", text(&invalid.stdout), text(&invalid.stderr));

    assert!(logs.contains("quarantined"), "the malformed delivery was quarantined:\n{logs}");
    assert_clean("the daemon's log", &logs);
    assert_clean("/metrics", &metrics);
    assert_clean("the API's refusals", &answers.join("\n"));
    assert_clean("check-config's refusal", &refused);
    let columns = error_columns(&pool).await;
    assert!(columns.is_empty(), "error columns hold canaries: {columns:#?}");
    pool.close().await;
}

#[tokio::test]
async fn settings_print_secrets_and_the_database_password_redacted() {
    let (hubspot, salesforce) = (hubspot_sim().await, salesforce_sim().await);
    let url = format!("postgres://postgres:{DB_PASSWORD}@127.0.0.1:5432/hubsync");
    let env = [
        ("HS_TOKEN_VAR", HS_TOKEN),
        ("SF_SECRET_VAR", SF_SECRET),
        ("HOOK_VAR", WEBHOOK_SECRET),
        ("ADMIN_VAR", ADMIN_TOKEN),
    ];
    let file = config(&hubspot, &salesforce);
    let settings = testkit::settings::test_settings_with_file(&url, Some(&file), &env);
    let debug = format!("{settings:?}");
    assert!(debug.contains("[redacted]"), "{debug}");
    assert_clean("Debug of the settings", &debug);
    assert_clean("the rendered settings", &hubsync::config::render_redacted(&settings));
}
