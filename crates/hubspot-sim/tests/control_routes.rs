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
