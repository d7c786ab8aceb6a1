//! Retries: 5xx, 423 and 477 are retried with backoff; other 4xx never are. What outlasts
//! the retries comes back as a retryable result per item, with its reason and wait hint.

use std::time::{Duration, Instant};

use hubspot_sim::RateProfile;
use hubsync::connector::retry::RetryPolicy;
use hubsync::connector::{Connector, ItemResult, RetryReason};
use serde_json::json;
use sim_kit::faults::{Fault, FaultRule, Trigger};

use super::*;

fn respond(status: u16, headers: Vec<(String, String)>) -> Fault {
    Fault::Respond {
        status,
        body: json!({"status": "error", "message": "injected", "category": "INTERNAL_ERROR"}),
        headers,
    }
}

const UPSERT: &str = "/crm/v3/objects/*/batch/upsert";

#[tokio::test]
async fn two_bad_gateways_in_a_row_are_retried_and_the_batch_lands() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    sim.inject(FaultRule::new(UPSERT, respond(502, vec![]), Trigger::Next(2)));
    let hubspot = connector(&sim, generous());
    let results = hubspot.upsert_batch("contacts", "ext_id", &contacts(10)).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success));
    assert_eq!(sim.stats().total_with_status(502), 2);
    assert_eq!(sim.count("contacts"), 10);
}

#[tokio::test]
async fn a_locked_portal_and_a_migration_in_progress_are_waited_out() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    sim.inject(FaultRule::new(UPSERT, respond(423, vec![]), Trigger::Next(1)));
    let retry_after = vec![("Retry-After".to_string(), "1".to_string())];
    sim.inject(FaultRule::new(UPSERT, respond(477, retry_after), Trigger::Next(1)));
    let started = Instant::now();
    let hubspot = connector(&sim, generous());
    let results = hubspot.upsert_batch("contacts", "ext_id", &contacts(5)).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success));
    // 423 waits at least 2 s, 477 at least its Retry-After of 1 s
    assert!(started.elapsed() >= Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_server_error_that_outlasts_the_retries_leaves_each_item_retryable() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    sim.inject(FaultRule::new(UPSERT, respond(503, vec![]), Trigger::Next(10)));
    let mut options = options(&sim);
    options.retry = RetryPolicy { max_attempts: 2, ..RetryPolicy::default() };
    let hubspot = HubspotConnector::new(&settings(&sim, generous()), options).unwrap();
    let results = hubspot.upsert_batch("contacts", "ext_id", &contacts(3)).await.unwrap();
    for result in results {
        assert!(matches!(result, ItemResult::Retryable { reason: RetryReason::ServerError, .. }));
    }
    assert_eq!(sim.stats().total_with_status(503), 2);
}

#[tokio::test]
async fn a_client_error_is_never_retried() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let body = json!({"status": "error", "message": "forbidden", "category": "MISSING_SCOPES"});
    let fault = Fault::Respond { status: 403, body, headers: vec![] };
    sim.inject(FaultRule::new("/crm/v3/properties/*", fault, Trigger::Next(5)));
    let err = connector(&sim, generous()).describe("contacts").await.unwrap_err();
    assert_eq!(err.kind(), hubsync::error_kind::ErrorKind::NeedsOperator);
    assert_eq!(sim.stats().total_requests(), 1);
}

#[tokio::test]
async fn a_request_that_times_out_is_sent_again() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    let slow = Fault::Delay(Duration::from_secs(3));
    sim.inject(FaultRule::new(UPSERT, slow, Trigger::Next(1)));
    let mut settings = settings(&sim, generous());
    settings.request_timeout = Duration::from_secs(1);
    let hubspot = HubspotConnector::new(&settings, options(&sim)).unwrap();
    let results = hubspot.upsert_batch("contacts", "ext_id", &contacts(4)).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success));
    assert_eq!(sim.count("contacts"), 4, "the slow first attempt also landed; upsert made it safe");
}

#[tokio::test]
async fn a_request_that_times_out_on_every_attempt_leaves_each_item_retryable_for_timeout() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    let slow = Fault::Delay(Duration::from_secs(3));
    sim.inject(FaultRule::new(UPSERT, slow, Trigger::Next(2)));
    let mut settings = settings(&sim, generous());
    settings.request_timeout = Duration::from_secs(1);
    let mut options = options(&sim);
    options.retry = RetryPolicy { max_attempts: 2, ..RetryPolicy::default() };
    let hubspot = HubspotConnector::new(&settings, options).unwrap();
    let results = hubspot.upsert_batch("contacts", "ext_id", &contacts(3)).await.unwrap();
    assert_eq!(results.len(), 3);
    for result in results {
        let ItemResult::Retryable { reason, wait, message } = result else { panic!("{result:?}") };
        assert_eq!((reason, wait), (RetryReason::Timeout, None));
        assert!(message.contains("did not answer within 1s"), "{message}");
    }
}

/// A connector that waits at most 1 s inside a call; longer waits go back to the caller.
fn impatient(sim: &HubspotSim) -> HubspotConnector {
    let mut options = options(sim);
    options.retry = RetryPolicy { max_wait: Duration::from_secs(1), ..RetryPolicy::default() };
    HubspotConnector::new(&settings(sim, generous()), options).unwrap()
}

#[tokio::test]
async fn a_secondly_limit_asking_for_a_longer_wait_hands_that_wait_to_each_item() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    let body = json!({"status": "error", "message": "You have reached your secondly limit.",
                      "errorType": "RATE_LIMIT", "policyName": "SECONDLY"});
    let headers = vec![("Retry-After".to_string(), "3".to_string())];
    sim.inject(FaultRule::new(
        UPSERT,
        Fault::Respond { status: 429, body, headers },
        Trigger::Next(1),
    ));
    let results = impatient(&sim).upsert_batch("contacts", "ext_id", &contacts(3)).await.unwrap();
    for result in &results {
        assert!(
            matches!(result, ItemResult::Retryable {
                reason: RetryReason::RateLimited, wait: Some(wait), ..
            } if *wait == Duration::from_secs(3)),
            "{result:?}"
        );
    }
    assert_eq!(sim.stats().total_requests(), 1, "the long wait is not spent inside the call");
    assert_eq!(sim.count("contacts"), 0);
}

#[tokio::test]
async fn a_migration_retry_after_longer_than_the_call_waits_is_handed_to_each_item() {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    let retry_after = vec![("Retry-After".to_string(), "30".to_string())];
    sim.inject(FaultRule::new(UPSERT, respond(477, retry_after), Trigger::Next(1)));
    let results = impatient(&sim).upsert_batch("contacts", "ext_id", &contacts(3)).await.unwrap();
    for result in &results {
        assert!(
            matches!(result, ItemResult::Retryable {
                reason: RetryReason::ServerError, wait: Some(wait), ..
            } if *wait == Duration::from_secs(30)),
            "{result:?}"
        );
    }
    assert_eq!(sim.stats().total_with_status(477), 1);
}

#[tokio::test]
async fn three_429s_asking_two_seconds_each_are_waited_out_and_the_read_succeeds() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let limited = Fault::Respond {
        status: 429,
        body: json!({"status": "error", "message": "You have reached your secondly limit.",
                     "errorType": "RATE_LIMIT", "policyName": "SECONDLY"}),
        headers: vec![("Retry-After".to_string(), "2".to_string())],
    };
    sim.inject(FaultRule::new("/crm/v3/owners*", limited, Trigger::Next(3)));
    let hubspot = connector(&sim, generous());
    let started = Instant::now();
    hubspot.owners().await.expect("the read succeeds once the limit has passed");
    assert_eq!(sim.stats().total_with_status(429), 3);
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "each retry waited the two seconds asked: {:?}",
        started.elapsed()
    );
}
