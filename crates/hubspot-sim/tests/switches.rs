//! The switches for behaviours the fact sheet leaves UNCONFIRMED: the default is the strict
//! choice, and each relaxed setting behaves as its documentation says.

use hubspot_sim::{RateProfile, SearchCaps, SimConfig, Strictness};
use serde_json::{Value, json};

use super::{Sim, unlimited};

/// A simulator with the default (strict) switches, and one with `relax` applied.
async fn strict_and_relaxed(relax: impl FnOnce(&mut Strictness)) -> (Sim, Sim) {
    let mut config = unlimited();
    relax(&mut config.strict);
    (Sim::start().await, Sim::with(config).await)
}

fn filters(count: usize) -> Value {
    let one = json!({"propertyName": "firstname", "operator": "HAS_PROPERTY"});
    json!({"filterGroups": [{"filters": vec![one; count]}]})
}

#[tokio::test]
async fn search_filter_caps_are_five_six_eighteen_unless_set_to_the_older_ten_per_group() {
    let (strict, relaxed) = strict_and_relaxed(|s| {
        s.search_caps = SearchCaps { groups: 5, filters_per_group: 10, filters_total: 25 };
    })
    .await;
    let path = "/crm/v3/objects/contacts/search";
    assert_eq!(strict.post(path, filters(6)).await.status, 200);
    let refused = strict.post(path, filters(7)).await;
    assert_eq!(
        (refused.status, refused.body["category"].as_str()),
        (400, Some("VALIDATION_ERROR"))
    );
    assert_eq!(relaxed.post(path, filters(7)).await.status, 200);
    assert_eq!(relaxed.post(path, filters(11)).await.status, 400);
}

#[tokio::test]
async fn an_oversized_limit_is_refused_unless_the_switch_clamps_it() {
    let (strict, relaxed) = strict_and_relaxed(|s| s.reject_oversized_limits = false).await;
    for sim in [&strict, &relaxed] {
        for i in 0..3 {
            sim.create("contacts", json!({"firstname": format!("c{i}")})).await;
        }
    }
    let search = json!({"limit": 201});
    assert_eq!(strict.get("/crm/v3/objects/contacts?limit=101").await.status, 400);
    assert_eq!(strict.post("/crm/v3/objects/contacts/search", search.clone()).await.status, 400);
    let listed = relaxed.get("/crm/v3/objects/contacts?limit=101").await;
    assert_eq!((listed.status, listed.body["results"].as_array().map(Vec::len)), (200, Some(3)));
    let found = relaxed.post("/crm/v3/objects/contacts/search", search).await;
    assert_eq!((found.status, found.body["total"].as_u64()), (200, Some(3)));
}

#[tokio::test]
async fn searches_spend_the_burst_budget_unless_the_switch_exempts_them() {
    let limited = |counts: bool| {
        let mut config = SimConfig { rate: RateProfile::of(2, 1000), ..SimConfig::default() };
        config.strict.search_counts_toward_burst = counts;
        config
    };
    for (counts, expected) in [(true, 429), (false, 200)] {
        let sim = Sim::with(limited(counts)).await;
        sim.sim.clock().freeze();
        for _ in 0..2 {
            assert_eq!(sim.post("/crm/v3/objects/contacts/search", json!({})).await.status, 200);
        }
        let after = sim.get("/crm/v3/objects/contacts").await;
        assert_eq!(after.status, expected, "searches count toward the burst: {counts}");
    }
}

#[tokio::test]
async fn the_same_id_twice_in_a_batch_is_refused_unless_the_switch_allows_it() {
    let (strict, relaxed) = strict_and_relaxed(|s| s.reject_duplicate_batch_ids = false).await;
    for (sim, expected, lastname) in [(&strict, 400, None), (&relaxed, 200, Some("y"))] {
        let id = sim.create("contacts", json!({"firstname": "a"})).await;
        let body = json!({"inputs": [{"id": id, "properties": {"lastname": "x"}},
                                     {"id": id, "properties": {"lastname": "y"}}]});
        let reply = sim.post("/crm/v3/objects/contacts/batch/update", body).await;
        assert_eq!(reply.status, expected, "{}", reply.body);
        let record = sim.sim.record("contacts", id.parse().unwrap()).unwrap();
        assert_eq!(record.properties.get("lastname").map(String::as_str), lastname);
    }
}

#[tokio::test]
async fn a_batch_create_fails_whole_unless_the_switch_applies_the_good_inputs() {
    let (strict, relaxed) = strict_and_relaxed(|s| s.batch_create_all_or_nothing = false).await;
    let inputs = json!({"inputs": [{"properties": {"email": "fresh@example.com"}},
                                   {"properties": {"email": "taken@example.com"}}]});
    for sim in [&strict, &relaxed] {
        sim.create("contacts", json!({"email": "taken@example.com"})).await;
    }
    let whole = strict.post("/crm/v3/objects/contacts/batch/create", inputs.clone()).await;
    assert_eq!((whole.status, strict.sim.count("contacts")), (409, 1));
    let partial = relaxed.post("/crm/v3/objects/contacts/batch/create", inputs).await;
    assert_eq!((partial.status, partial.body["numErrors"].as_u64()), (207, Some(1)));
    assert_eq!(relaxed.sim.count("contacts"), 2, "the good input is applied");
}

#[tokio::test]
async fn an_archived_contacts_email_stays_taken_unless_the_switch_frees_it() {
    let (strict, relaxed) = strict_and_relaxed(|s| s.archived_values_stay_unique = false).await;
    for (sim, expected) in [(&strict, 409), (&relaxed, 201)] {
        let old = sim.create("contacts", json!({"email": "gone@example.com"})).await;
        assert_eq!(sim.delete(&format!("/crm/v3/objects/contacts/{old}")).await.status, 204);
        let again = sim
            .post("/crm/v3/objects/contacts", json!({"properties": {"email": "gone@example.com"}}))
            .await;
        assert_eq!(again.status, expected, "{}", again.body);
    }
}

#[tokio::test]
async fn batch_update_by_email_is_refused_unless_the_switch_allows_it() {
    let (strict, relaxed) =
        strict_and_relaxed(|s| s.reject_email_id_property_on_batch_update = false).await;
    let body = json!({"inputs": [{"id": "mail@example.com", "idProperty": "email",
                                  "properties": {"firstname": "Mailed"}}]});
    for sim in [&strict, &relaxed] {
        sim.create("contacts", json!({"email": "mail@example.com", "firstname": "M"})).await;
    }
    let refused = strict.post("/crm/v3/objects/contacts/batch/update", body.clone()).await;
    assert_eq!((refused.status, refused.body["numErrors"].as_u64()), (207, Some(1)));
    assert_eq!(refused.body["errors"][0]["category"], json!("VALIDATION_ERROR"));
    let applied = relaxed.post("/crm/v3/objects/contacts/batch/update", body).await;
    assert_eq!(applied.status, 200, "{}", applied.body);
    assert_eq!(applied.body["results"][0]["properties"]["firstname"], json!("Mailed"));
}

#[tokio::test]
async fn association_batches_stop_at_100_inputs_unless_the_switch_raises_the_limit() {
    let (strict, relaxed) = strict_and_relaxed(|s| s.association_batch_limit = 2000).await;
    for (sim, expected) in [(&strict, 400), (&relaxed, 201)] {
        let contact = sim.create("contacts", json!({"email": "many@example.com"})).await;
        let mut companies = Vec::new();
        for range in [0..100, 100..101] {
            let inputs: Vec<Value> =
                range.map(|i| json!({"properties": {"name": format!("c{i}")}})).collect();
            let made =
                sim.post("/crm/v3/objects/companies/batch/create", json!({"inputs": inputs})).await;
            companies
                .extend(made.body["results"].as_array().unwrap().iter().map(|r| r["id"].clone()));
        }
        let inputs: Vec<Value> = companies
            .iter()
            .map(|company| {
                json!({"from": {"id": contact}, "to": {"id": company},
                "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]})
            })
            .collect();
        let reply = sim
            .post("/crm/v4/associations/contacts/companies/batch/create", json!({"inputs": inputs}))
            .await;
        assert_eq!(reply.status, expected, "{}", reply.body);
        let listed =
            sim.get(&format!("/crm/v4/objects/contacts/{contact}/associations/companies")).await;
        let linked = listed.body["results"].as_array().unwrap().len();
        assert_eq!(linked, if expected == 201 { 101 } else { 0 });
    }
}

#[tokio::test]
async fn string_sorts_are_refused_unless_the_switch_reads_a_leading_minus_as_descending() {
    let (strict, relaxed) = strict_and_relaxed(|s| s.reject_string_sorts = false).await;
    let mut made = Vec::new();
    for sim in [&strict, &relaxed] {
        let ann = sim.create("contacts", json!({"firstname": "Ann"})).await;
        let bob = sim.create("contacts", json!({"firstname": "Bob"})).await;
        made.push((ann, bob));
    }
    let path = "/crm/v3/objects/contacts/search";
    let refused = strict.post(path, json!({"sorts": ["-firstname"]})).await;
    let category = refused.body["category"].as_str();
    assert_eq!((refused.status, category), (400, Some("VALIDATION_ERROR")));
    let object_form = json!({"sorts": [{"propertyName": "firstname", "direction": "DESCENDING"}]});
    assert_eq!(strict.post(path, object_form).await.status, 200, "the object form works");
    let order = |reply: super::Reply| -> Vec<String> {
        let results = reply.body["results"].as_array().unwrap().iter();
        results.map(|r| r["id"].as_str().unwrap().to_string()).collect()
    };
    let (ann, bob) = &made[1];
    let descending = relaxed.post(path, json!({"sorts": ["-firstname"]})).await;
    assert_eq!(order(descending), [bob.clone(), ann.clone()]);
    let ascending = relaxed.post(path, json!({"sorts": ["firstname"]})).await;
    assert_eq!(order(ascending), [ann.clone(), bob.clone()]);
}

#[tokio::test]
async fn association_batches_spend_the_burst_budget_unless_the_switch_exempts_them() {
    for (counts, expected) in [(true, 429), (false, 200)] {
        let mut config = SimConfig { rate: RateProfile::of(3, 1000), ..SimConfig::default() };
        config.strict.association_batches_count_toward_burst = counts;
        let sim = Sim::with(config).await;
        sim.sim.clock().freeze();
        let contact = sim.create("contacts", json!({"email": "a@example.com"})).await;
        let company = sim.create("companies", json!({"name": "Acme"})).await;
        let input = json!({"inputs": [{"from": {"id": contact}, "to": {"id": company},
            "types": [{"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279}]}]});
        let path = "/crm/v4/associations/contacts/companies/batch/create";
        let linked = sim.post(path, input).await;
        assert_eq!(linked.status, 201, "{}", linked.body);
        assert_eq!(linked.header("x-hubspot-ratelimit-daily-remaining"), Some("997"));
        let after = sim.get("/crm/v3/objects/contacts").await;
        assert_eq!(after.status, expected, "association batches count toward the burst: {counts}");
    }
}
