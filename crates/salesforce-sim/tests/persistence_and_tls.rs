//! Saving and loading state, the seed file, HTTPS, and the `salesforce-sim` command.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use salesforce_sim::{SalesforceSim, Seed, SimConfig};
use serde_json::json;

use super::{Sf, test_config};

fn temp_path(name: &str) -> std::path::PathBuf {
    std::env::temp_dir().join(format!("hubsync-{}-{name}", uuid::Uuid::new_v4()))
}

#[tokio::test]
async fn saved_state_is_loaded_back_by_a_new_simulator() {
    let sf = Sf::start().await;
    let id = sf.create("Contact", json!({"LastName": "Kept", "HubSpot_Id__c": "h1"})).await;
    let gone = sf.contact("Gone").await;
    sf.sim.delete_as_user(&gone).unwrap();
    let path = temp_path("state.json");
    sf.sim.save_state(&path).unwrap();
    sf.sim.stop().await.unwrap();
    let again = SalesforceSim::start_with_state(test_config(), &path).await.unwrap();
    assert_eq!(again.record(&id).unwrap()["LastName"], "Kept");
    assert_eq!(again.record(&gone).unwrap()["IsDeleted"], true);
    assert_eq!(again.find("Contact", "HubSpot_Id__c", "h1").len(), 1, "indexes are rebuilt");
    let token = again.access_token();
    let created = reqwest::Client::new()
        .post(format!("{}/sobjects/Contact", again.data_url("v59.0")))
        .bearer_auth(token)
        .json(&json!({"LastName": "New"}))
        .send()
        .await
        .unwrap();
    let new_id =
        created.json::<serde_json::Value>().await.unwrap()["id"].as_str().unwrap().to_string();
    assert!(new_id > gone, "ids continue after the saved ones");
    std::fs::remove_file(path).ok();
}

#[tokio::test]
async fn a_seed_file_creates_custom_objects_fields_and_linked_records() {
    let seed = Seed::from_json(
        r#"{
          "customObjects": [{"name": "Deal__c", "fields": [{"name": "Code__c", "type": "string", "externalId": true, "unique": true}]}],
          "customFields": {"Contact": [{"name": "Score__c", "type": "double"}]},
          "records": {
            "Contact": [{"LastName": "Ng", "AccountId": "@Account#0", "Score__c": 4.5}],
            "Account": [{"Name": "Acme"}],
            "Deal__c": [{"Name": "D1", "Code__c": "X-1"}]
          }
        }"#,
    )
    .unwrap();
    let sf = Sf::start_with(SimConfig { seed, ..SimConfig::default() }).await;
    let rows = sf.rows("SELECT Id, AccountId, Score__c FROM Contact").await;
    let account = sf.rows("SELECT Id FROM Account WHERE Name = 'Acme'").await;
    assert_eq!(rows[0]["AccountId"], account[0]["Id"]);
    assert_eq!(rows[0]["Score__c"], 4.5);
    assert_eq!(sf.get("/sobjects/Deal__c/Code__c/X-1").await.body["Name"], "D1");
}

#[tokio::test]
async fn a_bad_seed_stops_start_up_with_a_message() {
    let seed =
        Seed::from_json(r#"{"records": {"Contact": [{"FirstName": "no last name"}]}}"#).unwrap();
    let err = SalesforceSim::start(SimConfig { seed, ..SimConfig::default() }).await.err().unwrap();
    assert!(err.to_string().contains("REQUIRED_FIELD_MISSING"), "{err}");
}

#[tokio::test]
async fn a_tls_simulator_serves_https_with_its_self_signed_certificate() {
    let config = SimConfig { tls: true, ..test_config() };
    let sim = SalesforceSim::start(config).await.unwrap();
    assert!(sim.base_url().starts_with("https://127.0.0.1:"));
    let certificate =
        reqwest::Certificate::from_pem(sim.certificate_pem().unwrap().as_bytes()).unwrap();
    let client = reqwest::Client::builder().add_root_certificate(certificate).build().unwrap();
    let response = client
        .get(format!("{}/sobjects/", sim.data_url("v59.0")))
        .bearer_auth(sim.access_token())
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 200);
    sim.stop().await.unwrap();
}

fn spawn_cli(args: &[&str]) -> (std::process::Child, String) {
    let stderr =
        if std::env::var_os("TEST_LOG").is_some() { Stdio::inherit() } else { Stdio::null() };
    let mut child = Command::new(env!("CARGO_BIN_EXE_salesforce-sim"))
        .args(["--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(stderr)
        .spawn()
        .expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.as_mut().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().to_string())
}

fn terminate(child: &mut std::process::Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "a graceful stop exits 0");
}

async fn cli_token(http: &reqwest::Client, base: &str) -> String {
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "cli-id"),
        ("client_secret", "cli-secret"),
    ];
    let response =
        http.post(format!("{base}/services/oauth2/token")).form(&form).send().await.unwrap();
    let body: serde_json::Value = response.json().await.unwrap();
    body["access_token"].as_str().expect("a token").to_string()
}

#[tokio::test]
async fn the_sim_command_prints_its_url_serves_and_persists_state_on_sigterm() {
    let seed = temp_path("seed.json");
    std::fs::write(&seed, r#"{"customFields": {"Contact": [{"name": "Ext__c", "type": "string", "externalId": true}]}}"#).unwrap();
    let state = temp_path("state.json");
    let (seed_arg, state_arg) = (seed.to_str().unwrap(), state.to_str().unwrap());
    let args = [
        "--seed",
        seed_arg,
        "--state",
        state_arg,
        "--client-id",
        "cli-id",
        "--client-secret",
        "cli-secret",
    ];
    let (mut child, base) = spawn_cli(&args);
    assert!(base.starts_with("http://127.0.0.1:"), "{base}");
    let http = reqwest::Client::new();
    let token = cli_token(&http, &base).await;
    let upsert = http
        .patch(format!("{base}/services/data/v59.0/sobjects/Contact/Ext__c/e-1"))
        .bearer_auth(&token)
        .json(&json!({"LastName": "Persisted"}))
        .send()
        .await
        .unwrap();
    assert_eq!(upsert.status(), 201);
    terminate(&mut child);
    assert!(state.exists(), "state saved on SIGTERM");
    let (mut child, base) = spawn_cli(&args);
    let token = cli_token(&http, &base).await;
    let read = http
        .get(format!("{base}/services/data/v59.0/sobjects/Contact/Ext__c/e-1"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(read.json::<serde_json::Value>().await.unwrap()["LastName"], "Persisted");
    terminate(&mut child);
    std::fs::remove_file(seed).ok();
    std::fs::remove_file(state).ok();
}

#[tokio::test]
async fn the_sim_command_serves_https_with_tls() {
    let cert = temp_path("cert.pem");
    let (mut child, base) = spawn_cli(&["--tls", "--tls-cert-out", cert.to_str().unwrap()]);
    assert!(base.starts_with("https://"), "{base}");
    let pem = std::fs::read(&cert).unwrap();
    let client = reqwest::Client::builder()
        .add_root_certificate(reqwest::Certificate::from_pem(&pem).unwrap())
        .build()
        .unwrap();
    let response = client.get(format!("{base}/services/data/")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    terminate(&mut child);
    std::fs::remove_file(cert).ok();
}

#[tokio::test]
async fn the_sim_command_without_credentials_accepts_the_default_sim_client_and_secret() {
    let (mut child, base) = spawn_cli(&[]);
    let http = reqwest::Client::new();
    let token = |id: &'static str, secret: &'static str| {
        let request = http.post(format!("{base}/services/oauth2/token")).form(&[
            ("grant_type", "client_credentials"),
            ("client_id", id),
            ("client_secret", secret),
        ]);
        async move { request.send().await.unwrap() }
    };
    let granted = token("sim-client", "sim-secret").await;
    assert_eq!(granted.status(), 200);
    let body: serde_json::Value = granted.json().await.unwrap();
    let access = body["access_token"].as_str().expect("a token");
    let limits =
        http.get(format!("{base}/services/data/v59.0/limits")).bearer_auth(access).send().await;
    assert_eq!(limits.unwrap().status(), 200, "the token works");
    assert_eq!(token("sim-client", "wrong").await.status(), 400);
    terminate(&mut child);
}

#[tokio::test]
async fn the_sim_command_serves_its_stats_and_takes_faults_over_http() {
    let (mut child, base) = spawn_cli(&[]);
    let http = reqwest::Client::new();
    let rule =
        serde_json::json!({"path": "/services/oauth2/token", "fault": {"preset": "unavailable"}});
    let added = http.post(format!("{base}/__sim/faults")).json(&rule).send().await.unwrap();
    assert_eq!(added.status(), 201);
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "sim-client"),
        ("client_secret", "sim-secret"),
    ];
    let token_url = format!("{base}/services/oauth2/token");
    assert_eq!(http.post(&token_url).form(&form).send().await.unwrap().status(), 503);
    assert_eq!(http.post(&token_url).form(&form).send().await.unwrap().status(), 200);
    let stats: serde_json::Value =
        http.get(format!("{base}/__sim/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(stats["by_status"], serde_json::json!({"200": 1, "503": 1}), "{stats}");
    terminate(&mut child);
}
