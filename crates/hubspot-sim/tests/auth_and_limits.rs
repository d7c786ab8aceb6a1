//! Tokens, OAuth refresh and expiry, rate-limit profiles, request counts and faults.

use std::time::Duration;

use hubspot_sim::{RateProfile, SimConfig};
use serde_json::json;
use sim_kit::faults::{Fault, FaultRule, Trigger};

use super::{Sim, unlimited};

#[tokio::test]
async fn a_missing_or_unknown_token_is_401_invalid_authentication() {
    let mut sim = Sim::start().await;
    let anonymous = sim.http.get(sim.url("/crm/v3/objects/contacts")).send().await.unwrap();
    assert_eq!(anonymous.status(), 401);
    let body: serde_json::Value = anonymous.json().await.unwrap();
    assert_eq!(body["category"], json!("INVALID_AUTHENTICATION"));
    sim.token = "pat-na1-wrong".into();
    assert_eq!(sim.get("/crm/v3/objects/contacts").await.status, 401);
}

#[tokio::test]
async fn configured_tokens_are_accepted_and_writes_carry_each_apps_id() {
    let config = unlimited().with_tokens(["first".to_string(), "second".to_string()]);
    let mut sim = Sim::with(config).await;
    sim.token = "second".into();
    let id = sim.create("contacts", json!({"firstname": "T"})).await;
    let record = sim.sim.record("contacts", id.parse().unwrap()).unwrap();
    assert_eq!(record.history["firstname"][0].source_id.as_deref(), Some("54322"));
}

#[tokio::test]
async fn an_oauth_refresh_issues_a_token_that_expires_with_401_expired_authentication() {
    let mut sim = Sim::start().await;
    sim.sim.clock().freeze();
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", "sim-client-id"),
        ("client_secret", "sim-client-secret"),
        ("refresh_token", "sim-refresh-token"),
    ];
    let reply = sim.http.post(sim.url("/oauth/v1/token")).form(&form).send().await.unwrap();
    assert_eq!(reply.status(), 200);
    let body: serde_json::Value = reply.json().await.unwrap();
    assert_eq!(body["expires_in"], json!(1800));
    assert_eq!(body["token_type"], json!("bearer"));
    sim.token = body["access_token"].as_str().unwrap().to_string();
    let info = sim.get(&format!("/oauth/v1/access-tokens/{}", sim.token)).await;
    assert_eq!(
        (info.body["expires_in"].as_i64(), info.body["app_id"].as_u64()),
        (Some(1800), Some(64321))
    );
    let ok = sim.get("/crm/v3/objects/contacts").await;
    assert!(ok.header("x-hubspot-correlation-id").is_some());
    assert_eq!(ok.status, 200);
    assert!(ok.header("x-hubspot-ratelimit-daily").is_none(), "OAuth calls get no daily headers");
    sim.sim.clock().advance(chrono::Duration::seconds(1805));
    let expired = sim.get("/crm/v3/objects/contacts").await;
    assert_eq!(expired.status, 401);
    assert_eq!(expired.body["category"], json!("EXPIRED_AUTHENTICATION"));
    assert!(expired.body["message"].as_str().unwrap().contains("expired 5 second(s) ago"));
    let bad = [
        ("grant_type", "refresh_token"),
        ("client_id", "sim-client-id"),
        ("client_secret", "sim-client-secret"),
        ("refresh_token", "nope"),
    ];
    let refused = sim.http.post(sim.url("/oauth/v1/token")).form(&bad).send().await.unwrap();
    assert_eq!(refused.status(), 400);
}

#[tokio::test]
async fn every_non_search_response_carries_the_rate_limit_headers() {
    let sim =
        Sim::with(SimConfig { rate: RateProfile::PROFESSIONAL, ..SimConfig::default() }).await;
    let reply = sim.get("/crm/v3/objects/contacts").await;
    assert_eq!(reply.header("x-hubspot-ratelimit-max"), Some("190"));
    assert_eq!(reply.header("x-hubspot-ratelimit-remaining"), Some("189"));
    assert_eq!(reply.header("x-hubspot-ratelimit-interval-milliseconds"), Some("10000"));
    assert_eq!(reply.header("x-hubspot-ratelimit-daily"), Some("625000"));
    assert_eq!(reply.header("x-hubspot-ratelimit-daily-remaining"), Some("624999"));
    assert_eq!(reply.header("x-hubspot-ratelimit-secondly"), Some("19"));
    let search = sim.post("/crm/v3/objects/contacts/search", json!({})).await;
    assert_eq!(search.status, 200);
    assert!(search.header("x-hubspot-ratelimit-max").is_none());
}

#[tokio::test]
async fn the_eleventh_request_in_ten_seconds_is_429_ten_secondly_rolling_until_the_window_rolls() {
    let sim =
        Sim::with(SimConfig { rate: RateProfile::of(10, 1000), ..SimConfig::default() }).await;
    sim.sim.clock().freeze();
    for _ in 0..10 {
        assert_eq!(sim.get("/crm/v3/objects/contacts").await.status, 200);
    }
    let limited = sim.get("/crm/v3/objects/contacts").await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["errorType"], json!("RATE_LIMIT"));
    assert_eq!(limited.body["policyName"], json!("TEN_SECONDLY_ROLLING"));
    assert!(limited.body.get("category").is_none());
    assert_eq!(limited.header("x-hubspot-ratelimit-remaining"), Some("0"));
    sim.sim.clock().advance(chrono::Duration::seconds(10));
    assert_eq!(sim.get("/crm/v3/objects/contacts").await.status, 200);
    assert_eq!(sim.sim.stats().total_with_status(429), 1);
}

/// A fresh OAuth access token from the refresh grant.
async fn refreshed_token(sim: &Sim) -> String {
    let form = [
        ("grant_type", "refresh_token"),
        ("client_id", "sim-client-id"),
        ("client_secret", "sim-client-secret"),
        ("refresh_token", "sim-refresh-token"),
    ];
    let reply = sim.http.post(sim.url("/oauth/v1/token")).form(&form).send().await.unwrap();
    let body: serde_json::Value = reply.json().await.unwrap();
    body["access_token"].as_str().expect("an access token").to_string()
}

#[tokio::test]
async fn refreshing_the_oauth_token_does_not_reset_the_apps_ten_second_window() {
    let mut sim =
        Sim::with(SimConfig { rate: RateProfile::of(5, 1000), ..SimConfig::default() }).await;
    sim.sim.clock().freeze();
    let private_token = sim.token.clone();
    sim.token = refreshed_token(&sim).await;
    for _ in 0..5 {
        assert_eq!(sim.get("/crm/v3/objects/contacts").await.status, 200);
    }
    assert_eq!(sim.get("/crm/v3/objects/contacts").await.status, 429);
    sim.token = refreshed_token(&sim).await;
    let limited = sim.get("/crm/v3/objects/contacts").await;
    assert_eq!(limited.status, 429, "the burst limit is per app, not per access token");
    assert_eq!(limited.body["policyName"], json!("TEN_SECONDLY_ROLLING"));
    sim.token = private_token;
    assert_eq!(sim.get("/crm/v3/objects/contacts").await.status, 200, "another app is unaffected");
}

#[tokio::test]
async fn the_daily_budget_runs_out_with_429_daily() {
    let sim = Sim::with(SimConfig { rate: RateProfile::of(100, 3), ..SimConfig::default() }).await;
    for _ in 0..3 {
        sim.get("/crm/v3/objects/contacts").await;
    }
    let limited = sim.get("/crm/v3/objects/contacts").await;
    assert_eq!((limited.status, limited.body["policyName"].as_str()), (429, Some("DAILY")));
    assert_eq!(limited.body["message"], json!("You have reached your daily limit."));
}

#[tokio::test]
async fn search_has_its_own_five_per_second_limit_answered_without_headers() {
    let sim =
        Sim::with(SimConfig { rate: RateProfile::PROFESSIONAL, ..SimConfig::default() }).await;
    sim.sim.clock().freeze();
    for _ in 0..5 {
        assert_eq!(sim.post("/crm/v3/objects/contacts/search", json!({})).await.status, 200);
    }
    let limited = sim.post("/crm/v3/objects/contacts/search", json!({})).await;
    assert_eq!(limited.status, 429);
    assert_eq!(limited.body["policyName"], json!("SECONDLY"));
    assert_eq!(limited.body["message"], json!("You have reached your secondly limit."));
    assert!(limited.header("x-hubspot-ratelimit-max").is_none());
    assert_eq!(
        sim.get("/crm/v3/objects/contacts").await.status,
        200,
        "other endpoints still answer"
    );
}

#[tokio::test]
async fn injected_faults_answer_423_477_with_retry_after_and_5xx_by_count() {
    let sim = Sim::start().await;
    let retry_after = Fault::Respond {
        status: 477,
        body: json!({"status": "error", "message": "Migration in progress"}),
        headers: vec![("Retry-After".into(), "30".into())],
    };
    sim.sim.inject(FaultRule::new("/crm/v3/objects/contacts", retry_after, Trigger::Next(1)));
    let locked = Fault::Respond { status: 423, body: json!({}), headers: vec![] };
    sim.sim.inject(
        FaultRule::new("/crm/v3/objects/*/batch/*", locked, Trigger::Next(1)).method("post"),
    );
    let moved = sim.get("/crm/v3/objects/contacts").await;
    assert_eq!((moved.status, moved.header("retry-after")), (477, Some("30")));
    assert_eq!(sim.get("/crm/v3/objects/contacts").await.status, 200);
    let batch = sim.post("/crm/v3/objects/contacts/batch/read", json!({"inputs": []})).await;
    assert_eq!(batch.status, 423);
    for status in [500, 502, 503] {
        let fault = Fault::Respond { status, body: json!({}), headers: vec![] };
        sim.sim.inject(FaultRule::new("*", fault, Trigger::Next(1)));
        assert_eq!(sim.get("/crm/v3/owners").await.status, status);
    }
}

#[tokio::test]
async fn an_injected_delay_and_a_dropped_connection_reach_the_client() {
    let sim = Sim::start().await;
    sim.sim.inject(FaultRule::new(
        "/crm/v3/owners",
        Fault::Delay(Duration::from_millis(200)),
        Trigger::Next(1),
    ));
    let started = std::time::Instant::now();
    sim.get("/crm/v3/owners").await;
    assert!(started.elapsed() >= Duration::from_millis(200));
    sim.sim.inject(FaultRule::new("/crm/v3/owners", Fault::DropMidBody, Trigger::Next(1)));
    let response = sim.http.get(sim.url("/crm/v3/owners")).bearer_auth(&sim.token).send().await;
    let body = match response {
        Ok(response) => response.bytes().await.map(|_| ()),
        Err(err) => Err(err),
    };
    assert!(body.is_err(), "the connection is cut before the body is complete");
}

#[tokio::test]
async fn the_simulator_counts_requests_statuses_and_records_written_per_endpoint() {
    let sim = Sim::start().await;
    sim.create("contacts", json!({"firstname": "x"})).await;
    sim.post("/crm/v3/objects/contacts", json!({"properties": {"bogus": "1"}})).await;
    let stats = sim.sim.stats().snapshot();
    let create = &stats["POST /crm/v3/objects/{object_type}"];
    assert_eq!(create.requests, 2);
    assert_eq!(create.by_status.get(&201), Some(&1));
    assert_eq!(create.by_status.get(&400), Some(&1));
    assert_eq!(create.records_written, 1);
}
