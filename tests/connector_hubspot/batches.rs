//! Batch upserts, updates and archives: one result per item, good items never failed by a
//! bad batch-mate.

use hubspot_sim::RateProfile;
use hubsync::connector::{Connector, ItemResult, UpdateItem};
use serde_json::json;
use sim_kit::faults::{Fault, FaultRule, Trigger};

use super::*;

#[tokio::test]
async fn two_hundred_fifty_contacts_upsert_in_three_calls_and_a_second_run_updates_them() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    let hubspot = connector(&sim, generous());
    let results = hubspot.upsert_batch("contacts", "ext_id", &contacts(250)).await.unwrap();
    assert_eq!(results.len(), 250);
    assert!(results.iter().all(|r| matches!(r, ItemResult::Success { created: Some(true), .. })));
    assert_eq!(sim.count("contacts"), 250);
    assert_eq!(sim.stats().total_requests(), 3);
    let again = hubspot.upsert_batch("contacts", "ext_id", &contacts(250)).await.unwrap();
    assert!(again.iter().all(|r| matches!(r, ItemResult::Success { created: Some(false), .. })));
    assert_eq!(sim.count("contacts"), 250, "a retried batch creates no duplicates");
}

#[tokio::test]
async fn a_batch_with_one_bad_contact_still_lands_the_other_99() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    let hubspot = connector(&sim, generous());
    let mut items = contacts(100);
    items[42].properties.insert("no_such_property".into(), json!("x"));
    let results = hubspot.upsert_batch("contacts", "ext_id", &items).await.unwrap();
    assert_eq!(results.iter().filter(|r| r.is_success()).count(), 99);
    match &results[42] {
        ItemResult::Permanent { code, message, field } => {
            assert_eq!(code, "PROPERTY_DOESNT_EXIST", "{message}");
            assert_eq!(field.as_deref(), Some("no_such_property"));
        }
        other => panic!("expected a permanent failure, got {other:?}"),
    }
    assert_eq!(sim.count("contacts"), 99);
}

#[tokio::test]
async fn a_whole_batch_refused_for_one_input_is_split_until_the_good_inputs_land() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    let hubspot = connector(&sim, generous());
    let mut items = contacts(100);
    // the simulator refuses a whole batch that names one key twice (400 VALIDATION_ERROR)
    items[20].key = items[7].key.clone();
    let results = hubspot.upsert_batch("contacts", "ext_id", &items).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success), "{results:?}");
    assert_eq!(sim.count("contacts"), 99);
    // 100 → 50 → 25 inputs still hold both copies; then 12 and 13 part them
    assert_eq!(sim.stats().total_with_status(400), 3);
}

#[tokio::test]
async fn a_batch_refused_for_a_reason_of_its_own_costs_three_calls_not_two_hundred() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    let hubspot = connector(&sim, generous());
    // HubSpot refuses every upsert batch alike, whatever inputs it holds
    let body = json!({"status": "error", "category": "VALIDATION_ERROR",
                      "message": "ext_id is not a unique property of contacts"});
    let fault = Fault::Respond { status: 400, body, headers: vec![] };
    sim.inject(FaultRule::new("/crm/v3/objects/*/batch/upsert", fault, Trigger::Next(1_000)));
    let results = hubspot.upsert_batch("contacts", "ext_id", &contacts(100)).await.unwrap();
    assert!(
        results.iter().all(|r| matches!(r, ItemResult::Permanent { message, .. }
            if message.contains("not a unique property"))),
        "{results:?}"
    );
    // the batch, then its two halves refused alike: the cause is the batch, not an input
    assert_eq!(sim.stats().total_requests(), 3);
}

#[tokio::test]
async fn a_single_refused_input_reports_the_apis_code_and_message() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let hubspot = connector(&sim, generous());
    let items = contacts(1);
    // contacts have no property `ext_id` here, so HubSpot refuses the idProperty itself
    let results = hubspot.upsert_batch("contacts", "ext_id", &items).await.unwrap();
    assert!(matches!(&results[0], ItemResult::Permanent { .. }), "{results:?}");
}

#[tokio::test]
async fn updates_and_archives_report_per_item_and_an_unknown_id_is_not_found() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let hubspot = connector(&sim, generous());
    let id = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap().to_string();
    let items = vec![
        UpdateItem { id: id.clone(), properties: props(&[("firstname", json!("Ann"))]) },
        UpdateItem { id: "999999".into(), properties: props(&[("firstname", json!("Bo"))]) },
    ];
    let results = hubspot.update_batch("contacts", &items).await.unwrap();
    assert!(results[0].is_success());
    assert_eq!(results[1], ItemResult::NotFound);
    assert_eq!(sim.record("contacts", id.parse().unwrap()).unwrap().properties["firstname"], "Ann");
    let archived = hubspot.archive_batch("contacts", std::slice::from_ref(&id)).await.unwrap();
    assert!(archived[0].is_success());
    assert_eq!(sim.count("contacts"), 0);
}

#[tokio::test]
async fn the_date_versioned_api_path_works_like_v3() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    let mut settings = settings(&sim, generous());
    settings.path_version = "2026-03".into();
    let hubspot = HubspotConnector::new(&settings, options(&sim)).unwrap();
    let results = hubspot.upsert_batch("contacts", "ext_id", &contacts(3)).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success));
    assert!(hubspot.describe("contacts").await.unwrap().field("ext_id").is_some());
    let paths = sim.stats().snapshot();
    assert!(paths.keys().all(|p| p.contains("2026-03")), "{paths:?}");
}
