//! Associations v4: default type ids, labels, batch endpoints, and no last-modified bump.

use serde_json::{Value, json};

use super::Sim;

async fn pair(sim: &Sim) -> (String, String) {
    let contact = sim.create("contacts", json!({"email": "as@example.com"})).await;
    let company = sim.create("companies", json!({"name": "Assoc"})).await;
    (contact, company)
}

fn type_ids(types: &Value) -> Vec<u64> {
    let mut ids: Vec<u64> =
        types.as_array().unwrap().iter().map(|t| t["typeId"].as_u64().unwrap()).collect();
    ids.sort();
    ids
}

#[tokio::test]
async fn the_labels_endpoint_lists_hubspots_default_type_ids() {
    let sim = Sim::start().await;
    let reply = sim.get("/crm/v4/associations/contacts/companies/labels").await;
    assert_eq!(type_ids(&reply.body["results"]), [1, 279]);
    let primary =
        reply.body["results"].as_array().unwrap().iter().find(|l| l["typeId"] == json!(1)).unwrap();
    assert_eq!(primary["label"], json!("Primary"));
    let notes = sim.get("/crm/v4/associations/notes/contacts/labels").await;
    assert_eq!(type_ids(&notes.body["results"]), [202]);
}

#[tokio::test]
async fn a_user_defined_label_gets_a_new_type_id_usable_in_both_directions() {
    let sim = Sim::start().await;
    let reply = sim
        .post(
            "/crm/v4/associations/contacts/deals/labels",
            json!({"label": "Point of contact", "name": "poc", "inverseLabel": "Deal of"}),
        )
        .await;
    assert_eq!(reply.status, 200);
    let created = &reply.body["results"][0];
    assert_eq!(created["category"], json!("USER_DEFINED"));
    let listed = sim.get("/crm/v4/associations/deals/contacts/labels").await;
    assert!(
        listed.body["results"].as_array().unwrap().iter().any(|l| l["label"] == json!("Deal of"))
    );
}

#[tokio::test]
async fn associations_in_a_create_body_are_made_and_listed_per_record() {
    let sim = Sim::start().await;
    let (contact, _) = pair(&sim).await;
    let body = json!({"properties": {"hs_timestamp": "2019-10-30T03:30:17.883Z", "hs_note_body": "hi"},
        "associations": [{"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 202}]}]});
    let note = sim.post("/crm/v3/objects/notes", body).await;
    assert_eq!(note.status, 201, "{}", note.body);
    let note_id = note.body["id"].as_str().unwrap();
    let listed = sim.get(&format!("/crm/v4/objects/contacts/{contact}/associations/notes")).await;
    assert_eq!(listed.body["results"][0]["toObjectId"], json!(note_id));
    assert_eq!(type_ids(&listed.body["results"][0]["associationTypes"]), [201]);
    let wrong = json!({"properties": {"hs_timestamp": "1572480000000"},
        "associations": [{"to": {"id": contact}, "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 9999}]}]});
    assert_eq!(sim.post("/crm/v3/objects/notes", wrong).await.status, 400);
}

#[tokio::test]
async fn a_primary_association_also_makes_the_unlabeled_one() {
    let sim = Sim::start().await;
    let (contact, company) = pair(&sim).await;
    let types = json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 1}]);
    let reply = sim
        .put(&format!("/crm/v4/objects/contacts/{contact}/associations/companies/{company}"), types)
        .await;
    assert_eq!(reply.status, 201);
    assert_eq!(reply.body["fromObjectId"], json!(contact));
    let listed =
        sim.get(&format!("/crm/v4/objects/companies/{company}/associations/contacts")).await;
    assert_eq!(type_ids(&listed.body["results"][0]["associationTypes"]), [2, 280]);
    let v3 = sim.get(&format!("/crm/v3/objects/contacts/{contact}?associations=companies")).await;
    let kinds: Vec<&str> = v3.body["associations"]["companies"]["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["type"].as_str().unwrap())
        .collect();
    assert!(
        kinds.contains(&"contact_to_company") && kinds.contains(&"contact_to_company_unlabeled"),
        "{kinds:?}"
    );
}

#[tokio::test]
async fn association_changes_do_not_bump_the_last_modified_date() {
    let sim = Sim::start().await;
    let (contact, company) = pair(&sim).await;
    let before = sim.sim.record("contacts", contact.parse().unwrap()).unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(5)).await;
    let reply = sim
        .put(
            &format!("/crm/v4/objects/contacts/{contact}/associations/default/companies/{company}"),
            json!(null),
        )
        .await;
    assert_eq!(reply.status, 200);
    assert_eq!(reply.body["results"][0]["associationSpec"]["associationTypeId"], json!(279));
    let after = sim.sim.record("contacts", contact.parse().unwrap()).unwrap();
    assert_eq!(before.updated_at, after.updated_at);
    assert_eq!(before.properties["lastmodifieddate"], after.properties["lastmodifieddate"]);
}

#[tokio::test]
async fn batch_create_read_and_archive_work_and_empty_records_are_207_errors() {
    let sim = Sim::start().await;
    let (contact, company) = pair(&sim).await;
    let lonely = sim.create("contacts", json!({"firstname": "alone"})).await;
    let create = json!({"inputs": [{"from": {"id": contact}, "to": {"id": company},
        "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]});
    assert_eq!(
        sim.post("/crm/v4/associations/contacts/companies/batch/create", create).await.status,
        201
    );
    let read = sim
        .post(
            "/crm/v4/associations/contacts/companies/batch/read",
            json!({"inputs": [{"id": contact}, {"id": lonely}]}),
        )
        .await;
    assert_eq!(read.status, 207);
    assert_eq!(read.body["results"][0]["to"][0]["toObjectId"], json!(company));
    assert_eq!(
        read.body["errors"][0]["subCategory"],
        json!("crm.associations.NO_ASSOCIATIONS_FOUND")
    );
    let archive = json!({"inputs": [{"from": {"id": contact}, "to": [{"id": company}]}]});
    assert_eq!(
        sim.post("/crm/v4/associations/contacts/companies/batch/archive", archive).await.status,
        204
    );
    let after =
        sim.get(&format!("/crm/v4/objects/contacts/{contact}/associations/companies")).await;
    assert!(after.body["results"].as_array().unwrap().is_empty());
}

#[tokio::test]
async fn an_association_batch_read_over_1000_inputs_is_refused() {
    let sim = Sim::start().await;
    let inputs: Vec<Value> = (0..1001).map(|i| json!({"id": i.to_string()})).collect();
    let reply = sim
        .post("/crm/v4/associations/contacts/companies/batch/read", json!({"inputs": inputs}))
        .await;
    assert_eq!(reply.status, 400);
}

#[tokio::test]
async fn an_association_batch_read_pages_at_five_hundred_per_record() {
    let sim = Sim::start().await;
    let company = sim.create("companies", json!({"name": "Big"})).await;
    let company_id: u64 = company.parse().unwrap();
    for i in 0..501 {
        let contact = sim.sim.seed("contacts", json!({"firstname": format!("p{i}")})).unwrap();
        sim.sim.associate(("companies", company_id), ("contacts", contact), None).unwrap();
    }
    let first = sim
        .post(
            "/crm/v4/associations/companies/contacts/batch/read",
            json!({"inputs": [{"id": company}]}),
        )
        .await;
    assert_eq!(first.body["results"][0]["to"].as_array().unwrap().len(), 500);
    let after = first.body["results"][0]["paging"]["next"]["after"].as_str().unwrap().to_string();
    let next = sim
        .post(
            "/crm/v4/associations/companies/contacts/batch/read",
            json!({"inputs": [{"id": company, "after": after}]}),
        )
        .await;
    assert_eq!(next.body["results"][0]["to"].as_array().unwrap().len(), 1);
    assert!(next.body["results"][0].get("paging").is_none());
}

#[tokio::test]
async fn batch_associate_default_makes_the_unlabeled_type_and_names_it_in_each_result() {
    let sim = Sim::start().await;
    let (contact, company) = pair(&sim).await;
    let body = json!({"inputs": [{"from": {"id": contact}, "to": {"id": company}}]});
    let reply =
        sim.post("/crm/v4/associations/contacts/companies/batch/associate/default", body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    assert_eq!(reply.body["status"], json!("COMPLETE"));
    assert!(super::is_iso_millis(&reply.body["startedAt"]));
    assert!(super::is_iso_millis(&reply.body["completedAt"]));
    assert_eq!(
        reply.body["results"],
        json!([{"from": {"id": contact}, "to": {"id": company},
                "associationSpec": {"associationCategory": "HUBSPOT_DEFINED",
                                    "associationTypeId": 279}}])
    );
    let listed =
        sim.get(&format!("/crm/v4/objects/companies/{company}/associations/contacts")).await;
    assert_eq!(type_ids(&listed.body["results"][0]["associationTypes"]), [280]);
    let other = sim.create("companies", json!({"name": "Sister"})).await;
    let pair = json!({"inputs": [{"from": {"id": company}, "to": {"id": other}}]});
    let same_type =
        sim.post("/crm/v4/associations/companies/companies/batch/associate/default", pair).await;
    assert_eq!(same_type.body["results"][0]["associationSpec"]["associationTypeId"], json!(450));
}

#[tokio::test]
async fn company_to_company_labels_list_450_and_parent_child_13_and_14() {
    let sim = Sim::start().await;
    let reply = sim.get("/crm/v4/associations/companies/companies/labels").await;
    assert_eq!(type_ids(&reply.body["results"]), [13, 14, 450]);
    let parent = sim.create("companies", json!({"name": "Parent"})).await;
    let child = sim.create("companies", json!({"name": "Child"})).await;
    let types = json!([{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 13}]);
    let made = sim
        .put(&format!("/crm/v4/objects/companies/{parent}/associations/companies/{child}"), types)
        .await;
    assert_eq!(made.status, 201, "{}", made.body);
    let from_child =
        sim.get(&format!("/crm/v4/objects/companies/{child}/associations/companies")).await;
    assert_eq!(from_child.body["results"][0]["toObjectId"], json!(parent));
    assert_eq!(type_ids(&from_child.body["results"][0]["associationTypes"]), [14]);
}

#[tokio::test]
async fn archiving_the_primary_label_leaves_the_unlabeled_association_in_place() {
    let sim = Sim::start().await;
    let (contact, company) = pair(&sim).await;
    let primary = |id: u64| {
        json!({"inputs": [{"from": {"id": contact}, "to": {"id": company},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": id}]}]})
    };
    let made = sim.post("/crm/v4/associations/contacts/companies/batch/create", primary(1)).await;
    assert_eq!(made.status, 201, "{}", made.body);
    let archived =
        sim.post("/crm/v4/associations/contacts/companies/batch/labels/archive", primary(1)).await;
    assert_eq!(archived.status, 204, "{}", archived.body);
    let listed =
        sim.get(&format!("/crm/v4/objects/contacts/{contact}/associations/companies")).await;
    assert_eq!(type_ids(&listed.body["results"][0]["associationTypes"]), [279]);
    let back = sim.get(&format!("/crm/v4/objects/companies/{company}/associations/contacts")).await;
    assert_eq!(type_ids(&back.body["results"][0]["associationTypes"]), [280]);
    sim.post("/crm/v4/associations/contacts/companies/batch/labels/archive", primary(279)).await;
    let gone = sim.get(&format!("/crm/v4/objects/contacts/{contact}/associations/companies")).await;
    assert!(gone.body["results"].as_array().unwrap().is_empty(), "279 takes every label with it");
}
