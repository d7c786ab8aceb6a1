//! Picklists: restricted ones refuse values outside their list, single and multi-select.

use salesforce_sim::{CustomField, FieldType, SimConfig};
use serde_json::json;

use super::{Sf, test_config, test_seed};

#[tokio::test]
async fn a_value_outside_a_restricted_picklist_is_refused() {
    let sf = Sf::start().await;
    let answer = sf.post("/sobjects/Foo__c", json!({"Name": "f", "Colour__c": "Green"})).await;
    assert_eq!(
        (answer.status, answer.error_code()),
        (400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    );
    assert_eq!(
        sf.post("/sobjects/Foo__c", json!({"Name": "f", "Colour__c": "Red"})).await.status,
        201
    );
    let open = sf.post("/sobjects/Account", json!({"Name": "A", "Industry": "Space Mining"})).await;
    assert_eq!(open.status, 201, "an unrestricted picklist takes any value");
}

#[tokio::test]
async fn a_restricted_multi_select_picklist_refuses_an_unknown_value_among_known_ones() {
    let hobbies = CustomField {
        kind: FieldType::Multipicklist,
        picklist_values: vec!["Golf".into(), "Chess".into()],
        restricted: true,
        ..CustomField::text("Hobbies__c")
    };
    let seed = test_seed().with_field("Contact", hobbies);
    let sf = Sf::start_with(SimConfig { seed, ..test_config() }).await;
    let refused =
        sf.post("/sobjects/Contact", json!({"LastName": "A", "Hobbies__c": "Golf;Darts"})).await;
    assert_eq!(
        (refused.status, refused.error_code()),
        (400, "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST")
    );
    assert!(refused.body[0]["message"].as_str().unwrap().ends_with(": Darts"), "{}", refused.body);
    assert_eq!(refused.body[0]["fields"], json!(["Hobbies__c"]));
    assert_eq!(sf.sim.count("Contact", true), 0);
    let id = sf.create("Contact", json!({"LastName": "A", "Hobbies__c": "Golf;Chess"})).await;
    let update =
        sf.patch(&format!("/sobjects/Contact/{id}"), json!({"Hobbies__c": "Chess;Darts"})).await;
    assert_eq!(update.error_code(), "INVALID_OR_NULL_FOR_RESTRICTED_PICKLIST");
    assert_eq!(sf.sim.record(&id).unwrap()["Hobbies__c"], "Golf;Chess", "the update wrote nothing");
}
