//! Single-record endpoints: shapes, validation, uniqueness, history and paging.

use serde_json::{Value, json};

use super::{Sim, is_iso_millis};

#[tokio::test]
async fn a_created_contact_comes_back_201_with_string_ids_and_millisecond_timestamps() {
    let sim = Sim::start().await;
    let reply = sim
        .post(
            "/crm/v3/objects/contacts",
            json!({"properties": {"email": "Ann@Example.com", "firstname": "Ann"}}),
        )
        .await;
    assert_eq!(reply.status, 201);
    let body = &reply.body;
    let id = body["id"].as_str().expect("id is a string");
    assert_eq!(body["properties"]["hs_object_id"], json!(id));
    assert_eq!(body["archived"], json!(false));
    assert!(is_iso_millis(&body["createdAt"]) && is_iso_millis(&body["updatedAt"]), "{body}");
    assert!(is_iso_millis(&body["properties"]["lastmodifieddate"]));
    assert!(is_iso_millis(&body["properties"]["createdate"]));
}

#[tokio::test]
async fn a_read_returns_the_default_properties_with_nulls_for_empty_ones() {
    let sim = Sim::start().await;
    let id = sim.create("contacts", json!({"email": "bo@example.com"})).await;
    let reply = sim.get(&format!("/crm/v3/objects/contacts/{id}")).await;
    assert_eq!(reply.status, 200);
    let properties = reply.body["properties"].as_object().unwrap();
    for name in ["email", "firstname", "lastname", "hs_object_id", "createdate", "lastmodifieddate"]
    {
        assert!(properties.contains_key(name), "{name} missing from {properties:?}");
    }
    assert_eq!(properties["firstname"], json!(null));
}

#[tokio::test]
async fn a_contact_can_be_read_and_updated_by_email_as_id_property() {
    let sim = Sim::start().await;
    let id = sim.create("contacts", json!({"email": "cy@example.com"})).await;
    let reply =
        sim.get("/crm/v3/objects/contacts/CY@example.com?idProperty=email&properties=email").await;
    assert_eq!((reply.status, reply.body["id"].as_str()), (200, Some(id.as_str())));
    let patched = sim
        .patch(
            "/crm/v3/objects/contacts/cy@example.com?idProperty=email",
            json!({"properties": {"firstname": "Cy"}}),
        )
        .await;
    assert_eq!(patched.status, 200);
    assert_eq!(patched.body["properties"]["firstname"], json!("Cy"));
}

#[tokio::test]
async fn an_unknown_property_is_refused_with_property_doesnt_exist() {
    let sim = Sim::start().await;
    let reply =
        sim.post("/crm/v3/objects/contacts", json!({"properties": {"testproperty": "x"}})).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["category"], json!("VALIDATION_ERROR"));
    assert_eq!(reply.body["errors"][0]["code"], json!("PROPERTY_DOESNT_EXIST"));
    assert_eq!(reply.body["errors"][0]["context"]["propertyName"], json!(["testproperty"]));
    assert!(reply.body["correlationId"].is_string());
    assert!(reply.body["message"].as_str().unwrap().starts_with("Property values were not valid"));
}

#[tokio::test]
async fn read_only_bad_option_bad_number_and_non_midnight_dates_each_get_their_own_error() {
    let sim = Sim::start().await;
    let properties = json!({"hs_object_id": "5", "lifecyclestage": "prospect", "date_of_birth": "1430438400001"});
    let reply = sim.post("/crm/v3/objects/contacts", json!({"properties": properties})).await;
    assert_eq!(reply.status, 400);
    let mut codes: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["code"].as_str().unwrap())
        .collect();
    codes.sort();
    assert_eq!(codes, ["INVALID_DATE", "INVALID_OPTION", "READ_ONLY_VALUE"]);
    let deal = sim.post("/crm/v3/objects/deals", json!({"properties": {"dealname": "x", "pipeline": "default", "dealstage": "a", "amount": "1,000"}})).await;
    assert_eq!(deal.body["errors"][0]["code"], json!("INVALID_INTEGER"));
}

#[tokio::test]
async fn a_deal_without_its_required_properties_is_refused() {
    let sim = Sim::start().await;
    let reply = sim.post("/crm/v3/objects/deals", json!({"properties": {"dealname": "Big"}})).await;
    assert_eq!(reply.status, 400);
    let missing: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["context"]["propertyName"][0].as_str().unwrap())
        .collect();
    assert_eq!(missing, ["dealstage", "pipeline"]);
}

#[tokio::test]
async fn a_duplicate_email_gives_409_conflict_naming_the_existing_id() {
    let sim = Sim::start().await;
    let id = sim.create("contacts", json!({"email": "dup@example.com"})).await;
    let reply = sim
        .post("/crm/v3/objects/contacts", json!({"properties": {"email": "DUP@example.com"}}))
        .await;
    assert_eq!(reply.status, 409);
    assert_eq!(reply.body["category"], json!("CONFLICT"));
    assert_eq!(reply.body["message"], json!(format!("Contact already exists. Existing ID: {id}")));
}

#[tokio::test]
async fn a_duplicate_value_of_a_unique_property_gives_409() {
    let sim = Sim::start().await;
    sim.unique_property("deals", "ext_id", "dealinformation").await;
    let deal = json!({"dealname": "a", "pipeline": "default", "dealstage": "s", "ext_id": "E1"});
    let id = sim.create("deals", deal.clone()).await;
    let reply = sim.post("/crm/v3/objects/deals", json!({"properties": deal})).await;
    assert_eq!(reply.status, 409);
    assert!(reply.body["message"].as_str().unwrap().contains(&format!("Existing ID: {id}")));
}

#[tokio::test]
async fn api_writes_record_source_api_and_the_callers_app_id_in_history() {
    let sim = Sim::start().await;
    let id = sim.create("contacts", json!({"firstname": "Di"})).await;
    sim.sim.edit_as_user("contacts", id.parse().unwrap(), json!({"firstname": "Dee"}), 77).unwrap();
    let reply =
        sim.get(&format!("/crm/v3/objects/contacts/{id}?propertiesWithHistory=firstname")).await;
    let history = reply.body["propertiesWithHistory"]["firstname"].as_array().unwrap();
    assert_eq!(history[0]["value"], json!("Dee"));
    assert_eq!(history[0]["sourceType"], json!("CRM_UI"));
    assert_eq!(history[0]["sourceId"], json!("userId:77"));
    assert_eq!(history[1]["sourceType"], json!("API"));
    assert_eq!(history[1]["sourceId"], json!("54321"));
    assert!(is_iso_millis(&history[1]["timestamp"]));
}

#[tokio::test]
async fn an_update_only_changes_what_it_names_and_an_empty_string_clears() {
    let sim = Sim::start().await;
    let id = sim.create("contacts", json!({"firstname": "Ed", "lastname": "Eh"})).await;
    let reply = sim
        .patch(&format!("/crm/v3/objects/contacts/{id}"), json!({"properties": {"firstname": ""}}))
        .await;
    assert_eq!(reply.status, 200);
    let read = sim.get(&format!("/crm/v3/objects/contacts/{id}")).await;
    assert_eq!(read.body["properties"]["firstname"], json!(null));
    assert_eq!(read.body["properties"]["lastname"], json!("Eh"));
}

#[tokio::test]
async fn an_archived_record_is_204_then_404_unless_archived_is_asked_for() {
    let sim = Sim::start().await;
    let id = sim.create("companies", json!({"name": "Gone"})).await;
    assert_eq!(sim.delete(&format!("/crm/v3/objects/companies/{id}")).await.status, 204);
    let missing = sim.get(&format!("/crm/v3/objects/companies/{id}")).await;
    assert_eq!(
        (missing.status, missing.body["category"].as_str()),
        (404, Some("OBJECT_NOT_FOUND"))
    );
    let archived = sim.get(&format!("/crm/v3/objects/companies/{id}?archived=true")).await;
    assert_eq!(archived.body["archived"], json!(true));
    assert!(is_iso_millis(&archived.body["archivedAt"]));
    let listed = sim.get("/crm/v3/objects/companies?archived=true").await;
    assert_eq!(listed.body["results"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn listing_pages_with_after_and_omits_paging_on_the_last_page() {
    let sim = Sim::start().await;
    for i in 0..5 {
        sim.create("companies", json!({"name": format!("c{i}")})).await;
    }
    let first = sim.get("/crm/v3/objects/companies?limit=3&properties=name").await;
    assert_eq!(first.body["results"].as_array().unwrap().len(), 3);
    let after = first.body["paging"]["next"]["after"].as_str().unwrap().to_string();
    let second = sim.get(&format!("/crm/v3/objects/companies?limit=3&after={after}")).await;
    assert_eq!(second.body["results"].as_array().unwrap().len(), 2);
    assert!(second.body.get("paging").is_none());
    let too_many = sim.get("/crm/v3/objects/companies?limit=51&propertiesWithHistory=name").await;
    assert_eq!(too_many.status, 400);
}

#[tokio::test]
async fn object_types_resolve_by_type_id_and_custom_objects_by_qualified_name() {
    let sim = Sim::start().await;
    let id = sim.create("0-2", json!({"name": "By id"})).await;
    assert_eq!(sim.get(&format!("/crm/v3/objects/companies/{id}")).await.status, 200);
    let schema = json!({"name": "vendor", "labels": {"singular": "Vendor", "plural": "Vendors"},
        "primaryDisplayProperty": "vendor_name", "requiredProperties": ["vendor_name"],
        "properties": [{"name": "vendor_name", "label": "Name", "type": "string", "fieldType": "text"}],
        "associatedObjects": ["CONTACT"]});
    let created = sim.post("/crm/v3/schemas", schema).await;
    assert_eq!(created.status, 201, "{}", created.body);
    let type_id = created.body["objectTypeId"].as_str().unwrap().to_string();
    assert!(type_id.starts_with("2-"));
    assert_eq!(created.body["fullyQualifiedName"], json!("p62515_vendor"));
    let vendor = sim.create("p62515_vendor", json!({"vendor_name": "V"})).await;
    assert_eq!(sim.get(&format!("/crm/v3/objects/{type_id}/{vendor}")).await.status, 200);
    assert_eq!(sim.get(&format!("/crm/v3/objects/p_vendor/{vendor}")).await.status, 200);
    assert_eq!(sim.post("/crm/v3/objects/p_vendor", json!({"properties": {}})).await.status, 400);
    assert_eq!(sim.get("/crm/v3/objects/vendor").await.status, 400);
}

#[tokio::test]
async fn properties_can_be_listed_created_with_a_unique_value_at_most_ten_times_and_archived() {
    let sim = Sim::start().await;
    let listed = sim.get("/crm/v3/properties/contacts").await;
    let names: Vec<&str> = listed.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert!(names.contains(&"email") && names.contains(&"lifecyclestage"));
    for i in 0..10 {
        sim.unique_property("contacts", &format!("u{i}"), "contactinformation").await;
    }
    let eleventh = json!({"name": "u10", "label": "u", "type": "string", "fieldType": "text", "groupName": "contactinformation", "hasUniqueValue": true});
    assert_eq!(sim.post("/crm/v3/properties/contacts", eleventh).await.status, 400);
    let read = sim.get("/crm/v3/properties/contacts/u3").await;
    assert_eq!(read.body["hasUniqueValue"], json!(true));
    assert_eq!(sim.delete("/crm/v3/properties/contacts/u3").await.status, 204);
    assert_eq!(sim.get("/crm/v3/properties/contacts/u3").await.status, 404);
    assert_eq!(sim.delete("/crm/v3/properties/contacts/email").await.status, 400);
    let groups = sim.get("/crm/v3/properties/contacts/groups").await;
    assert_eq!(groups.body["results"][0]["name"], json!("contactinformation"));
}

#[tokio::test]
async fn owners_are_read_only_and_seeded_through_the_handle() {
    let sim = Sim::start().await;
    let id = sim.sim.add_owner(json!({"email": "own@example.com", "firstName": "O", "userId": 9}));
    let listed = sim.get("/crm/v3/owners?email=own@example.com").await;
    assert_eq!(listed.body["results"][0]["id"], json!(id));
    assert_eq!(sim.get("/crm/v3/owners/9?idProperty=userId").await.body["id"], json!(id));
    assert_eq!(sim.post("/crm/v3/owners", json!({})).await.status, 405);
}

#[tokio::test]
async fn a_lifecycle_stage_only_moves_forward_unless_cleared_first() {
    let sim = Sim::start().await;
    let id = sim.create("contacts", json!({"lifecyclestage": "customer"})).await;
    let path = format!("/crm/v3/objects/contacts/{id}");
    let back = sim.patch(&path, json!({"properties": {"lifecyclestage": "lead"}})).await;
    assert_eq!(back.status, 400);
    assert_eq!(sim.patch(&path, json!({"properties": {"lifecyclestage": ""}})).await.status, 200);
    assert_eq!(
        sim.patch(&path, json!({"properties": {"lifecyclestage": "lead"}})).await.status,
        200
    );
}

#[tokio::test]
async fn malformed_json_is_refused_with_a_400_validation_error() {
    let sim = Sim::start().await;
    let reply = sim
        .http
        .post(sim.url("/crm/v3/objects/contacts"))
        .bearer_auth(&sim.token)
        .header("content-type", "application/json")
        .body("{\"properties\": ")
        .send()
        .await
        .unwrap();
    assert_eq!(reply.status(), 400);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["category"], json!("VALIDATION_ERROR"));
}

#[tokio::test]
async fn a_property_update_changes_its_label_and_options_but_never_its_uniqueness() {
    let sim = Sim::start().await;
    sim.unique_property("companies", "ext_id", "companyinformation").await;
    let path = "/crm/v3/properties/companies/ext_id";
    let renamed = sim.patch(path, json!({"label": "External"})).await;
    assert_eq!((renamed.status, renamed.body["label"].as_str()), (200, Some("External")));
    assert_eq!(sim.patch(path, json!({"hasUniqueValue": false})).await.status, 400);
    let select = json!({"name": "tier", "label": "Tier", "type": "enumeration", "fieldType": "select",
        "groupName": "companyinformation", "options": [{"label": "Gold", "value": "gold", "hidden": false}]});
    assert_eq!(sim.post("/crm/v3/properties/companies", select).await.status, 201);
    assert_eq!(
        sim.post("/crm/v3/objects/companies", json!({"properties": {"tier": "silver"}}))
            .await
            .status,
        400
    );
    let options = json!({"options": [{"label": "Gold", "value": "gold", "hidden": false}, {"label": "Silver", "value": "silver", "hidden": false}]});
    assert_eq!(sim.patch("/crm/v3/properties/companies/tier", options).await.status, 200);
    assert_eq!(
        sim.post("/crm/v3/objects/companies", json!({"properties": {"tier": "silver"}}))
            .await
            .status,
        201
    );
    let wrong_field = json!({"name": "n", "label": "n", "type": "number", "fieldType": "text", "groupName": "companyinformation"});
    assert_eq!(sim.post("/crm/v3/properties/companies", wrong_field).await.status, 400);
}

#[tokio::test]
async fn a_custom_object_schema_lists_reads_and_deletes_only_when_empty() {
    let sim = Sim::start().await;
    let schema = json!({"name": "machine", "labels": {"singular": "Machine", "plural": "Machines"},
        "requiredProperties": ["serial"], "primaryDisplayProperty": "serial",
        "properties": [{"name": "serial", "label": "Serial", "type": "string", "fieldType": "text"}]});
    let created = sim.post("/crm/v3/schemas", schema).await;
    let type_id = created.body["objectTypeId"].as_str().unwrap().to_string();
    assert_eq!(sim.get("/crm/v3/schemas").await.body["results"][0]["name"], json!("machine"));
    assert_eq!(
        sim.get("/crm-object-schemas/v3/schemas/p62515_machine").await.body["objectTypeId"],
        json!(type_id)
    );
    let id = sim.create(&type_id, json!({"serial": "S1"})).await;
    assert_eq!(sim.delete(&format!("/crm/v3/schemas/{type_id}")).await.status, 400);
    sim.delete(&format!("/crm/v3/objects/{type_id}/{id}")).await;
    assert_eq!(sim.delete(&format!("/crm/v3/schemas/{type_id}")).await.status, 204);
    assert_eq!(sim.get(&format!("/crm/v3/objects/{type_id}")).await.status, 400);
}

#[tokio::test]
async fn properties_can_be_read_created_and_archived_in_batches() {
    let sim = Sim::start().await;
    let read = sim
        .post(
            "/crm/v3/properties/contacts/batch/read",
            json!({"inputs": [{"name": "email"}, {"name": "nope"}]}),
        )
        .await;
    assert_eq!(read.status, 207);
    assert_eq!(read.body["results"][0]["name"], json!("email"));
    let defs = json!({"inputs": [
        {"name": "a1", "label": "A1", "type": "string", "fieldType": "text", "groupName": "contactinformation"},
        {"name": "a2", "label": "A2", "type": "number", "fieldType": "text", "groupName": "contactinformation"}]});
    let created = sim.post("/crm/v3/properties/contacts/batch/create", defs).await;
    assert_eq!((created.status, created.body["numErrors"].as_u64()), (207, Some(1)));
    let archived = sim
        .post(
            "/crm/v3/properties/contacts/batch/archive",
            json!({"inputs": [{"name": "a1"}, {"name": "zz"}]}),
        )
        .await;
    assert_eq!(archived.status, 204);
    assert_eq!(sim.get("/crm/v3/properties/contacts/a1").await.status, 404);
}

#[tokio::test]
async fn a_product_needs_every_property_the_fact_sheet_requires() {
    let sim = Sim::start().await;
    let full = json!({"hs_sku": "SKU-1", "hs_folder": "1", "price": "9.5", "name": "Widget",
                      "description": "A widget"});
    let product = sim.create("products", full.clone()).await;
    let read = sim.get(&format!("/crm/v3/objects/products/{product}?properties=hs_folder")).await;
    assert_eq!(read.body["properties"]["hs_folder"], json!("1"));
    for missing in ["hs_sku", "hs_folder", "price", "name", "description"] {
        let mut properties = full.clone();
        properties.as_object_mut().unwrap().remove(missing);
        let reply = sim.post("/crm/v3/objects/products", json!({"properties": properties})).await;
        assert_eq!(reply.status, 400, "without {missing}: {}", reply.body);
        assert_eq!(reply.body["status"], json!("error"));
        assert_eq!(reply.body["category"], json!("VALIDATION_ERROR"));
        assert!(reply.body["correlationId"].is_string());
        let message = reply.body["message"].as_str().unwrap();
        assert!(message.starts_with("Property values were not valid"), "{message}");
        assert_eq!(reply.body["errors"][0]["context"]["propertyName"], json!([missing]));
        assert!(reply.body["errors"][0]["message"].as_str().unwrap().contains(missing));
    }
    assert_eq!(sim.sim.count("products"), 1);
}

#[tokio::test]
async fn companies_and_deals_have_hubspots_default_properties() {
    let sim = Sim::start().await;
    let names = |body: &Value| -> Vec<String> {
        let results = body["results"].as_array().unwrap();
        results.iter().map(|p| p["name"].as_str().unwrap().to_string()).collect()
    };
    let expected: [(&str, &[&str]); 2] = [
        ("companies", &["name", "domain", "createdate", "hs_lastmodifieddate", "hs_object_id"]),
        (
            "deals",
            &[
                "dealname",
                "amount",
                "closedate",
                "pipeline",
                "dealstage",
                "createdate",
                "hs_lastmodifieddate",
                "hs_object_id",
            ],
        ),
    ];
    for (object, wanted) in expected {
        let listed = names(&sim.get(&format!("/crm/v3/properties/{object}")).await.body);
        for name in wanted {
            assert!(listed.iter().any(|n| n == name), "{object} has {name}: {listed:?}");
        }
    }
    let company = sim.create("companies", json!({"name": "Acme", "domain": "acme.test"})).await;
    let read = sim.get(&format!("/crm/v3/objects/companies/{company}")).await;
    assert_eq!(read.body["properties"]["domain"], json!("acme.test"), "returned by default");
    let deal = sim
        .create(
            "deals",
            json!({"dealname": "D", "pipeline": "default", "dealstage": "s", "amount": "5"}),
        )
        .await;
    let read = sim.get(&format!("/crm/v3/objects/deals/{deal}")).await;
    assert_eq!(read.body["properties"]["amount"], json!("5"), "returned by default");
}

#[tokio::test]
async fn property_groups_can_be_created_read_renamed_and_archived() {
    let sim = Sim::start().await;
    let base = "/crm/v3/properties/deals/groups";
    let created =
        sim.post(base, json!({"name": "erp", "label": "ERP fields", "displayOrder": 3})).await;
    assert_eq!(created.status, 201, "{}", created.body);
    assert_eq!(
        created.body,
        json!({"name": "erp", "label": "ERP fields", "displayOrder": 3, "archived": false})
    );
    assert_eq!(sim.post(base, json!({"name": "erp"})).await.status, 409, "names are unique");
    assert_eq!(sim.get(&format!("{base}/erp")).await.body["label"], json!("ERP fields"));
    let renamed = sim.patch(&format!("{base}/erp"), json!({"label": "ERP"})).await;
    assert_eq!((renamed.status, renamed.body["label"].as_str()), (200, Some("ERP")));
    assert_eq!(renamed.body["displayOrder"], json!(3), "unmentioned fields are kept");
    assert_eq!(sim.delete(&format!("{base}/erp")).await.status, 204);
    assert_eq!(sim.get(&format!("{base}/erp")).await.status, 404);
    let listed = sim.get(base).await;
    let names: Vec<&str> = listed.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|g| g["name"].as_str().unwrap())
        .collect();
    assert!(!names.contains(&"erp") && names.contains(&"dealinformation"), "{names:?}");
    assert_eq!(sim.patch(&format!("{base}/nope"), json!({"label": "x"})).await.status, 404);
}

#[tokio::test]
async fn a_schema_can_be_patched_and_given_an_association_definition() {
    let sim = Sim::start().await;
    let egg = json!({"name": "asset", "labels": {"singular": "Asset", "plural": "Assets"},
        "requiredProperties": [], "primaryDisplayProperty": "tag",
        "properties": [{"name": "tag", "label": "Tag", "type": "string", "fieldType": "text"}]});
    let type_id =
        sim.post("/crm/v3/schemas", egg).await.body["objectTypeId"].as_str().unwrap().to_string();
    let patch = json!({"labels": {"singular": "Device", "plural": "Devices"},
                       "requiredProperties": ["tag"]});
    let patched = sim.patch(&format!("/crm/v3/schemas/{type_id}"), patch).await;
    assert_eq!(patched.status, 200, "{}", patched.body);
    assert_eq!(patched.body["labels"]["plural"], json!("Devices"));
    assert_eq!(patched.body["requiredProperties"], json!(["tag"]));
    let untagged = sim.post(&format!("/crm/v3/objects/{type_id}"), json!({"properties": {}})).await;
    assert_eq!(untagged.status, 400, "the patched required property is enforced");
    let asset = sim.create(&type_id, json!({"tag": "A-1"})).await;
    let definition = json!({"fromObjectTypeId": type_id, "toObjectTypeId": "0-1",
                            "name": "asset_to_contact"});
    let made = sim.post(&format!("/crm/v3/schemas/{type_id}/associations"), definition).await;
    assert_eq!(made.status, 201, "{}", made.body);
    assert_eq!(made.body["fromObjectTypeId"], json!(type_id));
    assert_eq!(made.body["toObjectTypeId"], json!("0-1"));
    assert_eq!(made.body["name"], json!("asset_to_contact"));
    assert!(is_iso_millis(&made.body["createdAt"]));
    let type_id_made: u64 = made.body["id"].as_str().unwrap().parse().unwrap();
    let read = sim.get(&format!("/crm/v3/schemas/{type_id}")).await;
    let ids: Vec<&Value> =
        read.body["associations"].as_array().unwrap().iter().map(|a| &a["id"]).collect();
    assert!(ids.contains(&&made.body["id"]), "the schema lists its association: {ids:?}");
    let contact = sim.create("contacts", json!({"email": "asset@example.com"})).await;
    let types = json!([{"associationCategory": "USER_DEFINED", "associationTypeId": type_id_made}]);
    let linked = sim
        .put(&format!("/crm/v4/objects/{type_id}/{asset}/associations/contacts/{contact}"), types)
        .await;
    assert_eq!(linked.status, 201, "the new type id links records: {}", linked.body);
}
