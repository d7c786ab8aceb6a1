//! Single-record REST: create, read, update, delete, and upsert by external id.

use salesforce_sim::{
    DeletedStatus, MultipleChoicesBody, OpportunityRequired, SimConfig, UnknownIdOnWrite,
    UpdateOnlyMiss, ids,
};
use serde_json::{Value, json};

use super::{Sf, V, test_config};

#[tokio::test]
async fn creating_a_record_answers_201_with_its_id() {
    let sf = Sf::start().await;
    let answer =
        sf.post("/sobjects/Account", json!({"Name": "Acme", "NumberOfEmployees": 12})).await;
    assert_eq!(answer.status, 201);
    assert_eq!(answer.body["success"], true);
    assert_eq!(answer.body["errors"], json!([]));
    let id = answer.body["id"].as_str().unwrap();
    let read = sf.get(&format!("/sobjects/Account/{id}")).await;
    assert_eq!(read.body["Name"], "Acme");
    assert_eq!(read.body["NumberOfEmployees"], 12);
    assert_eq!(read.body["IsDeleted"], false);
    assert_eq!(read.body["attributes"]["type"], "Account");
    assert_eq!(read.body["attributes"]["url"], format!("/services/data/{V}/sobjects/Account/{id}"));
    assert_eq!(read.body["OwnerId"], sf.sim.integration_user_id());
}

#[tokio::test]
async fn reading_with_fields_returns_only_those_fields() {
    let sf = Sf::start().await;
    let id =
        sf.create("Contact", json!({"LastName": "Ng", "FirstName": "Al", "Title": "CTO"})).await;
    let read = sf.get(&format!("/sobjects/Contact/{id}?fields=FirstName,Title")).await;
    let keys: Vec<&String> = read.body.as_object().unwrap().keys().collect();
    assert_eq!(keys.len(), 3, "{keys:?}");
    assert_eq!(read.body["Title"], "CTO");
    let bad = sf.get(&format!("/sobjects/Contact/{id}?fields=Nope")).await;
    assert_eq!((bad.status, bad.error_code()), (400, "INVALID_FIELD"));
}

#[tokio::test]
async fn updating_answers_204_and_moves_last_modified_date_and_system_modstamp() {
    let sf = Sf::start().await;
    sf.sim.clock().freeze();
    let id = sf.contact("Ng").await;
    let before = sf.get(&format!("/sobjects/Contact/{id}")).await.body;
    sf.sim.clock().advance(chrono::Duration::minutes(5));
    let answer =
        sf.patch(&format!("/sobjects/Contact/{id}"), json!({"Title": "CEO", "Email": null})).await;
    assert_eq!(answer.status, 204);
    let after = sf.get(&format!("/sobjects/Contact/{id}")).await.body;
    assert_eq!(after["Title"], "CEO");
    assert_eq!(after["CreatedDate"], before["CreatedDate"]);
    assert!(after["LastModifiedDate"].as_str() > before["LastModifiedDate"].as_str());
    assert_eq!(after["LastModifiedDate"], after["SystemModstamp"]);
    let stamp = after["SystemModstamp"].as_str().unwrap();
    assert!(stamp.len() == 28 && stamp.ends_with("+0000"), "{stamp}");
}

#[tokio::test]
async fn null_clears_a_field_on_update() {
    let sf = Sf::start().await;
    let id = sf.create("Contact", json!({"LastName": "Ng", "Title": "CTO"})).await;
    sf.patch(&format!("/sobjects/Contact/{id}"), json!({"Title": null})).await;
    assert_eq!(sf.get(&format!("/sobjects/Contact/{id}")).await.body["Title"], Value::Null);
}

#[tokio::test]
async fn deleting_answers_204_and_the_record_then_answers_entity_is_deleted() {
    let sf = Sf::start().await;
    let id = sf.contact("Ng").await;
    assert_eq!(sf.delete(&format!("/sobjects/Contact/{id}")).await.status, 204);
    let read = sf.get(&format!("/sobjects/Contact/{id}")).await;
    assert_eq!((read.status, read.error_code()), (404, "ENTITY_IS_DELETED"));
    let again = sf.delete(&format!("/sobjects/Contact/{id}")).await;
    assert_eq!((again.status, again.error_code()), (404, "ENTITY_IS_DELETED"));
    let update = sf.patch(&format!("/sobjects/Contact/{id}"), json!({"Title": "x"})).await;
    assert_eq!((update.status, update.error_code()), (404, "ENTITY_IS_DELETED"));
    assert_eq!(sf.sim.record(&id).unwrap()["IsDeleted"], true);
}

#[tokio::test]
async fn a_well_formed_unknown_id_answers_404_not_found() {
    let sf = Sf::start().await;
    let missing = salesforce_sim::ids::make("003", 999_999);
    let answer = sf.get(&format!("/sobjects/Contact/{missing}")).await;
    assert_eq!((answer.status, answer.error_code()), (404, "NOT_FOUND"));
}

#[tokio::test]
async fn with_the_switch_entity_is_deleted_answers_400() {
    let config = SimConfig { entity_is_deleted_status: DeletedStatus::BadRequest, ..test_config() };
    let sf = Sf::start_with(config).await;
    let id = sf.contact("Ng").await;
    sf.delete(&format!("/sobjects/Contact/{id}")).await;
    let path = format!("/sobjects/Contact/{id}");
    let read = sf.get(&path).await;
    let again = sf.delete(&path).await;
    let update = sf.patch(&path, json!({"Title": "x"})).await;
    for answer in [read, again, update] {
        assert_eq!((answer.status, answer.error_code()), (400, "ENTITY_IS_DELETED"));
    }
}

#[tokio::test]
async fn updating_or_deleting_a_well_formed_unknown_id_answers_404_not_found() {
    let sf = Sf::start().await;
    let path = format!("/sobjects/Contact/{}", ids::make("003", 999_999));
    let update = sf.patch(&path, json!({"Title": "x"})).await;
    assert_eq!((update.status, update.error_code()), (404, "NOT_FOUND"));
    let delete = sf.delete(&path).await;
    assert_eq!((delete.status, delete.error_code()), (404, "NOT_FOUND"));
}

#[tokio::test]
async fn with_the_switch_a_write_to_an_unknown_id_answers_invalid_cross_reference_key() {
    let config = SimConfig {
        unknown_id_on_write: UnknownIdOnWrite::InvalidCrossReferenceKey,
        ..test_config()
    };
    let sf = Sf::start_with(config).await;
    let missing = ids::make("003", 999_999);
    let path = format!("/sobjects/Contact/{missing}");
    let update = sf.patch(&path, json!({"Title": "x"})).await;
    assert_eq!((update.status, update.error_code()), (400, "INVALID_CROSS_REFERENCE_KEY"));
    let delete = sf.delete(&path).await;
    assert_eq!((delete.status, delete.error_code()), (400, "INVALID_CROSS_REFERENCE_KEY"));
    let read = sf.get(&path).await;
    assert_eq!((read.status, read.error_code()), (404, "NOT_FOUND"), "reads are unchanged");
    let batch = sf.delete(&format!("/composite/sobjects?ids={missing}")).await;
    assert_eq!(batch.body[0]["errors"][0]["statusCode"], "INVALID_CROSS_REFERENCE_KEY");
}

/// Whether the last three characters of an 18-character id are the checksum of its first
/// 15: per 5-character chunk, a bit per upper-case letter, mapped onto A–Z then 0–5.
fn has_valid_checksum(id: &str) -> bool {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ012345";
    let bytes = id.as_bytes();
    id.len() == 18
        && (0..3).all(|chunk| {
            let bits = bytes[chunk * 5..chunk * 5 + 5]
                .iter()
                .enumerate()
                .filter(|(_, b)| b.is_ascii_uppercase())
                .fold(0, |acc, (i, _)| acc | (1 << i));
            bytes[15 + chunk] == ALPHABET[bits]
        })
}

#[tokio::test]
async fn cases_tasks_and_events_get_real_key_prefixes_checksummed_ids_and_their_defaults() {
    let sf = Sf::start().await;
    let case = sf.create("Case", json!({"Subject": "Broken"})).await;
    let other_case = sf.create("Case", json!({"Subject": "Also broken"})).await;
    let task = sf.create("Task", json!({"Subject": "Call back"})).await;
    let event = sf
        .create(
            "Event",
            json!({"Subject": "Demo", "ActivityDateTime": "2024-05-01T10:00:00Z", "DurationInMinutes": 30}),
        )
        .await;
    for (id, prefix) in [(&case, "500"), (&other_case, "500"), (&task, "00T"), (&event, "00U")] {
        assert!(id.starts_with(prefix), "{id} starts with {prefix}");
        assert!(has_valid_checksum(id), "{id} has a valid checksum");
    }
    assert!(task.ends_with("EAA"), "the T of 00T sets bit 2 of the first chunk: {task}");
    let task = sf.get(&format!("/sobjects/Task/{task}")).await.body;
    assert_eq!(
        (task["Status"].as_str(), task["Priority"].as_str()),
        (Some("Not Started"), Some("Normal"))
    );
    assert_eq!(task["OwnerId"], sf.sim.integration_user_id());
    let numbers: Vec<String> = [&case, &other_case]
        .iter()
        .map(|id| sf.sim.record(id).unwrap()["CaseNumber"].as_str().unwrap().to_string())
        .collect();
    for number in &numbers {
        assert!(number.len() == 8 && number.bytes().all(|b| b.is_ascii_digit()), "{number}");
    }
    assert_ne!(numbers[0], numbers[1], "each case gets its own number");
    let read = sf.get(&format!("/sobjects/Case/{case}?fields=CaseNumber,Status")).await.body;
    assert_eq!(
        (read["CaseNumber"].as_str(), read["Status"].as_str()),
        (Some(numbers[0].as_str()), Some("New"))
    );
}

#[tokio::test]
async fn a_path_segment_that_is_not_an_id_answers_not_found_naming_it() {
    let sf = Sf::start().await;
    let answer = sf.get("/sobjects/Contact/banana").await;
    assert_eq!((answer.status, answer.error_code()), (404, "NOT_FOUND"));
    assert!(answer.body[0]["message"].as_str().unwrap().contains("banana"));
}

#[tokio::test]
async fn a_missing_required_field_answers_required_field_missing() {
    let sf = Sf::start().await;
    let answer = sf.post("/sobjects/Lead", json!({"FirstName": "Al"})).await;
    assert_eq!((answer.status, answer.error_code()), (400, "REQUIRED_FIELD_MISSING"));
    assert_eq!(answer.body[0]["fields"], json!(["LastName", "Company"]));
}

#[tokio::test]
async fn an_unknown_field_answers_invalid_field() {
    let sf = Sf::start().await;
    let answer = sf.post("/sobjects/Contact", json!({"LastName": "Ng", "Shoe__c": 9})).await;
    assert_eq!((answer.status, answer.error_code()), (400, "INVALID_FIELD"));
}

#[tokio::test]
async fn field_values_are_checked_against_their_types() {
    let sf = Sf::start().await;
    let cases = [
        (json!({"Name": "A", "NumberOfEmployees": "many"}), "JSON_PARSER_ERROR"),
        (json!({"Name": "A", "NumberOfEmployees": 1.5}), "JSON_PARSER_ERROR"),
        (json!({"Name": "x".repeat(256)}), "STRING_TOO_LONG"),
        (json!({"Name": "A", "ParentId": "not-an-id"}), "MALFORMED_ID"),
    ];
    for (body, code) in cases {
        let answer = sf.post("/sobjects/Account", body.clone()).await;
        assert_eq!((answer.status, answer.error_code()), (400, code), "{body}");
    }
    let email = sf.post("/sobjects/Contact", json!({"LastName": "Ng", "Email": "nope"})).await;
    assert_eq!(email.error_code(), "INVALID_EMAIL_ADDRESS");
    let date = sf.post("/sobjects/Contact", json!({"LastName": "Ng", "Birthdate": "May 1"})).await;
    assert_eq!(date.error_code(), "JSON_PARSER_ERROR");
}

#[tokio::test]
async fn defaulted_fields_are_filled_on_create() {
    let sf = Sf::start().await;
    let id = sf.create("Lead", json!({"LastName": "Lee", "Company": "Co"})).await;
    let lead = sf.get(&format!("/sobjects/Lead/{id}")).await.body;
    assert_eq!(lead["Status"], "Open - Not Contacted");
    assert_eq!(lead["IsConverted"], false);
}

#[tokio::test]
async fn a_duplicate_unique_value_answers_duplicate_value() {
    let sf = Sf::start().await;
    let first = sf.create("Contact", json!({"LastName": "A", "HubSpot_Id__c": "h1"})).await;
    let answer =
        sf.post("/sobjects/Contact", json!({"LastName": "B", "HubSpot_Id__c": "H1"})).await;
    assert_eq!((answer.status, answer.error_code()), (400, "DUPLICATE_VALUE"));
    assert!(answer.body[0]["message"].as_str().unwrap().contains(&first));
}

#[tokio::test]
async fn a_read_only_field_cannot_be_written() {
    let sf = Sf::start().await;
    let answer = sf
        .post(
            "/sobjects/Contact",
            json!({"LastName": "A", "SystemModstamp": "2020-01-01T00:00:00Z"}),
        )
        .await;
    assert_eq!((answer.status, answer.error_code()), (400, "INVALID_FIELD_FOR_INSERT_UPDATE"));
}

#[tokio::test]
async fn a_reference_to_a_missing_record_answers_invalid_cross_reference_key() {
    let sf = Sf::start().await;
    let contact = sf.contact("Ng").await;
    let answer = sf.post("/sobjects/Contact", json!({"LastName": "A", "AccountId": contact})).await;
    assert_eq!((answer.status, answer.error_code()), (400, "INVALID_CROSS_REFERENCE_KEY"));
}

#[tokio::test]
async fn an_upsert_creates_with_201_then_updates_with_200_and_created_false() {
    let sf = Sf::start().await;
    let created = sf.patch("/sobjects/Contact/HubSpot_Id__c/h-1", json!({"LastName": "Ng"})).await;
    assert_eq!(created.status, 201);
    assert_eq!(created.body["created"], true);
    let id = created.body["id"].as_str().unwrap().to_string();
    let updated = sf.patch("/sobjects/Contact/HubSpot_Id__c/h-1", json!({"Title": "CTO"})).await;
    assert_eq!(updated.status, 200);
    assert_eq!(updated.body, json!({"id": id, "success": true, "errors": [], "created": false}));
    let read = sf.get(&format!("/sobjects/Contact/{id}")).await.body;
    assert_eq!(
        (read["HubSpot_Id__c"].as_str(), read["Title"].as_str()),
        (Some("h-1"), Some("CTO"))
    );
}

#[tokio::test]
async fn an_upsert_update_before_v46_answers_204_with_no_body() {
    let sf = Sf::start().await;
    sf.patch("/sobjects/Contact/HubSpot_Id__c/h-1", json!({"LastName": "Ng"})).await;
    let old = sf
        .patch("/services/data/v45.0/sobjects/Contact/HubSpot_Id__c/h-1", json!({"Title": "x"}))
        .await;
    assert_eq!(old.status, 204);
}

#[tokio::test]
async fn an_upsert_matching_two_records_answers_300_and_writes_nothing() {
    let sf = Sf::start().await;
    let a = sf.create("Account", json!({"Name": "A", "Legacy_Id__c": "L1"})).await;
    let b = sf.create("Account", json!({"Name": "B", "Legacy_Id__c": "L1"})).await;
    let answer = sf.patch("/sobjects/Account/Legacy_Id__c/L1", json!({"Name": "C"})).await;
    assert_eq!(answer.status, 300);
    let urls = answer.body.as_array().unwrap();
    assert!(urls.iter().any(|u| u.as_str().unwrap().ends_with(&a)));
    assert!(urls.iter().any(|u| u.as_str().unwrap().ends_with(&b)));
    assert_eq!(sf.rows("SELECT Id FROM Account WHERE Name = 'C'").await.len(), 0);
    assert_eq!(sf.get("/sobjects/Account/Legacy_Id__c/L1").await.status, 300);
}

#[tokio::test]
async fn an_upsert_on_a_field_that_is_not_an_external_id_answers_404() {
    let sf = Sf::start().await;
    let answer = sf.patch("/sobjects/Contact/Email/a@b.co", json!({"LastName": "Ng"})).await;
    assert_eq!((answer.status, answer.error_code()), (404, "NOT_FOUND"));
    assert!(answer.body[0]["message"].as_str().unwrap().contains("Email"));
}

#[tokio::test]
async fn an_update_only_upsert_of_a_missing_key_answers_404_and_creates_nothing() {
    let sf = Sf::start().await;
    let answer = sf
        .patch("/sobjects/Contact/HubSpot_Id__c/nope?updateOnly=true", json!({"LastName": "Ng"}))
        .await;
    assert_eq!((answer.status, answer.error_code()), (404, "NOT_FOUND"));
    assert_eq!(sf.sim.count("Contact", true), 0);
}

#[tokio::test]
async fn with_the_switch_an_update_only_upsert_of_a_missing_key_answers_invalid_cross_reference_key()
 {
    let config =
        SimConfig { update_only_miss: UpdateOnlyMiss::InvalidCrossReferenceKey, ..test_config() };
    let sf = Sf::start_with(config).await;
    let path = "/sobjects/Contact/HubSpot_Id__c/nope?updateOnly=true";
    let answer = sf.patch(path, json!({"LastName": "Ng"})).await;
    assert_eq!((answer.status, answer.error_code()), (400, "INVALID_CROSS_REFERENCE_KEY"));
    assert_eq!(answer.body[0]["fields"], json!(["HubSpot_Id__c"]));
    assert_eq!(sf.sim.count("Contact", true), 0, "nothing is created");
    sf.create("Contact", json!({"LastName": "Ng", "HubSpot_Id__c": "nope"})).await;
    let hit = sf.patch(path, json!({"Title": "CTO"})).await;
    assert_eq!(hit.status, 200, "a match is updated as before: {}", hit.body);
}

#[tokio::test]
async fn with_the_switch_a_300_lists_the_matching_records_with_their_attributes() {
    let config = SimConfig { multiple_choices_body: MultipleChoicesBody::Records, ..test_config() };
    let sf = Sf::start_with(config).await;
    let a = sf.create("Account", json!({"Name": "A", "Legacy_Id__c": "L1"})).await;
    let b = sf.create("Account", json!({"Name": "B", "Legacy_Id__c": "L1"})).await;
    let url = |id: &str| format!("/services/data/{V}/sobjects/Account/{id}");
    let expected = json!([
        {"attributes": {"type": "Account", "url": url(&a)}, "Id": a},
        {"attributes": {"type": "Account", "url": url(&b)}, "Id": b},
    ]);
    let upsert = sf.patch("/sobjects/Account/Legacy_Id__c/L1", json!({"Name": "C"})).await;
    assert_eq!((upsert.status, &upsert.body), (300, &expected));
    let read = sf.get("/sobjects/Account/Legacy_Id__c/L1").await;
    assert_eq!((read.status, &read.body), (300, &expected));
}

#[tokio::test]
async fn an_opportunity_needs_a_name_a_stage_and_a_close_date() {
    let sf = Sf::start().await;
    let answer = sf.post("/sobjects/Opportunity", json!({"Name": "Deal"})).await;
    assert_eq!((answer.status, answer.error_code()), (400, "REQUIRED_FIELD_MISSING"));
    assert_eq!(answer.body[0]["fields"], json!(["StageName", "CloseDate"]));
    let described = sf.get("/sobjects/Opportunity/describe").await.body;
    let nillable = |name: &str| {
        let fields = described["fields"].as_array().unwrap();
        fields.iter().find(|f| f["name"] == name).unwrap()["nillable"].clone()
    };
    assert_eq!((nillable("StageName"), nillable("CloseDate")), (json!(false), json!(false)));
}

#[tokio::test]
async fn with_the_switch_an_opportunity_needs_only_a_name() {
    let config = SimConfig { opportunity_required: OpportunityRequired::NameOnly, ..test_config() };
    let sf = Sf::start_with(config).await;
    let id = sf.create("Opportunity", json!({"Name": "Deal"})).await;
    let read = sf.get(&format!("/sobjects/Opportunity/{id}")).await.body;
    assert_eq!((&read["StageName"], &read["CloseDate"]), (&Value::Null, &Value::Null));
    let nameless = sf.post("/sobjects/Opportunity", json!({"StageName": "Prospecting"})).await;
    assert_eq!((nameless.status, nameless.error_code()), (400, "REQUIRED_FIELD_MISSING"));
    assert_eq!(nameless.body[0]["fields"], json!(["Name"]));
    let described = sf.get("/sobjects/Opportunity/describe").await.body;
    let stage = described["fields"].as_array().unwrap().iter().find(|f| f["name"] == "StageName");
    assert_eq!(stage.unwrap()["nillable"], true);
}

#[tokio::test]
async fn reading_by_external_id_returns_the_record() {
    let sf = Sf::start().await;
    let id = sf.create("Contact", json!({"LastName": "Ng", "HubSpot_Id__c": "h-9"})).await;
    let answer = sf.get("/sobjects/Contact/HubSpot_Id__c/H-9?fields=LastName").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["LastName"], "Ng");
    assert!(answer.body["attributes"]["url"].as_str().unwrap().ends_with(&id));
    assert_eq!(sf.get("/sobjects/Contact/HubSpot_Id__c/none").await.status, 404);
}

#[tokio::test]
async fn posting_to_the_id_field_path_inserts_a_record() {
    let sf = Sf::start().await;
    let answer = sf.post("/sobjects/Contact/Id", json!({"LastName": "Ng"})).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
}

#[tokio::test]
async fn posting_to_the_id_field_path_before_v37_answers_405_and_inserts_nothing() {
    let sf = Sf::start().await;
    let answer =
        sf.post("/services/data/v36.0/sobjects/Contact/Id", json!({"LastName": "Ng"})).await;
    assert_eq!((answer.status, answer.error_code()), (405, "METHOD_NOT_ALLOWED"));
    assert_eq!(sf.sim.count("Contact", true), 0);
}

#[tokio::test]
async fn with_version_gates_off_posting_to_the_id_field_path_before_v37_inserts() {
    let config = SimConfig { enforce_version_gates: false, ..test_config() };
    let sf = Sf::start_with(config).await;
    let answer =
        sf.post("/services/data/v36.0/sobjects/Contact/Id", json!({"LastName": "Ng"})).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    assert_eq!(sf.sim.count("Contact", true), 1);
}

#[tokio::test]
async fn an_upsert_keyed_on_the_record_id_answers_404_and_changes_nothing() {
    let sf = Sf::start().await;
    let id = sf.create("Contact", json!({"LastName": "Ng", "Title": "CTO"})).await;
    let answer = sf.patch(&format!("/sobjects/Contact/Id/{id}"), json!({"Title": "CEO"})).await;
    assert_eq!((answer.status, answer.error_code()), (404, "NOT_FOUND"));
    let message = answer.body[0]["message"].as_str().unwrap();
    assert!(message.ends_with("external ID field does not exist or is not accessible: Id"));
    assert_eq!(sf.sim.record(&id).unwrap()["Title"], "CTO");
    let missing = ids::make("003", 999_999);
    let create =
        sf.patch(&format!("/sobjects/Contact/Id/{missing}"), json!({"LastName": "A"})).await;
    assert_eq!(create.status, 404, "nor does an unknown id create a record");
    assert_eq!(sf.sim.count("Contact", true), 1);
}

#[tokio::test]
async fn patching_or_deleting_the_id_field_path_without_a_value_answers_405() {
    let sf = Sf::start().await;
    for path in ["/sobjects/Contact/Id", "/sobjects/Contact/Id/"] {
        let patch = sf.patch(path, json!({"LastName": "Ng"})).await;
        assert_eq!((patch.status, patch.error_code()), (405, "METHOD_NOT_ALLOWED"), "{path}");
        let message = patch.body[0]["message"].as_str().unwrap();
        assert_eq!(message, "HTTP Method 'PATCH' not allowed. Allowed are GET,HEAD,POST");
    }
    let delete = sf.delete("/sobjects/Contact/Id").await;
    assert_eq!((delete.status, delete.error_code()), (405, "METHOD_NOT_ALLOWED"));
    assert_eq!(sf.sim.count("Contact", true), 0);
}

#[tokio::test]
async fn a_body_that_is_not_a_json_object_answers_json_parser_error() {
    let sf = Sf::start().await;
    let response = sf
        .http
        .post(sf.url("/sobjects/Contact"))
        .bearer_auth(&sf.token)
        .header("content-type", "application/json")
        .body("{not json")
        .send()
        .await
        .unwrap();
    let answer = super::answer(response).await;
    assert_eq!((answer.status, answer.error_code()), (400, "JSON_PARSER_ERROR"));
}

#[tokio::test]
async fn an_update_with_if_unmodified_since_before_the_last_change_answers_412() {
    let sf = Sf::start().await;
    sf.sim.clock().freeze();
    let id = sf.contact("Ng").await;
    let created = sf.sim.clock().now();
    sf.sim.clock().advance(chrono::Duration::minutes(5));
    sf.sim.edit_as_user(&id, json!({"Title": "changed in the UI"})).unwrap();
    let stale = created.to_rfc2822();
    let path = format!("/sobjects/Contact/{id}");
    let answer = sf
        .call_with(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"Title": "mine"})),
            &[("If-Unmodified-Since", &stale)],
        )
        .await;
    assert_eq!(answer.status, 412);
    let fresh = sf.sim.clock().now().to_rfc2822();
    let answer = sf
        .call_with(
            reqwest::Method::PATCH,
            &path,
            Some(json!({"Title": "mine"})),
            &[("If-Unmodified-Since", &fresh)],
        )
        .await;
    assert_eq!(answer.status, 204);
}
