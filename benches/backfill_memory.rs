//! Peak memory of the daemon (a separate `hubsync run` process) during a 100,000-record
//! backfill from HubSpot to Salesforce, read from the kernel's high-water mark (VmHWM).
//!
//! Run: `cargo bench --bench backfill_memory` (DATABASE_URL names the server).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hubspot_sim::{HubspotSim, RateProfile};
use salesforce_sim::SalesforceSim;
use serde_json::json;
use testkit::database::{TestDatabase, bench_server};
use testkit::sims::{self, ConnectorsToml, RateLimit};

const RECORDS: usize = 100_000;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let hubspot = sims::hubspot(RateProfile::UNLIMITED, &["contacts"]).await;
    for i in 0..RECORDS {
        let props = json!({"email": format!("m{i}@bench.test"), "firstname": "M", "lastname": format!("{i}")});
        hubspot.seed("contacts", props).unwrap();
    }
    let salesforce = sims::salesforce(&["Contact"], 100_000_000).await;

    let db = TestDatabase::on_server(&bench_server(), "bench_memory").await;
    let url = db.url.clone();
    let dir = tempfile::tempdir().unwrap();
    let file = config_file(&dir, &hubspot, &salesforce);
    let mut daemon = Command::new(env!("CARGO_BIN_EXE_hubsync"))
        .args(["run", "--config"])
        .arg(&file)
        .env("DATABASE_URL", &url)
        .env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0")
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the hubsync binary starts");
    let started = Instant::now();
    let pool = sqlx::PgPool::connect(&url).await.unwrap();
    let mut peak = 0;
    loop {
        peak = peak.max(high_water_kb(&daemon));
        let linked: i64 = sqlx::query_scalar("select count(*) from hubsync.links")
            .fetch_one(&pool)
            .await
            .unwrap_or(0);
        if linked as usize >= RECORDS {
            break;
        }
        assert!(started.elapsed() < Duration::from_secs(1800), "backfill stalled at {linked}");
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let elapsed = started.elapsed();
    peak = peak.max(high_water_kb(&daemon));
    stop(&mut daemon);
    pool.close().await;
    drop(db);
    println!(
        "backfill of {RECORDS} records: {:.0} records/s (reference, not a target)",
        RECORDS as f64 / elapsed.as_secs_f64()
    );
    println!(
        "daemon peak memory during the backfill: {:.0} MB (target < 200)",
        peak as f64 / 1024.0
    );
}

/// The process's peak resident set (VmHWM), in kB.
fn high_water_kb(child: &Child) -> u64 {
    let status =
        std::fs::read_to_string(format!("/proc/{}/status", child.id())).unwrap_or_default();
    status
        .lines()
        .find_map(|line| line.strip_prefix("VmHWM:"))
        .and_then(|rest| rest.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap_or(0)
}

fn stop(child: &mut Child) {
    let _ = Command::new("kill").args(["-TERM", &child.id().to_string()]).status();
    let _ = child.wait();
}

fn config_file(
    dir: &tempfile::TempDir,
    hubspot: &HubspotSim,
    salesforce: &SalesforceSim,
) -> std::path::PathBuf {
    // HubSpot's daily quota is left to its tier
    let rate = RateLimit { daily: None, ..RateLimit::generous() };
    let connectors = ConnectorsToml::new(hubspot, salesforce)
        .for_sync()
        .hubspot_rate(rate)
        .secrets_in(dir.path());
    let file = dir.path().join("hubsync.toml");
    std::fs::write(
        &file,
        format!(
            r#"[ingest]
poll_interval = "250ms"
{connectors}
[[sync]]
name = "contacts"
hubspot_object = "contacts"
external_connector = "salesforce"
external_object = "Contact"
direction = "to_external"
keys = {{ hubspot_unique_property = "salesforce_id", external_id_field = "HubSpot_Id__c" }}
fields = [
  {{ hubspot = "email", external = "Email" }},
  {{ hubspot = "firstname", external = "FirstName" }},
  {{ hubspot = "lastname", external = "LastName" }},
]
"#,
            connectors = connectors.render(),
        ),
    )
    .unwrap();
    file
}
