//! HubSpot's official Python client against the simulator (`tests/fidelity/hubspot_client.py`).
//! Skipped with a note when the package is missing, except in CI, where it must run.

use std::process::Command;

use super::Sim;

fn client_installed() -> bool {
    Command::new("python3")
        .args(["-c", "import hubspot"])
        .output()
        .is_ok_and(|o| o.status.success())
}

#[tokio::test]
async fn the_official_python_client_works_against_the_simulator() {
    if !client_installed() {
        let why = "python3 cannot import `hubspot` (pip install hubspot-api-client)";
        assert!(std::env::var_os("CI").is_none(), "{why}; CI must install it");
        eprintln!("skipped: {why}");
        return;
    }
    let sim = Sim::start().await;
    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fidelity/hubspot_client.py");
    let (base_url, token) = (sim.sim.base_url().to_string(), sim.token.clone());
    let output = tokio::task::spawn_blocking(move || {
        Command::new("python3")
            .arg(script)
            .env("HUBSPOT_BASE_URL", base_url)
            .env("HUBSPOT_TOKEN", token)
            .output()
    })
    .await
    .unwrap()
    .expect("python3 runs");
    let report = format!(
        "{}\n{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(output.status.success(), "the Python client failed:\n{report}");
    assert!(report.contains("all checks passed"), "{report}");
}
