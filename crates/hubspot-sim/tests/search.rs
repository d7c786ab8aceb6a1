//! Search: operators and case rules, sorting and paging, caps, and the indexing lag.

use std::time::Duration;

use hubspot_sim::SimConfig;
use serde_json::{Value, json};

use super::{Sim, unlimited};

fn filter(name: &str, operator: &str, value: Value) -> Value {
    json!({"filterGroups": [{"filters": [{"propertyName": name, "operator": operator, "value": value}]}]})
}

async fn ids(sim: &Sim, object: &str, body: Value) -> Vec<String> {
    let reply = sim.post(&format!("/crm/v3/objects/{object}/search"), body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["results"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_str().unwrap().to_string())
        .collect()
}

#[tokio::test]
async fn search_filters_with_every_operator_and_hubspots_case_rules() {
    let sim = Sim::start().await;
    let ann = sim
        .create(
            "contacts",
            json!({"email": "ann@hubspot.com", "firstname": "Ann", "lifecyclestage": "lead"}),
        )
        .await;
    let bob = sim.create("contacts", json!({"email": "bob@example.com", "firstname": "Bob"})).await;
    assert_eq!(
        ids(&sim, "contacts", filter("firstname", "EQ", json!("ANN"))).await,
        [ann.as_str()]
    );
    assert_eq!(
        ids(&sim, "contacts", filter("firstname", "NEQ", json!("ann"))).await,
        [bob.as_str()]
    );
    assert_eq!(
        ids(&sim, "contacts", filter("lifecyclestage", "EQ", json!("LEAD"))).await,
        Vec::<String>::new()
    );
    assert_eq!(
        ids(&sim, "contacts", filter("lifecyclestage", "HAS_PROPERTY", json!(null))).await,
        [ann.as_str()]
    );
    assert_eq!(
        ids(&sim, "contacts", filter("lifecyclestage", "NOT_HAS_PROPERTY", json!(null))).await,
        [bob.as_str()]
    );
    assert_eq!(
        ids(&sim, "contacts", filter("email", "CONTAINS_TOKEN", json!("*@hubspot.com"))).await,
        [ann.as_str()]
    );
    assert_eq!(
        ids(&sim, "contacts", filter("email", "NOT_CONTAINS_TOKEN", json!("*@hubspot.com"))).await,
        [bob.as_str()]
    );
    let in_lower = json!({"filterGroups": [{"filters": [{"propertyName": "firstname", "operator": "IN", "values": ["ann", "zed"]}]}]});
    assert_eq!(ids(&sim, "contacts", in_lower).await, [ann.as_str()]);
    let in_upper = json!({"filterGroups": [{"filters": [{"propertyName": "firstname", "operator": "IN", "values": ["Ann"]}]}]});
    assert!(ids(&sim, "contacts", in_upper).await.is_empty(), "string IN values must be lowercase");
    let not_in = json!({"filterGroups": [{"filters": [{"propertyName": "firstname", "operator": "NOT_IN", "values": ["ann"]}]}]});
    assert_eq!(ids(&sim, "contacts", not_in).await, [bob.as_str()]);
    let either = json!({"filterGroups": [
        {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "ann"}]},
        {"filters": [{"propertyName": "firstname", "operator": "EQ", "value": "bob"}]}]});
    assert_eq!(ids(&sim, "contacts", either).await, [ann, bob]);
}

#[tokio::test]
async fn numeric_and_date_operators_compare_as_numbers_and_epoch_milliseconds() {
    let sim = Sim::start().await;
    let deal = |amount: &str| json!({"dealname": "d", "pipeline": "p", "dealstage": "s", "amount": amount});
    let small = sim.create("deals", deal("9")).await;
    let big = sim.create("deals", deal("100")).await;
    assert_eq!(ids(&sim, "deals", filter("amount", "GT", json!("10"))).await, [big.as_str()]);
    assert_eq!(ids(&sim, "deals", filter("amount", "LTE", json!("9"))).await, [small.as_str()]);
    let between = json!({"filterGroups": [{"filters": [{"propertyName": "amount", "operator": "BETWEEN", "value": "5", "highValue": "50"}]}]});
    assert_eq!(ids(&sim, "deals", between).await, [small.as_str()]);
    let now = sim.sim.clock().now_millis();
    let modified = filter("hs_lastmodifieddate", "GTE", json!((now - 60_000).to_string()));
    assert_eq!(ids(&sim, "deals", modified).await.len(), 2);
    let sorted = json!({"sorts": [{"propertyName": "amount", "direction": "DESCENDING"}]});
    assert_eq!(ids(&sim, "deals", sorted).await, [big, small]);
}

#[tokio::test]
async fn lt_finds_values_strictly_below_compared_as_numbers_and_instants() {
    let sim = Sim::start().await;
    sim.sim.clock().freeze();
    let deal = |amount: &str| json!({"dealname": "d", "pipeline": "p", "dealstage": "s", "amount": amount});
    let small = sim.create("deals", deal("9")).await;
    sim.sim.clock().advance(chrono::Duration::seconds(5));
    let later = sim.sim.clock().now_millis();
    let big = sim.create("deals", deal("100")).await;
    let lt = |name: &str, value: String| filter(name, "LT", json!(value));
    assert_eq!(
        ids(&sim, "deals", lt("amount", "10".into())).await,
        [small.as_str()],
        "9 < 10 as numbers"
    );
    assert_eq!(
        ids(&sim, "deals", lt("amount", "101".into())).await,
        [small.as_str(), big.as_str()]
    );
    assert_eq!(
        ids(&sim, "deals", lt("amount", "100".into())).await,
        [small.as_str()],
        "strictly below"
    );
    assert!(ids(&sim, "deals", lt("amount", "9".into())).await.is_empty());
    let created_before = lt("createdate", later.to_string());
    assert_eq!(ids(&sim, "deals", created_before).await, [small.as_str()]);
}

#[tokio::test]
async fn search_pages_with_a_numeric_after_and_reports_the_total() {
    let sim = Sim::start().await;
    for i in 0..5 {
        sim.create("companies", json!({"name": format!("n{i}")})).await;
    }
    let reply =
        sim.post("/crm/v3/objects/companies/search", json!({"limit": 2, "after": "2"})).await;
    assert_eq!(reply.body["total"], json!(5));
    assert_eq!(reply.body["results"].as_array().unwrap().len(), 2);
    assert_eq!(reply.body["paging"]["next"]["after"], json!("4"));
    let properties = reply.body["results"][0]["properties"].as_object().unwrap();
    assert!(properties.contains_key("hs_lastmodifieddate") && properties.contains_key("domain"));
    let bad_after = sim.post("/crm/v3/objects/companies/search", json!({"after": "abc"})).await;
    assert_eq!(bad_after.status, 400);
}

#[tokio::test]
async fn paging_past_ten_thousand_results_is_refused_with_400() {
    let sim = Sim::start().await;
    let ok =
        sim.post("/crm/v3/objects/contacts/search", json!({"limit": 200, "after": "9800"})).await;
    assert_eq!(ok.status, 200);
    let past =
        sim.post("/crm/v3/objects/contacts/search", json!({"limit": 200, "after": "10000"})).await;
    assert_eq!(past.status, 400);
    assert_eq!(past.body["category"], json!("VALIDATION_ERROR"));
}

#[tokio::test]
async fn search_caps_limit_groups_filters_and_sorts() {
    let sim = Sim::start().await;
    let f = json!({"propertyName": "email", "operator": "HAS_PROPERTY"});
    let groups = |n: usize, per: usize| json!({"filterGroups": vec![json!({"filters": vec![f.clone(); per]}); n]});
    let search = |body: Value| sim.post("/crm/v3/objects/contacts/search", body);
    assert_eq!(search(groups(5, 3)).await.status, 200);
    assert_eq!(search(groups(6, 1)).await.status, 400);
    assert_eq!(search(groups(1, 7)).await.status, 400);
    assert_eq!(search(groups(4, 5)).await.status, 400, "20 filters in all is over 18");
    assert_eq!(search(json!({"limit": 201})).await.status, 400);
    let two_sorts = json!({"sorts": [{"propertyName": "email"}, {"propertyName": "firstname"}]});
    assert_eq!(search(two_sorts).await.status, 400);
    assert_eq!(search(json!({"query": "x".repeat(3001)})).await.status, 400);
}

#[tokio::test]
async fn a_change_becomes_visible_to_search_only_after_the_indexing_lag() {
    let config = SimConfig { search_lag: Duration::from_secs(30), ..unlimited() };
    let sim = Sim::with(config).await;
    sim.sim.clock().freeze();
    let id = sim.create("contacts", json!({"firstname": "Lag"})).await;
    let find = || ids(&sim, "contacts", filter("firstname", "EQ", json!("lag")));
    assert!(find().await.is_empty());
    sim.sim.clock().advance(chrono::Duration::seconds(29));
    assert!(find().await.is_empty());
    sim.sim.clock().advance(chrono::Duration::seconds(1));
    assert_eq!(find().await, [id.as_str()]);
    sim.sim
        .edit_as_user("contacts", id.parse().unwrap(), json!({"firstname": "Moved"}), 1)
        .unwrap();
    assert_eq!(find().await, [id.as_str()], "search still sees the old value");
    sim.sim.clock().advance(chrono::Duration::seconds(30));
    assert!(find().await.is_empty());
}

#[tokio::test]
async fn search_can_filter_by_an_associated_record() {
    let sim = Sim::start().await;
    let company = sim.create("companies", json!({"name": "Acme"})).await;
    let linked = sim.create("contacts", json!({"firstname": "In"})).await;
    sim.create("contacts", json!({"firstname": "Out"})).await;
    sim.sim
        .associate(
            ("contacts", linked.parse().unwrap()),
            ("companies", company.parse().unwrap()),
            None,
        )
        .unwrap();
    assert_eq!(
        ids(&sim, "contacts", filter("associations.company", "EQ", json!(company))).await,
        [linked]
    );
}
