//! The HubSpot connector against the HubSpot simulator: batches, rate limits, retries,
//! auth, incremental reads, backfills, associations and webhooks.

mod associations;
mod auth;
mod batches;
mod doubtful;
mod incremental;
mod rate_limits;
mod reads;
mod retries;
mod webhooks;

use std::sync::Arc;
use std::time::Duration;

use hubspot_sim::{HubspotSim, RateProfile, SimConfig};
use hubsync::config::{HubspotAuth, HubspotRateLimit, HubspotSettings, HubspotTier, Secret};
use hubsync::connector::hubspot::{HubspotConnector, HubspotOptions};
use hubsync::connector::{Properties, UpsertItem};
use serde_json::{Value, json};

/// A simulator with an unlimited rate profile unless `rate` says otherwise.
pub async fn sim(rate: RateProfile) -> HubspotSim {
    crate::support::init_test_log();
    HubspotSim::start(SimConfig { rate, ..SimConfig::default() }).await.expect("simulator starts")
}

/// Settings pointing at `sim` with its private-app token and `rate` as the known quotas.
pub fn settings(sim: &HubspotSim, rate: HubspotRateLimit) -> HubspotSettings {
    HubspotSettings {
        base_url: sim.base_url().to_string(),
        path_version: "v3".into(),
        auth: HubspotAuth::PrivateApp { token: Secret::from_value(sim.token()) },
        app_id: Some(54321),
        rate_limit: rate,
        account_timezone: "UTC".into(),
        request_timeout: Duration::from_secs(10),
        search_safety_lag: Duration::from_secs(30),
        concurrency: 8,
        credential_probe_interval: Duration::from_secs(60),
    }
}

/// Quotas far above anything a test spends.
pub fn generous() -> HubspotRateLimit {
    HubspotRateLimit {
        tier: HubspotTier::Enterprise,
        burst_per_10s: Some(100_000),
        daily: Some(10_000_000),
        search_per_second: Some(1_000),
    }
}

/// Options reading time from the simulator's clock.
pub fn options(sim: &HubspotSim) -> HubspotOptions {
    let clock = sim.clock().clone();
    HubspotOptions {
        search_safety_lag: Duration::from_secs(5),
        clock: Arc::new(move || clock.now()),
        ..HubspotOptions::default()
    }
}

pub fn connector(sim: &HubspotSim, rate: HubspotRateLimit) -> HubspotConnector {
    HubspotConnector::new(&settings(sim, rate), options(sim)).expect("connector builds")
}

/// Adds the unique text property `ext_id` to contacts.
pub fn add_unique_property(sim: &HubspotSim) {
    sim.create_property(
        "contacts",
        json!({"name": "ext_id", "label": "External id", "type": "string", "fieldType": "text",
               "groupName": "contactinformation", "hasUniqueValue": true}),
    )
    .expect("property created");
}

pub fn props(pairs: &[(&str, Value)]) -> Properties {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// `n` contacts keyed `ext-{i}` with a first name.
pub fn contacts(n: usize) -> Vec<UpsertItem> {
    (0..n)
        .map(|i| UpsertItem {
            key: format!("ext-{i}"),
            properties: props(&[("firstname", json!(format!("Name {i}")))]),
        })
        .collect()
}
