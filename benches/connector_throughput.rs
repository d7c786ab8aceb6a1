//! Connector throughput: HubSpot batch upserts through the connector against the
//! simulator's professional profile (190 requests per 10 s) for 60 s, and Salesforce
//! collection upserts with no limit. Each prints one summary line.

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use hubspot_sim::{HubspotSim, RateProfile, SimConfig};
use hubsync::config::{
    HubspotAuth, HubspotRateLimit, HubspotSettings, HubspotTier, SalesforceAuth,
    SalesforceSettings, Secret,
};
use hubsync::connector::hubspot::{HubspotConnector, HubspotOptions};
use hubsync::connector::salesforce::{SalesforceConnector, SalesforceOptions};
use hubsync::connector::{Connector, UpsertItem};
use salesforce_sim::{SalesforceSim, Seed};
use serde_json::json;

const TASKS: usize = 8;

fn items(task: usize, round: u64, size: usize, field: &str) -> Vec<UpsertItem> {
    (0..size)
        .map(|i| UpsertItem {
            key: format!("bench-{task}-{round}-{i}"),
            properties: [(field.to_string(), json!(format!("Name {i}")))].into(),
        })
        .collect()
}

/// Runs `TASKS` writers for `duration`; returns successful records and the elapsed time.
async fn drive(
    connector: Arc<dyn Connector>,
    object: &'static str,
    key: &'static str,
    field: &'static str,
    duration: Duration,
) -> (u64, Duration) {
    let written = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for task in 0..TASKS {
        let (connector, written) = (connector.clone(), written.clone());
        tasks.spawn(async move {
            let size = connector.batch_size();
            let mut round = 0;
            while started.elapsed() < duration {
                let batch = items(task, round, size, field);
                let results = connector.upsert_batch(object, key, &batch).await.expect("upsert");
                let ok = results.iter().filter(|r| r.is_success()).count() as u64;
                written.fetch_add(ok, Ordering::Relaxed);
                round += 1;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
    (written.load(Ordering::Relaxed), started.elapsed())
}

async fn hubspot() {
    let sim =
        HubspotSim::start(SimConfig { rate: RateProfile::PROFESSIONAL, ..SimConfig::default() })
            .await
            .expect("simulator");
    sim.create_property(
        "contacts",
        json!({"name": "ext_id", "label": "External id", "type": "string", "fieldType": "text",
               "groupName": "contactinformation", "hasUniqueValue": true}),
    )
    .expect("unique property");
    let settings = HubspotSettings {
        base_url: sim.base_url().to_string(),
        path_version: "v3".into(),
        auth: HubspotAuth::PrivateApp { token: Secret::from_value(sim.token()) },
        app_id: None,
        rate_limit: HubspotRateLimit { tier: HubspotTier::Professional, ..Default::default() },
        account_timezone: "UTC".into(),
        request_timeout: Duration::from_secs(30),
        search_safety_lag: Duration::from_secs(30),
        concurrency: 8,
        credential_probe_interval: Duration::from_secs(60),
    };
    let connector = HubspotConnector::new(&settings, HubspotOptions::default()).expect("connector");
    let (written, elapsed) =
        drive(Arc::new(connector), "contacts", "ext_id", "firstname", Duration::from_secs(60))
            .await;
    let rate = written as f64 / elapsed.as_secs_f64();
    let throttled = sim.stats().total_with_status(429);
    println!("hubspot connector upsert: {rate:.0} records/s (target ≥ 1800, 429s: {throttled})");
}

async fn salesforce() {
    let seed = Seed::default().with_external_id("Contact", "HubSpot_Id__c", true);
    let config =
        salesforce_sim::SimConfig { seed, daily_api_limit: 100_000_000, ..Default::default() };
    let sim = SalesforceSim::start(config).await.expect("simulator");
    let settings = SalesforceSettings {
        login_url: sim.base_url().to_string(),
        api_version: "v60.0".into(),
        auth: SalesforceAuth::ClientCredentials {
            client_id: sim.config().client_id.clone(),
            client_secret: Secret::from_value(sim.config().client_secret.clone()),
        },
        daily_budget_fraction: 0.8,
        client_name: None,
        request_timeout: Duration::from_secs(30),
        overlap: Duration::from_secs(60),
        concurrency: 8,
        credential_probe_interval: Duration::from_secs(60),
    };
    let connector =
        SalesforceConnector::new(&settings, SalesforceOptions::default()).expect("connector");
    let duration = Duration::from_secs(15);
    let (written, elapsed) =
        drive(Arc::new(connector), "Contact", "HubSpot_Id__c", "LastName", duration).await;
    let rate = written as f64 / elapsed.as_secs_f64();
    println!("salesforce connector upsert: {rate:.0} records/s (target ≥ 10000)");
}

fn main() {
    let runtime =
        tokio::runtime::Builder::new_multi_thread().enable_all().build().expect("a tokio runtime");
    runtime.block_on(hubspot());
    runtime.block_on(salesforce());
}
