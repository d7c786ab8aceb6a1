//! The `/__sim/` routes over plain HTTP, with no token: stats, fault rules and the clock, as
//! a simulator started as a process offers them.

use serde_json::{Value, json};

use super::Sim;

async fn call(sim: &Sim, method: reqwest::Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let mut request = reqwest::Client::new().request(method, sim.url(path));
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the simulator answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

async fn post_fault(sim: &Sim, rule: Value) -> (u16, Value) {
    call(sim, reqwest::Method::POST, "/__sim/faults", Some(rule)).await
}

async fn stats(sim: &Sim) -> Value {
    let (status, body) = call(sim, reqwest::Method::GET, "/__sim/stats", None).await;
    assert_eq!(status, 200, "{body}");
    body
}

#[tokio::test]
async fn stats_count_the_api_calls_their_statuses_and_records_but_not_the_sim_routes() {
    let sim = Sim::start().await;
    assert_eq!(stats(&sim).await["requests"], json!(0));
    sim.create("contacts", json!({"email": "ann@example.com"})).await;
    assert_eq!(sim.get("/crm/v3/objects/contacts/999").await.status, 404);
    let stats = stats(&sim).await;
    assert_eq!(stats["requests"], json!(2), "{stats}");
    assert_eq!(stats["by_status"], json!({"201": 1, "404": 1}));
    assert_eq!(stats["records_written"], json!(1));
    let create = &stats["endpoints"]["POST /crm/v3/objects/{object_type}"];
    assert_eq!(
        (create["requests"].clone(), create["records_written"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(call(&sim, reqwest::Method::DELETE, "/__sim/stats", None).await.0, 204);
    assert_eq!(sim.sim.stats().total_requests(), 0);
}

#[tokio::test]
async fn a_fault_posted_over_http_answers_the_next_matching_request_and_is_spent() {
    let sim = Sim::start().await;
    let rule = json!({"method": "get", "path": "/crm/v3/objects/contacts",
        "fault": {"respond": {"status": 429, "body": {"status": "error", "category": "RATE_LIMITS"},
                              "headers": {"retry-after": "1"}}},
        "trigger": {"next": 1}});
    let (status, added) = post_fault(&sim, rule).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["method"], json!("GET"));
    let listed = call(&sim, reqwest::Method::GET, "/__sim/faults", None).await.1;
    assert_eq!(listed["rules"].as_array().unwrap().len(), 1, "{listed}");
    let limited = sim.get("/crm/v3/objects/contacts").await;
    assert_eq!((limited.status, limited.header("retry-after")), (429, Some("1")));
    assert_eq!(limited.body["category"], json!("RATE_LIMITS"));
    assert_eq!(sim.get("/crm/v3/objects/contacts").await.status, 200);
    assert_eq!(stats(&sim).await["faults_fired"], json!(1));
    let listed = call(&sim, reqwest::Method::GET, "/__sim/faults", None).await.1;
    assert_eq!(listed["rules"], json!([]));
}

#[tokio::test]
async fn delays_dropped_bodies_and_fractions_are_accepted_and_cleared() {
    let sim = Sim::start().await;
    let rules = [
        json!({"path": "/crm/*", "fault": {"delay_ms": 10}, "trigger": {"fraction": 0.5}}),
        json!({"path": "*", "fault": "drop_mid_body"}),
    ];
    for rule in rules {
        let (status, body) = post_fault(&sim, rule).await;
        assert_eq!(status, 201, "{body}");
    }
    assert_eq!(sim.sim.faults().rules().len(), 2);
    assert_eq!(call(&sim, reqwest::Method::DELETE, "/__sim/faults", None).await.0, 204);
    assert!(sim.sim.faults().rules().is_empty());
    assert_eq!(sim.get("/crm/v3/objects/contacts").await.status, 200);
}

#[tokio::test]
async fn a_bad_fault_is_refused_with_400_naming_the_field() {
    let sim = Sim::start().await;
    let cases = [
        (json!({"path": "/x", "fault": {"respond": {"status": 99}}}), "fault.respond.status"),
        (
            json!({"path": "/x", "fault": "drop_mid_body", "trigger": {"fraction": 2.0}}),
            "trigger.fraction",
        ),
        (json!({"path": "/x", "fault": "drop_mid_body", "trigger": {"next": 0}}), "trigger.next"),
        (
            json!({"path": "/x", "fault": "drop_mid_body", "trigger": {"next": "two"}}),
            "trigger.next",
        ),
        (json!({"fault": "drop_mid_body"}), "path"),
        (json!({"path": "x", "fault": "drop_mid_body"}), "path"),
        (json!({"path": "/x", "fault": "drop_mid_body", "method": "GE T"}), "method"),
        (json!({"path": "/x", "fault": {"preset": "meltdown"}}), "fault.preset"),
        (
            json!({"path": "/x", "fault": {"respond": {"status": 500, "stauts": 1}}}),
            "fault.respond.stauts",
        ),
        (
            json!({"path": "/x", "fault": {"respond": {"status": 500, "headers": {"bad header": "1"}}}}),
            "fault.respond.headers.bad header",
        ),
    ];
    for (rule, field) in cases {
        let (status, body) = post_fault(&sim, rule.clone()).await;
        assert_eq!(status, 400, "{rule}: {body}");
        assert_eq!(
            (body["error"].as_str(), body["field"].as_str()),
            (Some("invalid_request"), Some(field)),
            "{rule}: {body}"
        );
        assert!(!body["message"].as_str().unwrap_or_default().is_empty(), "{body}");
    }
    assert!(sim.sim.faults().rules().is_empty(), "no bad rule was added");
}

#[tokio::test]
async fn the_clock_freezes_advances_and_resumes_over_http() {
    let sim = Sim::start().await;
    let change = |body: Value| call(&sim, reqwest::Method::POST, "/__sim/clock", Some(body));
    let (status, frozen) = change(json!({"freeze": true})).await;
    assert_eq!((status, frozen["frozen"].clone()), (200, json!(true)));
    let (_, later) = change(json!({"advance_ms": 60_000})).await;
    let moved = later["now_millis"].as_i64().unwrap() - frozen["now_millis"].as_i64().unwrap();
    assert_eq!(moved, 60_000);
    assert_eq!(sim.sim.clock().now_millis(), later["now_millis"].as_i64().unwrap());
    let (_, set) = change(json!({"set": "2030-01-02T03:04:05Z"})).await;
    assert_eq!(set["now"], json!("2030-01-02T03:04:05.000Z"));
    let (status, bad) = change(json!({"advance_ms": "soon"})).await;
    assert_eq!((status, bad["field"].as_str()), (400, Some("advance_ms")), "{bad}");
    let (_, running) = change(json!({"resume": true})).await;
    assert_eq!(running["frozen"], json!(false));
}

async fn names(sim: &Sim, firstname: &str) -> usize {
    let filter = json!({"propertyName": "firstname", "operator": "EQ", "value": firstname});
    let body = json!({"filterGroups": [{"filters": [filter]}]});
    let reply = sim.post("/crm/v3/objects/contacts/search", body).await;
    assert_eq!(reply.status, 200, "{}", reply.body);
    reply.body["total"].as_u64().unwrap() as usize
}

#[tokio::test]
async fn a_record_held_from_search_over_http_shows_its_changes_once_the_hold_ends() {
    let sim = Sim::start().await;
    let id = sim.create("contacts", json!({"firstname": "Ann"})).await;
    let hold = json!({"object": "contacts", "id": id.parse::<u64>().unwrap(), "extra_ms": 60_000});
    assert_eq!(call(&sim, reqwest::Method::POST, "/__sim/search/hold", Some(hold)).await.0, 204);
    let renamed = sim
        .patch(
            &format!("/crm/v3/objects/contacts/{id}"),
            json!({"properties": {"firstname": "Bea"}}),
        )
        .await;
    assert_eq!(renamed.status, 200);
    assert_eq!(names(&sim, "Bea").await, 0, "held");
    call(&sim, reqwest::Method::POST, "/__sim/clock", Some(json!({"advance_ms": 61_000}))).await;
    assert_eq!(names(&sim, "Bea").await, 1, "released");
    let unknown = json!({"object": "unicorns", "id": 1, "extra_ms": 1});
    let (status, body) =
        call(&sim, reqwest::Method::POST, "/__sim/search/hold", Some(unknown)).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("object")), "{body}");
}

#[tokio::test]
async fn webhook_chaos_set_over_http_duplicates_deliveries_listed_over_http() {
    let sim = Sim::start().await;
    let chaos = json!({"duplicate_fraction": 1.0});
    let (status, _) =
        call(&sim, reqwest::Method::PUT, "/__sim/webhooks/chaos", Some(chaos.clone())).await;
    assert_eq!(status, 409, "no webhook target yet");
    let app = axum::Router::new()
        .route("/hooks", axum::routing::post(|| async { axum::http::StatusCode::NO_CONTENT }));
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/hooks", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await });
    let subscription = hubspot_sim::Subscription::new(1, "contact.creation");
    sim.sim.set_webhooks(Some(hubspot_sim::WebhookSettings::new(&url, "s", vec![subscription])));
    let bad = json!({"duplicate_fraction": 1.5});
    let (status, body) = call(&sim, reqwest::Method::PUT, "/__sim/webhooks/chaos", Some(bad)).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("duplicate_fraction")), "{body}");
    assert_eq!(call(&sim, reqwest::Method::PUT, "/__sim/webhooks/chaos", Some(chaos)).await.0, 204);
    sim.create("contacts", json!({"email": "ann@example.com"})).await;
    let log =
        sim.sim.wait_for_deliveries(std::time::Duration::from_secs(5), |log| log.len() >= 2).await;
    assert_eq!(log.len(), 2, "{log:?}");
    let (_, listed) = call(&sim, reqwest::Method::GET, "/__sim/webhooks/deliveries", None).await;
    let duplicates: Vec<&Value> = listed["deliveries"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|d| d["duplicate"] == json!(true))
        .collect();
    assert_eq!(duplicates.len(), 1, "{listed}");
    assert_eq!(duplicates[0]["status"], json!(204));
}
