//! The real jsforce client against the simulator. CI installs it with
//! `npm --prefix crates/salesforce-sim/tests/fidelity ci` (from the workspace root); without
//! it, this test fails under CI and is skipped (with a note) elsewhere.

use std::path::Path;
use std::process::Stdio;

use super::Sf;

#[tokio::test]
async fn the_jsforce_client_queries_pages_upserts_describes_and_authenticates() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fidelity");
    if !dir.join("node_modules/jsforce").exists() {
        let why =
            "jsforce is not installed: run `npm --prefix crates/salesforce-sim/tests/fidelity ci`";
        assert!(std::env::var_os("CI").is_none(), "{why}");
        eprintln!("skipping the jsforce fidelity check: {why}");
        return;
    }
    let sf = Sf::start().await;
    let output = tokio::process::Command::new("node")
        .arg("salesforce.mjs")
        .current_dir(&dir)
        .env("SF_URL", sf.sim.base_url())
        .stdin(Stdio::null())
        .output()
        .await
        .expect("node runs");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(output.status.success(), "jsforce checks failed:\n{stdout}\n{stderr}");
    assert!(stdout.contains("all 12 checks passed"), "{stdout}");
}
