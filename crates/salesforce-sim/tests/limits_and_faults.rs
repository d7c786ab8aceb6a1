//! The daily API allocation, its header, `/limits`, and injected faults.

use std::time::{Duration, Instant};

use salesforce_sim::{SimConfig, fault};
use serde_json::json;
use sim_kit::faults::{Fault, Trigger};

use super::{Sf, test_config};

#[tokio::test]
async fn every_data_answer_carries_sforce_limit_info() {
    let sf = Sf::start().await;
    let first = sf.get("/sobjects").await;
    assert_eq!(first.header("sforce-limit-info"), Some("api-usage=1/15000"));
    let second = sf.get("/sobjects/Nope/describe").await;
    assert_eq!(second.header("sforce-limit-info"), Some("api-usage=2/15000"));
    assert_eq!(sf.sim.api_usage(), 2);
}

/// The `Sforce-Limit-Info` of a GET to `path` made without a session.
async fn unauthenticated_usage(sf: &Sf, path: &str) -> (u16, Option<String>) {
    let answer = super::answer(sf.http.get(sf.url(path)).send().await.unwrap()).await;
    (answer.status, answer.header("sforce-limit-info").map(str::to_string))
}

/// Refusals made before the allocation is checked: a 401, a malformed version, then an
/// injected 503 and an injected 403; returns each one's `Sforce-Limit-Info`.
async fn refused_calls(sf: &Sf) -> Vec<Option<String>> {
    let mut infos = Vec::new();
    let (status, info) = unauthenticated_usage(sf, "/sobjects").await;
    assert_eq!(status, 401);
    infos.push(info);
    let bad_version = sf.get("/services/data/v59/sobjects").await;
    assert_eq!((bad_version.status, bad_version.error_code()), (404, "NOT_FOUND"));
    infos.push(bad_version.header("sforce-limit-info").map(str::to_string));
    for (injected, status) in [(fault::unavailable(), 503), (fault::request_limit_exceeded(), 403)]
    {
        sf.sim.inject("/services/data/*/sobjects", injected, Trigger::Next(1));
        let answer = sf.get("/sobjects").await;
        assert_eq!(answer.status, status);
        infos.push(answer.header("sforce-limit-info").map(str::to_string));
    }
    infos
}

#[tokio::test]
async fn data_calls_refused_before_the_allocation_carry_sforce_limit_info_and_count() {
    let sf = Sf::start().await;
    let expected: Vec<Option<String>> =
        (1..=4).map(|n| Some(format!("api-usage={n}/15000"))).collect();
    assert_eq!(refused_calls(&sf).await, expected);
    let unknown = sf.get("/no/such/resource").await;
    assert_eq!((unknown.status, unknown.error_code()), (404, "NOT_FOUND"));
    assert_eq!(unknown.header("sforce-limit-info"), Some("api-usage=5/15000"));
    assert_eq!(sf.get("/sobjects").await.header("sforce-limit-info"), Some("api-usage=6/15000"));
    assert_eq!(sf.sim.api_usage(), 6);
}

#[tokio::test]
async fn the_version_list_and_the_token_endpoint_carry_no_limit_info_and_are_not_counted() {
    let sf = Sf::start().await;
    assert_eq!(unauthenticated_usage(&sf, "/services/data/").await, (200, None));
    let form = [("grant_type", "client_credentials")];
    let token = sf.http.post(sf.url("/services/oauth2/token")).form(&form);
    let token =
        super::answer(token.basic_auth("sim-client", Some("sim-secret")).send().await.unwrap())
            .await;
    assert_eq!((token.status, token.header("sforce-limit-info")), (200, None));
    assert_eq!(sf.sim.api_usage(), 0);
}

#[tokio::test]
async fn with_the_switch_off_refused_calls_carry_the_header_but_are_not_counted() {
    let sf = Sf::start_with(SimConfig { count_refused_calls: false, ..test_config() }).await;
    let expected = vec![Some("api-usage=0/15000".to_string()); 4];
    assert_eq!(refused_calls(&sf).await, expected);
    assert_eq!(sf.get("/sobjects").await.header("sforce-limit-info"), Some("api-usage=1/15000"));
    assert_eq!(sf.sim.api_usage(), 1);
}

#[tokio::test]
async fn past_the_daily_allocation_requests_get_403_request_limit_exceeded() {
    let config = SimConfig { daily_api_limit: 3, ..test_config() };
    let mut sf = Sf::start_with(config).await;
    for _ in 0..3 {
        assert_eq!(sf.get("/limits").await.status, 200);
    }
    let refused = sf.get("/limits").await;
    assert_eq!((refused.status, refused.error_code()), (403, "REQUEST_LIMIT_EXCEEDED"));
    assert_eq!(refused.header("sforce-limit-info"), Some("api-usage=3/3"));
    sf.sim.clock().advance(chrono::Duration::hours(25));
    sf.token = sf.sim.access_token();
    assert_eq!(sf.get("/limits").await.status, 200, "the allocation rolls over 24 hours");
}

#[tokio::test]
async fn the_limits_resource_reports_remaining_requests() {
    let sf = Sf::start().await;
    sf.sim.set_api_usage(100);
    let answer = sf.get("/limits/").await;
    assert_eq!(answer.body["DailyApiRequests"], json!({"Max": 15000, "Remaining": 14899}));
}

#[tokio::test]
async fn injected_salesforce_faults_answer_with_salesforce_bodies() {
    let sf = Sf::start().await;
    let cases = [
        (fault::unavailable(), 503, "SERVER_UNAVAILABLE"),
        (fault::server_error(), 500, "UNKNOWN_EXCEPTION"),
        (fault::unable_to_lock_row(), 400, "UNABLE_TO_LOCK_ROW"),
        (fault::request_limit_exceeded(), 403, "REQUEST_LIMIT_EXCEEDED"),
        (fault::session_expired(), 401, "INVALID_SESSION_ID"),
    ];
    let body = json!({"records": [{"attributes": {"type": "Contact"}, "LastName": "A"}]});
    for (injected, status, code) in cases {
        sf.sim.inject("/services/data/*/composite/sobjects", injected, Trigger::Next(1));
        let answer = sf.post("/composite/sobjects", body.clone()).await;
        assert_eq!((answer.status, answer.error_code()), (status, code));
        assert!(answer.header("content-type").unwrap().starts_with("application/json"));
    }
    assert_eq!(sf.sim.count("Contact", true), 0, "faulted requests wrote nothing");
    assert_eq!(sf.post("/composite/sobjects", body).await.status, 200, "the faults were used up");
    let stats = sf.sim.stats().snapshot();
    assert_eq!(stats["POST /services/data/{v}/composite/sobjects"].by_status[&503], 1);
}

#[tokio::test]
async fn faults_hit_only_the_matching_endpoint_and_method() {
    let sf = Sf::start().await;
    let rule = sim_kit::faults::FaultRule::new(
        "/services/data/*/query",
        fault::unavailable(),
        Trigger::Next(5),
    )
    .method("GET");
    sf.sim.faults().add(rule);
    assert_eq!(sf.get("/sobjects").await.status, 200);
    assert_eq!(sf.query("SELECT Id FROM Contact", false).await.status, 503);
}

#[tokio::test]
async fn an_injected_delay_slows_the_answer() {
    let sf = Sf::start().await;
    sf.sim.inject("*/limits", Fault::Delay(Duration::from_millis(300)), Trigger::Next(1));
    let started = Instant::now();
    assert_eq!(sf.get("/limits").await.status, 200);
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn a_dropped_connection_cuts_the_body_short() {
    let sf = Sf::start().await;
    sf.sim.inject("*/sobjects", Fault::DropMidBody, Trigger::Next(1));
    let sent = sf.http.get(sf.url("/sobjects")).bearer_auth(&sf.token).send().await;
    let body = match sent {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(err) => Err(err),
    };
    assert!(body.is_err(), "the connection is cut before the whole body arrives");
    assert_eq!(sf.get("/sobjects").await.status, 200);
}
