//! Describe: field flags as Salesforce reports them, and the start-up check of mapped
//! fields against them: updateable, type and picklist values.

use std::collections::BTreeMap;
use std::sync::Arc;

use hubsync::config::SyncRule;
use hubsync::connector::{Connector, FieldKind, ItemResult};
use hubsync::rules::schema::{SchemaError, validate};
use salesforce_sim::CustomField;

use super::*;

const ORIGIN: &str = "Origin__c";

async fn sim_with_create_only_field() -> SalesforceSim {
    crate::support::init_test_log();
    let seed = Seed::default()
        .with_external_id("Contact", KEY_FIELD, true)
        .with_field("Contact", CustomField::text(ORIGIN).create_only());
    SalesforceSim::start(SimConfig { seed, daily_api_limit: 1_000_000, ..SimConfig::default() })
        .await
        .expect("simulator starts")
}

/// A block writing HubSpot's `firstname` into `external` on Contact.
fn rule(external: &str, direction: &str) -> SyncRule {
    serde_json::from_value(json!({
        "name": "contacts",
        "hubspot_object": "contacts",
        "external_connector": "salesforce",
        "external_object": "Contact",
        "direction": direction,
        "keys": {"external_id_field": KEY_FIELD},
        "fields": [{"hubspot": "firstname", "external": external}],
    }))
    .expect("a sync rule")
}

#[tokio::test]
async fn a_create_only_field_is_described_as_createable_but_not_updateable() {
    let sim = sim_with_create_only_field().await;
    let salesforce = connector(&sim);
    let described = salesforce.describe("Contact").await.unwrap();
    let origin = described.field(ORIGIN).unwrap();
    assert!(origin.createable && !origin.updateable && !origin.read_only, "{origin:?}");
    let last_name = described.field("LastName").unwrap();
    assert!(last_name.createable && last_name.updateable);
    // the flag matters: the field takes a value on create and refuses it on every update
    let mut items = contacts(1);
    items[0].properties.insert(ORIGIN.into(), json!("web"));
    assert!(salesforce.upsert_batch("Contact", KEY_FIELD, &items).await.unwrap()[0].is_success());
    items[0].properties.insert(ORIGIN.into(), json!("import"));
    let again = salesforce.upsert_batch("Contact", KEY_FIELD, &items).await.unwrap();
    assert!(matches!(&again[0], ItemResult::Permanent { .. }), "{again:?}");
}

#[tokio::test]
async fn rules_that_update_a_create_only_field_are_refused_at_start_up() {
    let sim = sim_with_create_only_field().await;
    let mut connectors: BTreeMap<String, Arc<dyn Connector>> = BTreeMap::new();
    connectors.insert("salesforce".into(), Arc::new(connector(&sim)));
    let err = validate(&[rule(ORIGIN, "to_external")], &connectors).await.unwrap_err();
    let SchemaError::Mismatch(problems) = err else { panic!("{err:?}") };
    assert_eq!(problems.len(), 1, "{problems:?}");
    assert!(problems[0].contains("external field Origin__c on Contact"), "{problems:?}");
    assert!(problems[0].contains("create only"), "{problems:?}");
    // read into HubSpot only, the field is fine; an updateable field is fine either way
    validate(&[rule(ORIGIN, "to_hubspot")], &connectors).await.unwrap();
    validate(&[rule("LastName", "to_external")], &connectors).await.unwrap();
}

/// A block mapping a HubSpot lead source through a value map into `LeadSource`, and a
/// HubSpot property through `transform` into `Birthdate`.
fn typed_rule(values: &[(&str, &str)], birthdate_transform: &str) -> SyncRule {
    let values: Vec<Value> =
        values.iter().map(|(hs, sf)| json!({"hubspot": hs, "external": sf})).collect();
    serde_json::from_value(json!({
        "name": "contacts",
        "hubspot_object": "contacts",
        "external_connector": "salesforce",
        "external_object": "Contact",
        "keys": {"external_id_field": KEY_FIELD},
        "fields": [
            {"hubspot": "hs_lead_source", "external": "LeadSource",
             "transform": {"type": "value_map", "values": values}},
            {"hubspot": "date_of_birth", "external": "Birthdate",
             "transform": {"type": birthdate_transform}},
        ],
    }))
    .expect("a sync rule")
}

#[tokio::test]
async fn picklist_values_are_read_from_the_orgs_describe() {
    let sim = sim().await;
    let described = connector(&sim).describe("Contact").await.unwrap();
    let lead_source = described.field("LeadSource").unwrap();
    assert_eq!(lead_source.kind, FieldKind::Enumeration);
    assert_eq!(lead_source.api_type, "picklist");
    let values: Vec<&str> = lead_source.options.iter().map(|o| o.value.as_str()).collect();
    assert_eq!(values, ["Web", "Phone Inquiry", "Partner Referral", "Other"]);
    assert!(lead_source.options.iter().all(|o| o.active && o.label == o.value));
}

#[tokio::test]
async fn a_value_outside_the_picklist_and_a_transform_of_the_wrong_type_stop_start_up() {
    let sim = sim().await;
    let mut connectors: BTreeMap<String, Arc<dyn Connector>> = BTreeMap::new();
    connectors.insert("salesforce".into(), Arc::new(connector(&sim)));
    let values = [("ORGANIC_SEARCH", "Web"), ("OFFLINE", "Trade Show")];
    let err = validate(&[typed_rule(&values, "number")], &connectors).await.unwrap_err();
    let SchemaError::Mismatch(problems) = err else { panic!("{err:?}") };
    assert_eq!(
        problems,
        [
            "  - sync block contacts: external field LeadSource on Contact: value map sends \
             `Trade Show`, which is not one of its options (Web, Phone Inquiry, Partner \
             Referral, Other)",
            "  - sync block contacts: external field Birthdate on Contact: the transform needs a \
             Number field, but describe says Date (`date`)",
        ]
    );
    // the org's own values and a date transform pass
    let values = [("ORGANIC_SEARCH", "Web"), ("OFFLINE", "Phone Inquiry")];
    validate(&[typed_rule(&values, "date")], &connectors).await.unwrap();
}
