//! Batch endpoints: the 100-input cap, upsert by unique property, 207 partial failures.

use serde_json::{Value, json};

use super::Sim;

fn upserts(range: std::ops::Range<usize>) -> Value {
    let inputs: Vec<Value> = range
        .map(|i| json!({"id": format!("X{i}"), "idProperty": "ext_id", "properties": {"firstname": format!("n{i}")}}))
        .collect();
    json!({"inputs": inputs})
}

#[tokio::test]
async fn a_batch_of_101_inputs_is_refused_with_400() {
    let sim = Sim::start().await;
    sim.unique_property("contacts", "ext_id", "contactinformation").await;
    let reply = sim.post("/crm/v3/objects/contacts/batch/upsert", upserts(0..101)).await;
    assert_eq!(reply.status, 400);
    assert_eq!(reply.body["category"], json!("VALIDATION_ERROR"));
    assert_eq!(sim.sim.count("contacts"), 0);
}

#[tokio::test]
async fn batch_create_read_update_and_archive_each_refuse_101_inputs_with_400() {
    let sim = Sim::start().await;
    let people = |range: std::ops::Range<usize>| -> Vec<Value> {
        range.map(|i| json!({"properties": {"firstname": format!("p{i}")}})).collect()
    };
    let refused =
        sim.post("/crm/v3/objects/contacts/batch/create", json!({"inputs": people(0..101)})).await;
    assert_eq!(
        (refused.status, refused.body["category"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    assert_eq!(sim.sim.count("contacts"), 0, "nothing of a refused batch is created");
    let mut ids = Vec::new();
    for range in [0..100, 100..101] {
        let made = sim
            .post("/crm/v3/objects/contacts/batch/create", json!({"inputs": people(range)}))
            .await;
        assert_eq!(made.status, 201, "{}", made.body);
        ids.extend(made.body["results"].as_array().unwrap().iter().map(|r| r["id"].clone()));
    }
    let by_id: Vec<Value> = ids.iter().map(|id| json!({"id": id})).collect();
    let updates: Vec<Value> =
        ids.iter().map(|id| json!({"id": id, "properties": {"firstname": "changed"}})).collect();
    for (endpoint, inputs) in [("read", &by_id), ("update", &updates), ("archive", &by_id)] {
        let reply = sim
            .post(&format!("/crm/v3/objects/contacts/batch/{endpoint}"), json!({"inputs": inputs}))
            .await;
        assert_eq!(reply.status, 400, "batch/{endpoint} with 101 inputs: {}", reply.body);
        assert_eq!(reply.body["category"], json!("VALIDATION_ERROR"));
        assert!(reply.body["message"].as_str().unwrap().contains("100"), "{}", reply.body);
    }
    assert_eq!(sim.sim.count("contacts"), 101, "nothing was archived");
    let first = sim.get(&format!("/crm/v3/objects/contacts/{}", ids[0].as_str().unwrap())).await;
    assert_eq!(first.body["properties"]["firstname"], json!("p0"), "nothing was updated");
}

#[tokio::test]
async fn an_upsert_by_a_unique_property_creates_then_updates_and_says_which() {
    let sim = Sim::start().await;
    sim.unique_property("contacts", "ext_id", "contactinformation").await;
    let first = sim.post("/crm/v3/objects/contacts/batch/upsert", upserts(0..100)).await;
    assert_eq!(first.status, 200, "{}", first.body);
    assert_eq!(first.body["status"], json!("COMPLETE"));
    assert!(first.body["results"].as_array().unwrap().iter().all(|r| r["new"] == json!(true)));
    assert_eq!(first.body["results"][0]["properties"]["ext_id"], json!("X0"));
    let again = sim.post("/crm/v3/objects/contacts/batch/upsert", upserts(50..150)).await;
    let new: Vec<bool> = again.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["new"].as_bool().unwrap())
        .collect();
    assert_eq!(new.iter().filter(|n| !**n).count(), 50);
    assert_eq!(sim.sim.count("contacts"), 150);
    let written = sim.sim.stats().snapshot()["POST /crm/v3/objects/{object_type}/batch/upsert"]
        .records_written;
    assert_eq!(written, 200);
}

#[tokio::test]
async fn a_partly_bad_batch_update_answers_207_and_applies_the_good_inputs() {
    let sim = Sim::start().await;
    let a = sim.create("contacts", json!({"firstname": "a"})).await;
    let b = sim.create("contacts", json!({"firstname": "b"})).await;
    let body = json!({"inputs": [
        {"id": a, "properties": {"firstname": "A"}},
        {"id": b, "properties": {"nonsense": "B"}},
        {"id": "999999", "properties": {"firstname": "C"}},
    ]});
    let reply = sim.post("/crm/v3/objects/contacts/batch/update", body).await;
    assert_eq!(reply.status, 207);
    assert_eq!(reply.body["numErrors"], json!(2));
    let categories: Vec<&str> = reply.body["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["category"].as_str().unwrap())
        .collect();
    assert_eq!(categories, ["VALIDATION_ERROR", "OBJECT_NOT_FOUND"]);
    assert_eq!(reply.body["errors"][0]["status"], json!("error"));
    assert_eq!(
        sim.sim.record("contacts", a.parse().unwrap()).unwrap().properties["firstname"],
        "A"
    );
}

#[tokio::test]
async fn the_same_id_twice_in_one_batch_is_refused() {
    let sim = Sim::start().await;
    let a = sim.create("contacts", json!({"firstname": "a"})).await;
    let body = json!({"inputs": [{"id": a, "properties": {}}, {"id": a, "properties": {}}]});
    assert_eq!(sim.post("/crm/v3/objects/contacts/batch/update", body).await.status, 400);
}

#[tokio::test]
async fn a_batch_create_with_a_conflict_fails_whole_without_trace_ids_and_207_with_them() {
    let sim = Sim::start().await;
    sim.create("contacts", json!({"email": "taken@example.com"})).await;
    let inputs = |trace: bool| {
        let mut a = json!({"properties": {"email": "fresh@example.com"}});
        let mut b = json!({"properties": {"email": "taken@example.com"}});
        if trace {
            a["objectWriteTraceId"] = json!("t1");
            b["objectWriteTraceId"] = json!("t2");
        }
        json!({"inputs": [a, b]})
    };
    let whole = sim.post("/crm/v3/objects/contacts/batch/create", inputs(false)).await;
    assert_eq!(whole.status, 409);
    assert_eq!(sim.sim.count("contacts"), 1);
    let partial = sim.post("/crm/v3/objects/contacts/batch/create", inputs(true)).await;
    assert_eq!(partial.status, 207);
    assert_eq!(partial.body["errors"][0]["context"]["objectWriteTraceId"], json!(["t2"]));
    assert_eq!(sim.sim.count("contacts"), 2);
    let ok = sim
        .post(
            "/crm/v3/objects/contacts/batch/create",
            json!({"inputs": [{"properties": {"email": "z@example.com"}}]}),
        )
        .await;
    assert_eq!(ok.status, 201);
}

#[tokio::test]
async fn a_batch_read_of_unknown_ids_answers_207_with_the_found_ones() {
    let sim = Sim::start().await;
    let a = sim.create("contacts", json!({"email": "r@example.com"})).await;
    let body = json!({"inputs": [{"id": a}, {"id": "99999"}], "properties": ["email"]});
    let reply = sim.post("/crm/v3/objects/contacts/batch/read", body).await;
    assert_eq!(reply.status, 207);
    assert_eq!(reply.body["results"][0]["properties"]["email"], json!("r@example.com"));
    assert_eq!(reply.body["errors"][0]["category"], json!("OBJECT_NOT_FOUND"));
    assert_eq!(reply.body["errors"][0]["context"]["ids"], json!(["99999"]));
    let by_email = json!({"inputs": [{"id": "r@example.com"}], "idProperty": "email", "properties": ["email"]});
    assert_eq!(
        sim.post("/crm/v3/objects/contacts/batch/read", by_email).await.body["results"][0]["id"],
        json!(a)
    );
}

#[tokio::test]
async fn a_batch_archive_answers_204_and_search_no_longer_finds_the_records() {
    let sim = Sim::start().await;
    let a = sim
        .create("tickets", json!({"subject": "s", "hs_pipeline": "0", "hs_pipeline_stage": "1"}))
        .await;
    let reply =
        sim.post("/crm/v3/objects/tickets/batch/archive", json!({"inputs": [{"id": a}]})).await;
    assert_eq!(reply.status, 204);
    let found = sim.post("/crm/v3/objects/tickets/search", json!({})).await;
    assert_eq!(found.body["total"], json!(0));
}
