//! Ids, names, describe and the shape of paths.

use salesforce_sim::ids;
use serde_json::json;

use super::{Sf, V};

#[tokio::test]
async fn created_ids_are_eighteen_characters_with_the_key_prefix_and_a_valid_checksum() {
    let sf = Sf::start().await;
    let account = sf.create("Account", json!({"Name": "Acme"})).await;
    let contact = sf.contact("Ng").await;
    let lead = sf.create("Lead", json!({"LastName": "Lee", "Company": "Co"})).await;
    let deal = json!({"Name": "Big", "StageName": "Prospecting", "CloseDate": "2026-06-30"});
    let opportunity = sf.create("Opportunity", deal).await;
    let made = [(&account, "001"), (&contact, "003"), (&lead, "00Q"), (&opportunity, "006")];
    for (id, prefix) in made {
        assert_eq!(id.len(), 18);
        assert_eq!(&id[..3], prefix);
        assert_eq!(&id[15..], ids::checksum(&id[..15]));
    }
}

#[tokio::test]
async fn a_fifteen_character_or_lowercased_id_reads_the_same_record() {
    let sf = Sf::start().await;
    let id = sf.contact("Ng").await;
    for form in [id[..15].to_string(), id.to_lowercase()] {
        let answer = sf.get(&format!("/sobjects/Contact/{form}")).await;
        assert_eq!(answer.status, 200, "{form}");
        assert_eq!(answer.body["Id"], id.as_str());
    }
}

#[tokio::test]
async fn global_describe_lists_the_standard_and_custom_objects() {
    let sf = Sf::start().await;
    let answer = sf.get("/sobjects").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["maxBatchSize"], 200);
    let names: Vec<&str> = answer.body["sobjects"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| o["name"].as_str().unwrap())
        .collect();
    for name in
        ["Account", "Contact", "Lead", "Opportunity", "Case", "Task", "Event", "User", "Foo__c"]
    {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let foo =
        answer.body["sobjects"].as_array().unwrap().iter().find(|o| o["name"] == "Foo__c").unwrap();
    assert_eq!(foo["custom"], true);
    assert_eq!(foo["keyPrefix"], "a00");
}

#[tokio::test]
async fn describe_reports_types_external_ids_requiredness_and_restricted_picklists() {
    let sf = Sf::start().await;
    let answer = sf.get("/sobjects/Contact/describe").await;
    assert_eq!(answer.status, 200);
    assert_eq!(answer.body["keyPrefix"], "003");
    let field = |name: &str| {
        answer.body["fields"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["name"] == name)
            .cloned()
            .unwrap()
    };
    let ext = field("HubSpot_Id__c");
    assert_eq!(
        (ext["externalId"].clone(), ext["unique"].clone(), ext["custom"].clone()),
        (json!(true), json!(true), json!(true))
    );
    let last = field("LastName");
    assert_eq!(
        (last["type"].clone(), last["nillable"].clone(), last["createable"].clone()),
        (json!("string"), json!(false), json!(true))
    );
    let modstamp = field("SystemModstamp");
    assert_eq!(
        (modstamp["type"].clone(), modstamp["createable"].clone(), modstamp["updateable"].clone()),
        (json!("datetime"), json!(false), json!(false))
    );
    assert_eq!(field("Email")["type"], "email");
    assert_eq!(field("AccountId")["referenceTo"], json!(["Account"]));
    assert_eq!(field("LastModifiedByClient")["type"], "string");
    let lead = sf.get("/sobjects/Lead/describe").await;
    let status = lead.body["fields"]
        .as_array()
        .unwrap()
        .iter()
        .find(|f| f["name"] == "Status")
        .cloned()
        .unwrap();
    assert_eq!(status["restrictedPicklist"], true);
    assert_eq!(status["picklistValues"][0]["value"], "Open - Not Contacted");
}

#[tokio::test]
async fn object_and_field_names_are_case_insensitive() {
    let sf = Sf::start().await;
    let answer =
        sf.post("/sobjects/contact", json!({"lastname": "Ng", "EMAIL": "ng@example.com"})).await;
    assert_eq!(answer.status, 201, "{}", answer.body);
    let id = answer.body["id"].as_str().unwrap();
    let read = sf.get(&format!("/sobjects/CONTACT/{id}?fields=lastNAME,email")).await;
    assert_eq!(read.body["LastName"], "Ng");
    assert_eq!(read.body["Email"], "ng@example.com");
    let rows = sf.rows("select lastname from CONTACT where EMAIL = 'ng@example.com'").await;
    assert_eq!(rows[0]["LastName"], "Ng");
    assert_eq!(sf.get("/sobjects/foo__C/describe").await.body["name"], "Foo__c");
}

#[tokio::test]
async fn an_unknown_object_answers_404_not_found() {
    let sf = Sf::start().await;
    let answer = sf.get("/sobjects/Nope__c/describe").await;
    assert_eq!(answer.status, 404);
    assert_eq!(answer.error_code(), "NOT_FOUND");
    assert!(answer.header("content-type").unwrap().starts_with("application/json;charset=UTF-8"));
}

#[tokio::test]
async fn paths_work_with_and_without_a_trailing_slash() {
    let sf = Sf::start().await;
    assert_eq!(sf.get("/sobjects/").await.status, 200);
    assert_eq!(sf.get("/sobjects/Account/describe/").await.status, 200);
    assert_eq!(sf.get("/sobjects/Account/").await.body["objectDescribe"]["name"], "Account");
    let url = format!("{}/query/", sf.sim.data_url(V));
    let request = sf.http.get(url).query(&[("q", "SELECT Id FROM Account")]).bearer_auth(&sf.token);
    assert_eq!(request.send().await.unwrap().status(), 200);
}

#[tokio::test]
async fn any_version_segment_works_and_a_malformed_one_answers_404() {
    let sf = Sf::start().await;
    assert_eq!(sf.get("/services/data/v66.0/sobjects").await.status, 200);
    assert_eq!(sf.get("/services/data/v31.0/limits").await.status, 200);
    assert_eq!(sf.get("/services/data/latest/sobjects").await.status, 404);
}

#[tokio::test]
async fn the_version_list_is_served_without_a_session() {
    let sf = Sf::start().await;
    let response =
        sf.http.get(format!("{}/services/data/", sf.sim.base_url())).send().await.unwrap();
    let answer = super::answer(response).await;
    assert_eq!(answer.status, 200);
    assert!(answer.body.as_array().unwrap().iter().any(|v| v["version"] == "59.0"));
}

#[tokio::test]
async fn an_unsupported_method_answers_405_with_a_json_error() {
    let sf = Sf::start().await;
    let answer = sf.call(reqwest::Method::PUT, "/sobjects/Account/describe", None).await;
    assert_eq!((answer.status, answer.error_code()), (405, "METHOD_NOT_ALLOWED"));
}
