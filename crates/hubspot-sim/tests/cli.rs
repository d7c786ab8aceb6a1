//! `hubspot-sim`: prints its base URL, serves, stops on SIGTERM and saves its state.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

use serde_json::json;

fn start(state: &std::path::Path, seed: Option<&std::path::Path>) -> (std::process::Child, String) {
    let mut args: Vec<std::ffi::OsString> = vec!["--token".into(), "cli-token".into()];
    args.extend(["--state".into(), state.as_os_str().to_owned()]);
    if let Some(seed) = seed {
        args.extend(["--seed".into(), seed.as_os_str().to_owned()]);
    }
    spawn(&args)
}

/// Starts `hubspot-sim --listen 127.0.0.1:0 ARGS…` and reads the base URL it prints.
fn spawn(args: &[std::ffi::OsString]) -> (std::process::Child, String) {
    let mut command = Command::new(env!("CARGO_BIN_EXE_hubspot-sim"));
    command.args(["--listen", "127.0.0.1:0"]).args(args);
    let mut child =
        command.stdout(Stdio::piped()).stderr(Stdio::null()).spawn().expect("the binary starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().to_string())
}

async fn status_with(http: &reqwest::Client, base_url: &str, token: &str) -> reqwest::Response {
    http.get(format!("{base_url}/crm/v3/objects/contacts"))
        .bearer_auth(token)
        .send()
        .await
        .expect("the simulator answers")
}

fn terminate(mut child: std::process::Child) {
    let kill = format!("kill -TERM {}", child.id());
    Command::new("sh").args(["-c", &kill]).status().unwrap();
    assert!(child.wait().unwrap().success(), "a SIGTERM stops it cleanly");
}

#[tokio::test]
async fn the_standalone_simulator_loads_a_seed_and_resumes_from_its_saved_state() {
    let dir = std::env::temp_dir().join(format!("hubsync-cli-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let (seed, state) = (dir.join("seed.json"), dir.join("state.json"));
    let seed_body = json!({
        "owners": [{"email": "o@example.com", "firstName": "O"}],
        "records": {"contacts": [{"key": "ann", "properties": {"email": "ann@example.com"}}],
                    "companies": [{"key": "acme", "properties": {"name": "Acme"}}]},
        "associations": [{"from": "contacts:ann", "to": "companies:acme", "typeId": 1}]});
    std::fs::write(&seed, seed_body.to_string()).unwrap();
    let (child, base_url) = start(&state, Some(&seed));
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    let http = reqwest::Client::new();
    let created = http
        .post(format!("{base_url}/crm/v3/objects/contacts"))
        .bearer_auth("cli-token")
        .json(&json!({"properties": {"email": "bea@example.com"}}))
        .send()
        .await
        .unwrap();
    assert_eq!(created.status(), 201);
    let refused = http
        .get(format!("{base_url}/crm/v3/objects/contacts"))
        .bearer_auth("sim-token")
        .send()
        .await
        .unwrap();
    assert_eq!(refused.status(), 401, "only the given tokens are accepted");
    terminate(child);
    assert!(state.exists());
    let (child, base_url) = start(&state, None);
    let read = http
        .get(format!("{base_url}/crm/v3/objects/contacts/bea@example.com?idProperty=email"))
        .bearer_auth("cli-token")
        .send()
        .await
        .unwrap();
    assert_eq!(read.status(), 200);
    let owners: serde_json::Value = http
        .get(format!("{base_url}/crm/v3/owners"))
        .bearer_auth("cli-token")
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert_eq!(owners["results"][0]["email"], json!("o@example.com"));
    terminate(child);
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn the_standalone_simulator_takes_a_profile_and_several_tokens() {
    let args: Vec<std::ffi::OsString> =
        ["--profile", "custom:7:5000", "--token", "a", "--token", "b"].map(Into::into).into();
    let (child, base_url) = spawn(&args);
    let http = reqwest::Client::new();
    for token in ["a", "b"] {
        let reply = status_with(&http, &base_url, token).await;
        assert_eq!(reply.status(), 200, "token {token} is accepted");
        let header = |name: &str| reply.headers()[name].to_str().unwrap().to_string();
        assert_eq!(header("x-hubspot-ratelimit-max"), "7", "the profile's burst limit");
        assert_eq!(header("x-hubspot-ratelimit-daily"), "5000", "the profile's daily limit");
    }
    for token in ["c", "sim-token"] {
        let reply = status_with(&http, &base_url, token).await;
        assert_eq!(reply.status(), 401, "token {token} was not given");
    }
    terminate(child);
}

#[tokio::test]
async fn without_a_token_the_standalone_simulator_accepts_sim_token() {
    let args: Vec<std::ffi::OsString> = ["--profile", "free"].map(Into::into).into();
    let (child, base_url) = spawn(&args);
    let http = reqwest::Client::new();
    let reply = status_with(&http, &base_url, "sim-token").await;
    assert_eq!(reply.status(), 200);
    assert_eq!(reply.headers()["x-hubspot-ratelimit-max"], "100", "the free profile");
    assert_eq!(status_with(&http, &base_url, "cli-token").await.status(), 401);
    terminate(child);
}

#[tokio::test]
async fn the_process_serves_its_stats_and_takes_faults_over_http() {
    let (child, base_url) = spawn(&["--token".into(), "t".into()]);
    let http = reqwest::Client::new();
    let rule = json!({"path": "/crm/v3/objects/*", "fault": {"respond": {"status": 503}}});
    let added = http.post(format!("{base_url}/__sim/faults")).json(&rule).send().await.unwrap();
    assert_eq!(added.status(), 201);
    assert_eq!(status_with(&http, &base_url, "t").await.status(), 503);
    assert_eq!(status_with(&http, &base_url, "t").await.status(), 200);
    let stats: serde_json::Value =
        http.get(format!("{base_url}/__sim/stats")).send().await.unwrap().json().await.unwrap();
    assert_eq!(
        (stats["requests"].clone(), stats["by_status"].clone(), stats["faults_fired"].clone()),
        (json!(2), json!({"200": 1, "503": 1}), json!(1))
    );
    terminate(child);
}
