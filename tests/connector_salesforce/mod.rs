//! The Salesforce connector against the Salesforce simulator: collections, queryAll
//! changes, deletes and merges, sessions, the budget share, row-lock retries, lookups and
//! describe.

mod associations;
mod auth;
mod batches;
mod budget;
mod changes;
mod describe;
mod doubtful;

use std::sync::Arc;
use std::time::Duration;

use hubsync::config::{SalesforceAuth, SalesforceSettings, Secret};
use hubsync::connector::salesforce::{SalesforceConnector, SalesforceOptions};
use hubsync::connector::{Properties, UpsertItem};
use salesforce_sim::{SalesforceSim, Seed, SimConfig};
use serde_json::{Value, json};

pub const KEY_FIELD: &str = "HubSpot_Id__c";

/// A simulator whose Contacts carry the unique External ID `HubSpot_Id__c`.
pub async fn sim_with(config: SimConfig) -> SalesforceSim {
    crate::support::init_test_log();
    let seed = Seed::default().with_external_id("Contact", KEY_FIELD, true);
    SalesforceSim::start(SimConfig { seed, daily_api_limit: 1_000_000, ..config })
        .await
        .expect("simulator starts")
}

pub async fn sim() -> SalesforceSim {
    sim_with(SimConfig::default()).await
}

pub fn settings(sim: &SalesforceSim) -> SalesforceSettings {
    SalesforceSettings {
        login_url: sim.base_url().to_string(),
        api_version: "v60.0".into(),
        auth: SalesforceAuth::ClientCredentials {
            client_id: sim.config().client_id.clone(),
            client_secret: Secret::from_value(sim.config().client_secret.clone()),
        },
        daily_budget_fraction: 0.8,
        client_name: Some("hubsync-test".into()),
        request_timeout: Duration::from_secs(10),
        overlap: Duration::from_secs(60),
        concurrency: 8,
        credential_probe_interval: Duration::from_secs(60),
    }
}

pub fn options(sim: &SalesforceSim) -> SalesforceOptions {
    let clock = sim.clock().clone();
    SalesforceOptions { clock: Arc::new(move || clock.now()), ..SalesforceOptions::default() }
}

pub fn connector(sim: &SalesforceSim) -> SalesforceConnector {
    SalesforceConnector::new(&settings(sim), options(sim)).expect("connector builds")
}

pub fn props(pairs: &[(&str, Value)]) -> Properties {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

/// `n` contacts keyed `hs-{i}`.
pub fn contacts(n: usize) -> Vec<UpsertItem> {
    (0..n)
        .map(|i| UpsertItem {
            key: format!("hs-{i}"),
            properties: props(&[("LastName", json!(format!("Name {i}")))]),
        })
        .collect()
}

/// Token endpoint calls so far.
pub fn logins(sim: &SalesforceSim) -> u64 {
    sim.stats()
        .snapshot()
        .iter()
        .filter(|(endpoint, _)| endpoint.contains("oauth2/token"))
        .map(|(_, s)| s.requests)
        .sum()
}
