//! Response shapes against the fact sheet's required fields and types: a drift in a field
//! name or type fails here.

use serde_json::{Value, json};

use super::{Sim, is_iso_millis};

fn has(body: &Value, fields: &[&str]) {
    for field in fields {
        assert!(body.get(field).is_some(), "`{field}` missing from {body}");
    }
}

fn simple_public_object(body: &Value) {
    has(body, &["id", "properties", "createdAt", "updatedAt", "archived"]);
    assert!(
        body["id"].is_string() && body["properties"].is_object() && body["archived"].is_boolean()
    );
    assert!(is_iso_millis(&body["createdAt"]) && is_iso_millis(&body["updatedAt"]));
    for value in body["properties"].as_object().unwrap().values() {
        assert!(value.is_string() || value.is_null(), "property values are strings: {body}");
    }
}

#[tokio::test]
async fn objects_batches_and_searches_have_the_documented_fields_and_types() {
    let sim = Sim::start().await;
    let created = sim.post("/crm/v3/objects/deals", json!({"properties": {"dealname": "d", "pipeline": "p", "dealstage": "s", "amount": "10.5"}})).await;
    simple_public_object(&created.body);
    let id = created.body["id"].as_str().unwrap().to_string();
    simple_public_object(&sim.get(&format!("/crm/v3/objects/deals/{id}")).await.body);
    let batch = sim
        .post(
            "/crm/v3/objects/deals/batch/read",
            json!({"inputs": [{"id": id}], "properties": ["amount"]}),
        )
        .await;
    has(&batch.body, &["status", "results", "startedAt", "completedAt"]);
    assert!(is_iso_millis(&batch.body["startedAt"]) && is_iso_millis(&batch.body["completedAt"]));
    simple_public_object(&batch.body["results"][0]);
    let search = sim.post("/crm/v3/objects/deals/search", json!({})).await;
    has(&search.body, &["total", "results"]);
    assert!(search.body["total"].is_u64());
    simple_public_object(&search.body["results"][0]);
}

#[tokio::test]
async fn errors_have_the_documented_envelope_and_batch_items() {
    let sim = Sim::start().await;
    let error = sim.get("/crm/v3/objects/contacts/424242").await;
    has(&error.body, &["status", "message", "correlationId", "category"]);
    let partial = sim
        .post(
            "/crm/v3/objects/contacts/batch/update",
            json!({"inputs": [{"id": "424242", "properties": {}}]}),
        )
        .await;
    has(&partial.body, &["status", "results", "startedAt", "completedAt", "numErrors", "errors"]);
    has(
        &partial.body["errors"][0],
        &["status", "category", "context", "errors", "links", "message"],
    );
}

#[tokio::test]
async fn properties_schemas_owners_and_v4_associations_have_the_documented_fields() {
    let sim = Sim::start().await;
    let property = sim.get("/crm/v3/properties/contacts/email").await.body;
    has(
        &property,
        &[
            "name",
            "label",
            "type",
            "fieldType",
            "groupName",
            "description",
            "options",
            "hasUniqueValue",
            "modificationMetadata",
        ],
    );
    let egg = json!({"name": "shape", "labels": {"singular": "S", "plural": "Ss"}, "requiredProperties": [],
                     "properties": [], "associatedObjects": ["CONTACT"]});
    let schema = sim.post("/crm/v3/schemas", egg).await.body;
    has(
        &schema,
        &[
            "id",
            "objectTypeId",
            "fullyQualifiedName",
            "name",
            "labels",
            "properties",
            "associations",
            "requiredProperties",
            "createdAt",
            "updatedAt",
        ],
    );
    has(&schema["associations"][0], &["id", "fromObjectTypeId", "toObjectTypeId", "name"]);
    sim.sim.add_owner(json!({"email": "o@example.com"}));
    let owner = &sim.get("/crm/v3/owners").await.body["results"][0];
    has(
        owner,
        &[
            "id",
            "email",
            "type",
            "firstName",
            "lastName",
            "userId",
            "createdAt",
            "updatedAt",
            "archived",
        ],
    );
    assert!(owner["id"].is_string() && owner["userId"].is_u64());
    let contact = sim.create("contacts", json!({"firstname": "c"})).await;
    let company = sim.create("companies", json!({"name": "c"})).await;
    let put = sim
        .put(
            &format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company}"),
            json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]),
        )
        .await
        .body;
    has(&put, &["fromObjectTypeId", "fromObjectId", "toObjectTypeId", "toObjectId", "labels"]);
    let listed =
        sim.get(&format!("/crm/v4/objects/contacts/{contact}/associations/companies")).await.body;
    has(&listed["results"][0], &["toObjectId", "associationTypes"]);
    has(&listed["results"][0]["associationTypes"][0], &["category", "typeId", "label"]);
}
