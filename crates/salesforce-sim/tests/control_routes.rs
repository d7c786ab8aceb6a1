//! The `/__sim/` routes over plain HTTP, with no token: stats, fault rules with Salesforce's
//! presets, sessions, the API allocation and record faults.

use reqwest::Method;
use serde_json::{Value, json};

use super::Sf;

async fn call(sf: &Sf, method: Method, path: &str, body: Option<Value>) -> (u16, Value) {
    let url = format!("{}{path}", sf.sim.base_url());
    let mut request = reqwest::Client::new().request(method, url);
    if let Some(body) = body {
        request = request.json(&body);
    }
    let response = request.send().await.expect("the simulator answers");
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test]
async fn stats_count_requests_statuses_and_records_read_and_written() {
    let sf = Sf::start().await;
    sf.contact("Ada").await;
    sf.rows("SELECT Id FROM Contact").await;
    let (status, stats) = call(&sf, Method::GET, "/__sim/stats", None).await;
    assert_eq!(status, 200);
    assert_eq!(stats["requests"], json!(2), "{stats}");
    assert_eq!(stats["by_status"], json!({"200": 1, "201": 1}));
    assert_eq!(
        (stats["records_written"].clone(), stats["records_read"].clone()),
        (json!(1), json!(1))
    );
    assert_eq!(call(&sf, Method::DELETE, "/__sim/stats", None).await.0, 204);
    assert_eq!(call(&sf, Method::GET, "/__sim/stats", None).await.1["requests"], json!(0));
}

#[tokio::test]
async fn a_preset_fault_answers_with_salesforces_body() {
    let sf = Sf::start().await;
    let rule = json!({"method": "POST", "path": "/services/data/*/sobjects/*",
                      "fault": {"preset": "unable_to_lock_row"}, "trigger": {"next": 1}});
    let (status, added) = call(&sf, Method::POST, "/__sim/faults", Some(rule)).await;
    assert_eq!(status, 201, "{added}");
    assert_eq!(added["fault"]["respond"]["status"], json!(400));
    let refused = sf.post("/sobjects/Contact", json!({"LastName": "Ada"})).await;
    assert_eq!((refused.status, refused.error_code()), (400, "UNABLE_TO_LOCK_ROW"));
    sf.contact("Ada").await;
    let (_, listed) = call(&sf, Method::GET, "/__sim/faults", None).await;
    assert_eq!((listed["fired"].clone(), listed["rules"].clone()), (json!(1), json!([])));
    assert!(listed["presets"].as_array().unwrap().contains(&json!("session_expired")));
    let unknown = json!({"path": "/x", "fault": {"preset": "meltdown"}});
    let (status, body) = call(&sf, Method::POST, "/__sim/faults", Some(unknown)).await;
    assert_eq!((status, body["field"].as_str()), (400, Some("fault.preset")), "{body}");
}

#[tokio::test]
async fn expiring_sessions_over_http_makes_every_token_401() {
    let sf = Sf::start().await;
    assert_eq!(sf.get("/sobjects").await.status, 200);
    assert_eq!(call(&sf, Method::POST, "/__sim/sessions/expire", None).await.0, 204);
    let refused = sf.get("/sobjects").await;
    assert_eq!((refused.status, refused.error_code()), (401, "INVALID_SESSION_ID"));
}

#[tokio::test]
async fn the_api_usage_is_read_and_set_over_http() {
    let sf = Sf::start().await;
    let (status, set) =
        call(&sf, Method::PUT, "/__sim/api-usage", Some(json!({"used": 100}))).await;
    assert_eq!((status, set), (200, json!({"used": 100, "limit": 15000})));
    let limits = sf.get("/limits/").await;
    assert_eq!(limits.body["DailyApiRequests"], json!({"Max": 15000, "Remaining": 14899}));
    let (_, read) = call(&sf, Method::GET, "/__sim/api-usage", None).await;
    assert_eq!(read["used"], json!(101));
    let (status, bad) = call(&sf, Method::PUT, "/__sim/api-usage", Some(json!({"used": -1}))).await;
    assert_eq!((status, bad["field"].as_str()), (400, Some("used")), "{bad}");
}

#[tokio::test]
async fn record_faults_lock_rows_and_reject_values_until_cleared() {
    let sf = Sf::start().await;
    let lock = json!({"object": "Contact", "lock_rows": 1});
    assert_eq!(call(&sf, Method::POST, "/__sim/record-faults", Some(lock)).await.0, 201);
    let locked = sf.post("/sobjects/Contact", json!({"LastName": "Ada"})).await;
    assert_eq!((locked.status, locked.error_code()), (400, "UNABLE_TO_LOCK_ROW"));
    sf.contact("Ada").await;
    let reject = json!({"object": "Contact", "reject": {"field": "LastName", "value": "Bad", "message": "no"}});
    assert_eq!(call(&sf, Method::POST, "/__sim/record-faults", Some(reject)).await.0, 201);
    let rejected = sf.post("/sobjects/Contact", json!({"LastName": "Bad"})).await;
    assert_eq!(
        (rejected.status, rejected.error_code()),
        (400, "FIELD_CUSTOM_VALIDATION_EXCEPTION")
    );
    assert_eq!(call(&sf, Method::DELETE, "/__sim/record-faults", None).await.0, 204);
    sf.contact("Bad").await;
}

#[tokio::test]
async fn a_bad_record_fault_is_refused_with_400_naming_the_field() {
    let sf = Sf::start().await;
    let cases = [
        (json!({"object": "Nope__c", "lock_rows": 1}), "object"),
        (json!({"object": "Contact", "lock_rows": 0}), "lock_rows"),
        (json!({"object": "Contact"}), "lock_rows"),
        (json!({"lock_rows": 1}), "object"),
        (json!({"object": "Contact", "reject": {"field": "Nope__c", "value": 1}}), "reject.field"),
        (json!({"object": "Contact", "reject": {"value": 1}}), "reject.field"),
    ];
    for (body, field) in cases {
        let (status, answer) =
            call(&sf, Method::POST, "/__sim/record-faults", Some(body.clone())).await;
        assert_eq!((status, answer["field"].as_str()), (400, Some(field)), "{body}: {answer}");
    }
}
