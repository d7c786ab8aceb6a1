//! sObject Collections: create, update, upsert, delete and retrieve up to 200 records.

use reqwest::Method;
use serde_json::{Value, json};

use salesforce_sim::SimConfig;

use super::{Sf, test_config};

fn contact(last: &str) -> Value {
    json!({"attributes": {"type": "Contact"}, "LastName": last})
}

#[tokio::test]
async fn a_collections_create_answers_per_record_results_in_request_order() {
    let sf = Sf::start().await;
    let body = json!({"records": [
        contact("A"),
        {"attributes": {"type": "Contact"}, "FirstName": "no last name"},
        {"attributes": {"type": "Account"}, "Name": "Acme"},
    ]});
    let answer = sf.post("/composite/sobjects", body).await;
    assert_eq!(answer.status, 200);
    let results = answer.body.as_array().unwrap();
    assert_eq!(results.len(), 3);
    assert_eq!(results[0]["success"], true);
    assert!(results[0]["id"].as_str().unwrap().starts_with("003"));
    assert_eq!(results[1]["success"], false);
    assert_eq!(results[1]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
    assert_eq!(results[1]["errors"][0]["fields"], json!(["LastName"]));
    assert!(results[2]["id"].as_str().unwrap().starts_with("001"));
    assert_eq!(sf.sim.count("Contact", false), 1);
}

#[tokio::test]
async fn all_or_none_rolls_back_every_record_when_one_fails() {
    let sf = Sf::start().await;
    let existing = sf.contact("Keep").await;
    let body = json!({"allOrNone": true, "records": [
        contact("A"),
        {"attributes": {"type": "Contact"}, "Title": "no last name"},
        contact("C"),
    ]});
    let results = sf.post("/composite/sobjects", body).await.body;
    let codes: Vec<&str> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["errors"][0]["statusCode"].as_str().unwrap())
        .collect();
    assert_eq!(
        codes,
        [
            "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "REQUIRED_FIELD_MISSING",
            "ALL_OR_NONE_OPERATION_ROLLED_BACK"
        ]
    );
    assert_eq!(sf.sim.count("Contact", true), 1);
    let update = json!({"allOrNone": true, "records": [
        {"attributes": {"type": "Contact"}, "id": existing, "Title": "changed"},
        {"attributes": {"type": "Contact"}, "id": existing, "Nope__c": 1},
    ]});
    let results = sf.patch("/composite/sobjects", update).await.body;
    assert_eq!(results[0]["success"], false);
    assert_eq!(results[0]["errors"][0]["statusCode"], "ALL_OR_NONE_OPERATION_ROLLED_BACK");
    assert_eq!(results[1]["errors"][0]["statusCode"], "INVALID_FIELD");
    assert_eq!(
        sf.sim.record(&existing).unwrap()["Title"],
        Value::Null,
        "the first update was rolled back"
    );
}

#[tokio::test]
async fn an_all_or_none_collections_upsert_rolls_back_creates_and_updates_when_one_fails() {
    let sf = Sf::start().await;
    let existing = sf.create("Contact", json!({"LastName": "Old", "HubSpot_Id__c": "h0"})).await;
    let body = json!({"allOrNone": true, "records": [
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h1", "LastName": "New"},
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h2", "Title": "no last name"},
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h0", "LastName": "Changed"},
    ]});
    let answer = sf.patch("/composite/sobjects/Contact/HubSpot_Id__c", body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    let codes: Vec<&str> = answer
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["errors"][0]["statusCode"].as_str().unwrap_or("success"))
        .collect();
    assert_eq!(
        codes,
        [
            "ALL_OR_NONE_OPERATION_ROLLED_BACK",
            "REQUIRED_FIELD_MISSING",
            "ALL_OR_NONE_OPERATION_ROLLED_BACK"
        ]
    );
    assert!(answer.body.as_array().unwrap().iter().all(|r| r["success"] == false));
    assert!(sf.sim.find("Contact", "HubSpot_Id__c", "h1").is_empty(), "the create was undone");
    assert_eq!(sf.sim.record(&existing).unwrap()["LastName"], "Old", "the update was undone");
    assert_eq!(sf.sim.count("Contact", true), 1);
}

/// The ids of the Contacts whose echo marker names `client`.
async fn marked(sf: &Sf, client: &str) -> Vec<String> {
    let soql =
        format!("SELECT Id FROM Contact WHERE LastModifiedByClient = '{client}' ORDER BY Id");
    let rows = sf.rows(&soql).await;
    rows.iter().map(|r| r["Id"].as_str().unwrap().to_string()).collect()
}

fn ids_of(results: &Value) -> Vec<String> {
    let mut ids: Vec<String> = results
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().expect("a success with an id").to_string())
        .collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn every_collections_write_records_the_calling_client_as_the_echo_marker() {
    let sf = Sf::start().await;
    let call = |method: Method, path: &'static str, body: Value, client: &'static str| {
        let options = format!("client={client}");
        let sf = &sf;
        async move {
            let answer = sf
                .call_with(method, path, Some(body), &[("Sforce-Call-Options", options.as_str())])
                .await;
            assert_eq!(answer.status, 200, "{}", answer.body);
            answer.body
        }
    };
    let created = call(
        Method::POST,
        "/composite/sobjects",
        json!({"records": [contact("A"), contact("B")]}),
        "hs-create",
    )
    .await;
    assert_eq!(marked(&sf, "hs-create").await, ids_of(&created));
    let user_made = sf.sim.create_as_user("Contact", json!({"LastName": "U"})).unwrap();
    let updated = call(
        Method::PATCH,
        "/composite/sobjects",
        json!({"records": [{"attributes": {"type": "Contact"}, "id": user_made, "Title": "T"}]}),
        "hs-update",
    )
    .await;
    assert_eq!(marked(&sf, "hs-update").await, vec![user_made.clone()]);
    assert_eq!(ids_of(&updated), vec![user_made.clone()]);
    sf.sim.edit_as_user(&user_made, json!({"HubSpot_Id__c": "h9"})).unwrap();
    let upserted = call(
        Method::PATCH,
        "/composite/sobjects/Contact/HubSpot_Id__c",
        json!({"records": [
            {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h9", "Title": "Again"},
            {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h10", "LastName": "New"},
        ]}),
        "hs-upsert",
    )
    .await;
    assert_eq!(marked(&sf, "hs-upsert").await, ids_of(&upserted));
    assert!(marked(&sf, "hs-upsert").await.contains(&user_made), "the updated row too");
    assert_eq!(marked(&sf, "hs-update").await, Vec::<String>::new(), "the upsert re-marked it");
}

#[tokio::test]
async fn a_collections_delete_of_more_than_200_ids_is_refused_whole() {
    let sf = Sf::start().await;
    let kept = sf.contact("Kept").await;
    let mut ids: Vec<String> =
        (1..=200).map(|n| salesforce_sim::ids::make("003", 500_000 + n)).collect();
    ids.push(kept.clone());
    let answer = sf.delete(&format!("/composite/sobjects?ids={}", ids.join(","))).await;
    assert_eq!(answer.status, 400, "{}", answer.body);
    assert!(answer.body[0]["errorCode"].is_string(), "{}", answer.body);
    assert_eq!(sf.sim.record(&kept).unwrap()["IsDeleted"], false);
    ids.remove(0);
    let within = sf.delete(&format!("/composite/sobjects?ids={}", ids.join(","))).await;
    assert_eq!(within.status, 200, "200 ids are taken");
    assert_eq!(sf.sim.record(&kept).unwrap()["IsDeleted"], true);
}

#[tokio::test]
async fn a_collections_upsert_creates_and_updates_by_external_id() {
    let sf = Sf::start().await;
    let id = sf.create("Contact", json!({"LastName": "Old", "HubSpot_Id__c": "h1"})).await;
    let body = json!({"allOrNone": false, "records": [
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h1", "LastName": "New"},
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h2", "LastName": "Two"},
    ]});
    let answer = sf.patch("/composite/sobjects/Contact/HubSpot_Id__c", body).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body[0], json!({"id": id, "success": true, "errors": [], "created": false}));
    assert_eq!(answer.body[1]["created"], true);
    assert_eq!(sf.sim.record(&id).unwrap()["LastName"], "New");
    assert_eq!(sf.sim.find("Contact", "HubSpot_Id__c", "h2").len(), 1);
}

#[tokio::test]
async fn a_collections_upsert_with_a_repeated_key_fails_those_records_only() {
    let sf = Sf::start().await;
    let body = json!({"records": [
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h1", "LastName": "A"},
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "H1", "LastName": "B"},
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h3", "LastName": "C"},
        {"attributes": {"type": "Contact"}, "LastName": "no key"},
    ]});
    let results = sf.patch("/composite/sobjects/Contact/HubSpot_Id__c", body).await.body;
    assert_eq!(results[0]["errors"][0]["statusCode"], "DUPLICATE_EXTERNAL_ID");
    assert_eq!(results[1]["errors"][0]["statusCode"], "DUPLICATE_EXTERNAL_ID");
    assert_eq!(results[2]["success"], true);
    assert_eq!(results[3]["errors"][0]["statusCode"], "REQUIRED_FIELD_MISSING");
}

#[tokio::test]
async fn a_collections_upsert_on_a_non_unique_key_held_twice_fails_that_record() {
    let sf = Sf::start().await;
    sf.create("Account", json!({"Name": "A", "Legacy_Id__c": "L"})).await;
    sf.create("Account", json!({"Name": "B", "Legacy_Id__c": "L"})).await;
    let body =
        json!({"records": [{"attributes": {"type": "Account"}, "Legacy_Id__c": "L", "Name": "C"}]});
    let results = sf.patch("/composite/sobjects/Account/Legacy_Id__c", body).await.body;
    assert_eq!(results[0]["success"], false);
}

#[tokio::test]
async fn a_collections_upsert_keyed_on_id_is_refused_whole_and_writes_nothing() {
    let sf = Sf::start().await;
    let existing = sf.create("Contact", json!({"LastName": "Old"})).await;
    let body = json!({"allOrNone": false, "records": [
        {"attributes": {"type": "Contact"}, "Id": existing, "LastName": "Changed"},
        {"attributes": {"type": "Contact"}, "LastName": "New"},
    ]});
    for path in ["/composite/sobjects/Contact/Id", "/composite/sobjects/Contact/id"] {
        let answer = sf.patch(path, body.clone()).await;
        assert_eq!((answer.status, answer.error_code()), (404, "NOT_FOUND"), "{}", answer.body);
        let message = answer.body[0]["message"].as_str().unwrap();
        assert!(message.ends_with("external ID field does not exist or is not accessible: Id"));
    }
    assert_eq!(sf.sim.record(&existing).unwrap()["LastName"], "Old");
    assert_eq!(sf.sim.count("Contact", true), 1);
}

#[tokio::test]
async fn more_than_200_records_are_refused_whole() {
    let sf = Sf::start().await;
    let records: Vec<Value> = (0..201).map(|i| contact(&format!("C{i}"))).collect();
    let answer = sf.post("/composite/sobjects", json!({"records": records})).await;
    assert_eq!((answer.status, answer.error_code()), (400, "EXCEEDED_ID_LIMIT"));
    assert_eq!(sf.sim.count("Contact", true), 0);
}

#[tokio::test]
async fn a_collections_update_changes_records_by_id() {
    let sf = Sf::start().await;
    let a = sf.contact("A").await;
    let body = json!({"records": [
        {"attributes": {"type": "Contact"}, "id": a, "Title": "T"},
        {"attributes": {"type": "Contact"}, "Title": "no id"},
    ]});
    let results = sf.patch("/composite/sobjects", body).await.body;
    assert_eq!(results[0], json!({"id": a, "success": true, "errors": []}));
    assert_eq!(results[1]["errors"][0]["statusCode"], "MISSING_ARGUMENT");
    assert_eq!(sf.sim.record(&a).unwrap()["Title"], "T");
}

#[tokio::test]
async fn a_collections_delete_removes_records_and_reports_each_one() {
    let sf = Sf::start().await;
    let a = sf.contact("A").await;
    let b = sf.contact("B").await;
    sf.sim.delete_as_user(&b).unwrap();
    let results = sf.delete(&format!("/composite/sobjects?ids={a},{b}")).await.body;
    assert_eq!(results[0]["success"], true);
    assert_eq!(results[1]["errors"][0]["statusCode"], "ENTITY_IS_DELETED");
    assert_eq!(sf.sim.count("Contact", false), 0);
    let c = sf.contact("C").await;
    let rolled = sf.delete(&format!("/composite/sobjects?ids={c},{b}&allOrNone=true")).await.body;
    assert_eq!(rolled[0]["errors"][0]["statusCode"], "ALL_OR_NONE_OPERATION_ROLLED_BACK");
    assert_eq!(sf.sim.record(&c).unwrap()["IsDeleted"], false);
}

#[tokio::test]
async fn retrieve_returns_records_in_id_order_with_null_for_unknown_ids() {
    let sf = Sf::start().await;
    let a = sf.contact("A").await;
    let b = sf.contact("B").await;
    let missing = salesforce_sim::ids::make("003", 999_999);
    let got =
        sf.get(&format!("/composite/sobjects/Contact?ids={b},{missing},{a}&fields=LastName")).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body[0]["LastName"], "B");
    assert_eq!(got.body[1], Value::Null);
    assert_eq!(got.body[2]["LastName"], "A");
    let posted = sf
        .post("/composite/sobjects/Contact", json!({"ids": [a], "fields": ["Id", "LastName"]}))
        .await;
    assert_eq!(posted.body[0]["Id"], a.as_str());
    let bad = sf.post("/composite/sobjects/Contact", json!({"ids": [a], "fields": ["Nope"]})).await;
    assert_eq!((bad.status, bad.error_code()), (400, "INVALID_FIELD"));
}

#[tokio::test]
async fn collections_need_api_v42_and_collection_upserts_v46() {
    let sf = Sf::start().await;
    let body = json!({"records": [contact("A")]});
    assert_eq!(sf.post("/services/data/v41.0/composite/sobjects", body.clone()).await.status, 404);
    let upsert = json!({"records": [{"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h", "LastName": "A"}]});
    assert_eq!(
        sf.patch("/services/data/v45.0/composite/sobjects/Contact/HubSpot_Id__c", upsert)
            .await
            .status,
        404
    );
}

#[tokio::test]
async fn with_version_gates_off_old_versions_serve_collections_and_collection_upserts() {
    let config = SimConfig { enforce_version_gates: false, ..test_config() };
    let sf = Sf::start_with(config).await;
    let body = json!({"records": [contact("A")]});
    let created = sf.post("/services/data/v41.0/composite/sobjects", body).await;
    assert_eq!(created.status, 200, "{}", created.body);
    assert_eq!(created.body[0]["success"], true);
    let upsert = json!({"records": [{"attributes": {"type": "Contact"}, "HubSpot_Id__c": "h", "LastName": "B"}]});
    let upserted =
        sf.patch("/services/data/v45.0/composite/sobjects/Contact/HubSpot_Id__c", upsert).await;
    assert_eq!(upserted.status, 200, "{}", upserted.body);
    assert_eq!(upserted.body[0]["created"], true);
    assert_eq!(sf.sim.count("Contact", true), 2);
}

#[tokio::test]
async fn records_written_are_counted_per_endpoint() {
    let sf = Sf::start().await;
    let records: Vec<Value> = (0..3).map(|i| contact(&format!("C{i}"))).collect();
    sf.post("/composite/sobjects", json!({"records": records})).await;
    let stats = sf.sim.stats().snapshot();
    let entry = &stats["POST /services/data/{v}/composite/sobjects"];
    assert_eq!(entry.requests, 1);
    assert_eq!(entry.records_written, 3);
    assert_eq!(entry.by_status[&200], 1);
}

#[tokio::test]
async fn a_record_a_validation_rule_rejects_fails_alone_in_its_batch() {
    let sf = Sf::start().await;
    sf.sim.reject_records("Contact", "LastName", json!("Bad"), "Last name may not be Bad").unwrap();
    let body = json!({"records": [contact("Good"), contact("bad"), contact("Fine")]});
    let results = sf.post("/composite/sobjects", body).await.body;
    assert_eq!(results[0]["success"], true);
    assert_eq!(results[1]["errors"][0]["statusCode"], "FIELD_CUSTOM_VALIDATION_EXCEPTION");
    assert_eq!(results[1]["errors"][0]["message"], "Last name may not be Bad");
    assert_eq!(results[2]["success"], true);
    sf.sim.clear_record_faults();
    assert_eq!(sf.post("/sobjects/Contact", json!({"LastName": "Bad"})).await.status, 201);
}

#[tokio::test]
async fn locked_rows_fail_the_next_writes_with_unable_to_lock_row_then_clear() {
    let sf = Sf::start().await;
    sf.sim.lock_rows("Contact", 2).unwrap();
    let body = json!({"records": [
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "a", "LastName": "A"},
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "b", "LastName": "B"},
        {"attributes": {"type": "Contact"}, "HubSpot_Id__c": "c", "LastName": "C"},
    ]});
    let results = sf.patch("/composite/sobjects/Contact/HubSpot_Id__c", body.clone()).await.body;
    let codes: Vec<_> =
        results.as_array().unwrap().iter().map(|r| r["errors"][0]["statusCode"].clone()).collect();
    assert_eq!(codes, [json!("UNABLE_TO_LOCK_ROW"), json!("UNABLE_TO_LOCK_ROW"), Value::Null]);
    let retried = sf.patch("/composite/sobjects/Contact/HubSpot_Id__c", body).await.body;
    assert!(retried.as_array().unwrap().iter().all(|r| r["success"] == true), "{retried}");
    assert_eq!(sf.sim.count("Contact", false), 3);
}

#[tokio::test]
async fn a_malformed_parameter_answers_a_json_error() {
    let sf = Sf::start().await;
    let a = sf.contact("A").await;
    let answer = sf.delete(&format!("/composite/sobjects?ids={a}&allOrNone=maybe")).await;
    assert_eq!((answer.status, answer.error_code()), (400, "INVALID_QUERY_PARAMETER"));
}
