//! Merges (new id, old ids resolve, merged ids recorded; or the primary's id kept), GDPR
//! deletes, and saving and loading the portal.

use hubspot_sim::SimConfig;
use serde_json::json;

use super::{Sim, unlimited};

#[tokio::test]
async fn a_contact_merge_mints_a_new_id_and_both_old_ids_resolve_to_it() {
    let sim = Sim::start().await;
    let primary =
        sim.create("contacts", json!({"email": "p@example.com", "firstname": "Primary"})).await;
    let secondary = sim
        .create(
            "contacts",
            json!({"email": "s@example.com", "firstname": "Second", "lastname": "Kept"}),
        )
        .await;
    let body = json!({"primaryObjectId": primary, "objectIdToMerge": secondary});
    let reply = sim.post("/crm/v3/objects/contacts/merge", body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    let merged = reply.body["id"].as_str().unwrap().to_string();
    assert!(merged != primary && merged != secondary);
    assert_eq!(reply.body["properties"]["firstname"], json!("Primary"));
    assert_eq!(reply.body["properties"]["lastname"], json!("Kept"));
    let mut ids: Vec<&str> =
        reply.body["properties"]["hs_merged_object_ids"].as_str().unwrap().split(';').collect();
    ids.sort();
    let mut expected = [primary.as_str(), secondary.as_str()];
    expected.sort();
    assert_eq!(ids, expected);
    for old in [&primary, &secondary] {
        let read = sim.get(&format!("/crm/v3/objects/contacts/{old}")).await;
        assert_eq!(read.body["id"], json!(merged), "old id {old} resolves to the merged record");
    }
    let by_lost_email = sim.get("/crm/v3/objects/contacts/s@example.com?idProperty=email").await;
    assert_eq!(by_lost_email.body["id"], json!(merged));
    assert_eq!(sim.sim.count("contacts"), 1);
}

#[tokio::test]
async fn with_the_switch_a_merge_keeps_the_primarys_id() {
    let sim = Sim::with(SimConfig { merge_keeps_primary_id: true, ..unlimited() }).await;
    let primary = sim.create("companies", json!({"name": "P"})).await;
    let secondary = sim.create("companies", json!({"name": "S"})).await;
    let reply = sim
        .post(
            "/crm/v3/objects/companies/merge",
            json!({"primaryObjectId": primary, "objectIdToMerge": secondary}),
        )
        .await;
    assert_eq!(reply.body["id"], json!(primary));
    assert_eq!(
        sim.get(&format!("/crm/v3/objects/companies/{secondary}")).await.body["id"],
        json!(primary)
    );
}

#[tokio::test]
async fn a_gdpr_delete_erases_the_contact_and_blocks_its_email() {
    let sim = Sim::start().await;
    let id = sim.create("contacts", json!({"email": "gone@example.com"})).await;
    let reply = sim.post("/crm/v3/objects/contacts/gdpr-delete", json!({"objectId": id})).await;
    assert_eq!(reply.status, 204);
    assert_eq!(sim.get(&format!("/crm/v3/objects/contacts/{id}?archived=true")).await.status, 404);
    let again = sim
        .post("/crm/v3/objects/contacts", json!({"properties": {"email": "gone@example.com"}}))
        .await;
    assert_eq!(again.status, 400);
    let unknown = sim
        .post(
            "/crm/v3/objects/contacts/gdpr-delete",
            json!({"objectId": "never@example.com", "idProperty": "email"}),
        )
        .await;
    assert_eq!(unknown.status, 204);
}

#[tokio::test]
async fn a_saved_portal_loads_back_with_records_indexes_and_associations() {
    let sim = Sim::start().await;
    let contact = sim.create("contacts", json!({"email": "keep@example.com"})).await;
    let company = sim.create("companies", json!({"name": "Keep"})).await;
    sim.sim
        .associate(
            ("contacts", contact.parse().unwrap()),
            ("companies", company.parse().unwrap()),
            Some(1),
        )
        .unwrap();
    let dir = std::env::temp_dir().join(format!("hubsync-sim-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("state.json");
    sim.sim.save(&path).unwrap();
    let store = hubspot_sim::persist::load(&path).unwrap();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let shutdown = tokio_util::sync::CancellationToken::new();
    let loaded =
        hubspot_sim::HubspotSim::serve(listener, unlimited(), store, Default::default(), shutdown);
    assert_eq!(
        loaded.find_by("contacts", "email", "KEEP@example.com"),
        Some(contact.parse().unwrap())
    );
    let sim2 = Sim { sim: loaded, http: reqwest::Client::new(), token: "sim-token".into() };
    let found = sim2.post("/crm/v3/objects/contacts/search", json!({})).await;
    assert_eq!(found.body["total"], json!(1));
    let linked =
        sim2.get(&format!("/crm/v4/objects/contacts/{contact}/associations/companies")).await;
    assert_eq!(linked.body["results"][0]["toObjectId"], json!(company));
    let next = sim2.create("contacts", json!({"firstname": "after"})).await;
    assert!(next.parse::<u64>().unwrap() > company.parse::<u64>().unwrap());
    std::fs::remove_dir_all(dir).ok();
}
