//! `hubsync sim hubspot|salesforce`: the simulator crates behind hubsync's own command, with
//! their flags, their `/__sim/` routes, and a clean stop on SIGTERM.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::support::binary::{hubsync, run, text};

/// Starts `hubsync sim WHICH --listen 127.0.0.1:0 ARGS…` and reads the base URL it prints.
fn start(which: &str, args: &[&str]) -> (Child, String) {
    let mut child = hubsync()
        .args(["sim", which, "--listen", "127.0.0.1:0"])
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("hubsync starts");
    let mut line = String::new();
    BufReader::new(child.stdout.take().unwrap()).read_line(&mut line).unwrap();
    (child, line.trim().to_string())
}

fn terminate(mut child: Child) {
    let status = Command::new("kill").args(["-TERM", &child.id().to_string()]).status().unwrap();
    assert!(status.success());
    assert!(child.wait().unwrap().success(), "a SIGTERM stops it cleanly");
}

async fn sim_stats(http: &reqwest::Client, base_url: &str) -> serde_json::Value {
    let response = http.get(format!("{base_url}/__sim/stats")).send().await.unwrap();
    assert_eq!(response.status(), 200);
    response.json().await.unwrap()
}

#[tokio::test]
async fn hubsync_sim_hubspot_serves_the_hubspot_simulator_until_sigterm() {
    let (child, base_url) = start("hubspot", &["--token", "cli-token", "--profile", "unlimited"]);
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    let http = reqwest::Client::new();
    let contacts = http
        .get(format!("{base_url}/crm/v3/objects/contacts"))
        .bearer_auth("cli-token")
        .send()
        .await
        .unwrap();
    assert_eq!(contacts.status(), 200);
    assert_eq!(sim_stats(&http, &base_url).await["requests"], serde_json::json!(1));
    terminate(child);
}

#[tokio::test]
async fn hubsync_sim_salesforce_serves_the_salesforce_simulator_until_sigterm() {
    let (child, base_url) = start("salesforce", &["--client-id", "id", "--client-secret", "s"]);
    assert!(base_url.starts_with("http://127.0.0.1:"), "{base_url}");
    let http = reqwest::Client::new();
    let form = [("grant_type", "client_credentials"), ("client_id", "id"), ("client_secret", "s")];
    let token =
        http.post(format!("{base_url}/services/oauth2/token")).form(&form).send().await.unwrap();
    assert_eq!(token.status(), 200);
    assert_eq!(sim_stats(&http, &base_url).await["requests"], serde_json::json!(1));
    terminate(child);
}

#[test]
fn hubsync_sim_keeps_every_flag_of_both_simulators() {
    let hubspot = text(&run(hubsync().args(["sim", "hubspot", "--help"])).stdout);
    for flag in [
        "--listen",
        "--seed",
        "--state",
        "--profile",
        "--token",
        "--search-lag-ms",
        "--merge-keeps-primary-id",
        "--webhook-url",
        "--webhook-secret",
        "--webhook-event",
        "--webhook-retry-scale",
    ] {
        assert!(hubspot.contains(flag), "{flag} missing from:\n{hubspot}");
    }
    let salesforce = text(&run(hubsync().args(["sim", "salesforce", "--help"])).stdout);
    for flag in [
        "--listen",
        "--seed",
        "--state",
        "--tls",
        "--tls-cert-out",
        "--client-id",
        "--client-secret",
        "--jwt-cert",
        "--daily-api-limit",
        "--session-timeout",
    ] {
        assert!(salesforce.contains(flag), "{flag} missing from:\n{salesforce}");
    }
}
