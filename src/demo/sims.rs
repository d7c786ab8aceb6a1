//! The demo's two simulators: started in-process on port 0 with the schema the sync needs
//! (unique keys on both sides, the lifecycle picklist, a validation rule), and the daemon's
//! settings pointed at them.

use serde_json::{Value, json};

use super::DemoError;
use super::seed::{BLOCKED_TITLE, LIFECYCLE};
use crate::config::{
    ConnectorSettings, HubspotAuth, HubspotWebhookSettings, SalesforceAuth, Secret, Settings,
};
use hubspot_sim::{self as hubspot, HubspotSim, RateProfile, RetrySchedule, Subscription};
use salesforce_sim::{self as salesforce, CustomField, FieldType, SalesforceSim, Seed};

/// The HubSpot property holding the Salesforce id, and the Salesforce field holding HubSpot's.
pub const HUBSPOT_KEY: &str = "salesforce_id";
pub const SALESFORCE_KEY: &str = "HubSpot_Id__c";
/// The Salesforce picklist HubSpot's `lifecyclestage` maps to.
pub const LIFECYCLE_FIELD: &str = "Lifecycle_Stage__c";

const HUBSPOT_OBJECTS: &[(&str, &str)] = &[
    ("contacts", "contactinformation"),
    ("companies", "companyinformation"),
    ("deals", "dealinformation"),
    ("notes", "note"),
];
const SALESFORCE_OBJECTS: &[&str] = &["Contact", "Account", "Opportunity", "Task"];

/// Both simulators, running.
pub struct Sims {
    pub hubspot: HubspotSim,
    pub salesforce: SalesforceSim,
}

/// Starts both simulators with the sync's schema.
pub async fn start() -> Result<Sims, DemoError> {
    let config = hubspot::SimConfig { rate: RateProfile::PROFESSIONAL, ..Default::default() };
    let hubspot = HubspotSim::start(config).await.map_err(|err| sim_error("HubSpot", err))?;
    for (object, group) in HUBSPOT_OBJECTS {
        hubspot
            .create_property(object, unique_property(group))
            .map_err(|err| sim_error("HubSpot", err))?;
    }
    let config = salesforce::SimConfig {
        daily_api_limit: 5_000_000,
        // A fresh org: hubsync's first delete poll asks from the beginning of time, and a
        // 15-day recycle bin would answer DELETES_PURGED to it on every poll.
        recycle_bin_retention: chrono::Duration::days(365 * 100),
        seed: salesforce_schema(),
        ..Default::default()
    };
    let salesforce =
        SalesforceSim::start(config).await.map_err(|err| sim_error("Salesforce", err))?;
    let rule_message =
        format!("Contacts titled \"{BLOCKED_TITLE}\" are blocked by a validation rule");
    salesforce
        .reject_records("Contact", "Title", json!(BLOCKED_TITLE), &rule_message)
        .map_err(|err| sim_error("Salesforce", err))?;
    Ok(Sims { hubspot, salesforce })
}

fn sim_error(which: &str, err: impl std::fmt::Display) -> DemoError {
    DemoError::Simulator(format!("{which} simulator: {err}"))
}

/// A `hasUniqueValue` text property that holds the Salesforce id.
fn unique_property(group: &str) -> Value {
    json!({
        "name": HUBSPOT_KEY, "label": "Salesforce ID", "type": "string", "fieldType": "text",
        "groupName": group, "hasUniqueValue": true,
    })
}

/// External ID fields on every synced object, and the lifecycle picklist on Contact.
fn salesforce_schema() -> Seed {
    let mut seed = Seed::default();
    for object in SALESFORCE_OBJECTS {
        seed = seed.with_external_id(object, SALESFORCE_KEY, true);
    }
    let mut lifecycle = CustomField::text(LIFECYCLE_FIELD);
    lifecycle.kind = FieldType::Picklist;
    lifecycle.label = Some("Lifecycle Stage".into());
    lifecycle.picklist_values = LIFECYCLE.iter().map(|(_, sf)| sf.to_string()).collect();
    lifecycle.restricted = true;
    seed.with_field("Contact", lifecycle)
}

/// Points every connector of `settings` at the simulator of its kind, with the simulators'
/// credentials, and the HubSpot webhook receiver at `webhook_url` with `secret`.
pub fn point(settings: &mut Settings, sims: &Sims, webhook_url: &str, secret: &str) {
    for connector in settings.connectors.values_mut() {
        match connector {
            ConnectorSettings::Hubspot(hs) => {
                hs.base_url = sims.hubspot.base_url().to_string();
                hs.auth =
                    HubspotAuth::PrivateApp { token: Secret::from_value(sims.hubspot.token()) };
            }
            ConnectorSettings::Salesforce(sf) => {
                let config = sims.salesforce.config();
                sf.login_url = sims.salesforce.base_url().to_string();
                sf.auth = SalesforceAuth::ClientCredentials {
                    client_id: config.client_id.clone(),
                    client_secret: Secret::from_value(config.client_secret.clone()),
                };
            }
        }
    }
    let connector =
        settings.webhooks.hubspot.as_ref().map_or("hubspot".into(), |h| h.connector.clone());
    settings.webhooks.hubspot = Some(HubspotWebhookSettings {
        connector,
        public_url: webhook_url.to_string(),
        client_secret: Secret::from_value(secret),
        previous_client_secret: None,
        accept_v1: false,
        max_body_bytes: std::num::NonZeroU32::new(1 << 20).expect("non-zero"),
    });
}

/// Has the HubSpot simulator deliver signed webhooks for the synced objects to `url`.
pub fn deliver_webhooks(sims: &Sims, url: &str, secret: &str) {
    let mut subscriptions = Vec::new();
    for (n, object) in ["contact", "company", "deal"].iter().enumerate() {
        let id = 10 * (n as u64 + 1);
        subscriptions.push(Subscription::new(id, &format!("{object}.creation")));
        subscriptions.push(Subscription::new(id + 1, &format!("{object}.propertyChange")));
        subscriptions.push(Subscription::new(id + 2, &format!("{object}.deletion")));
    }
    let mut settings = hubspot::WebhookSettings::new(url, secret, subscriptions);
    settings.retry = RetrySchedule::scaled(0.001);
    sims.hubspot.set_webhooks(Some(settings));
}
