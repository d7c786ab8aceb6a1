//! Collections: upserts by External ID, 200 per call, a bad record failing alone, the echo
//! marker on every write, row locks and server errors retried, and timeouts that outlast the
//! retries left retryable per record.

use std::time::Duration;

use hubsync::connector::retry::RetryPolicy;
use hubsync::connector::{Connector, ItemResult, RetryReason, UpdateItem};
use salesforce_sim::{ECHO_FIELD, fault};
use serde_json::json;
use sim_kit::faults::{Fault, Trigger};

use super::*;

const COLLECTIONS: &str = "/services/data/*/composite/sobjects*";

#[tokio::test]
async fn four_hundred_fifty_contacts_upsert_in_three_calls_marked_as_hubsyncs_writes() {
    let sim = sim().await;
    let salesforce = connector(&sim);
    let results = salesforce.upsert_batch("Contact", KEY_FIELD, &contacts(450)).await.unwrap();
    assert!(results.iter().all(|r| matches!(r, ItemResult::Success { created: Some(true), .. })));
    assert_eq!(sim.count("Contact", false), 450);
    let writes: u64 = sim
        .stats()
        .snapshot()
        .iter()
        .filter(|(endpoint, _)| endpoint.starts_with("PATCH") && endpoint.contains("composite"))
        .map(|(_, s)| s.requests)
        .sum();
    assert_eq!(writes, 3);
    let record = &sim.find("Contact", KEY_FIELD, "hs-7")[0];
    assert_eq!(record[ECHO_FIELD], "hubsync-test", "the echo marker rides on the write");
    let again = salesforce.upsert_batch("Contact", KEY_FIELD, &contacts(450)).await.unwrap();
    assert!(again.iter().all(|r| matches!(r, ItemResult::Success { created: Some(false), .. })));
    assert_eq!(sim.count("Contact", false), 450, "a retried batch creates no duplicates");
}

#[tokio::test]
async fn a_contact_missing_its_last_name_fails_alone_with_salesforces_code_and_field() {
    let sim = sim().await;
    let mut items = contacts(200);
    items[13].properties.remove("LastName");
    let results = connector(&sim).upsert_batch("Contact", KEY_FIELD, &items).await.unwrap();
    assert_eq!(results.iter().filter(|r| r.is_success()).count(), 199);
    match &results[13] {
        ItemResult::Permanent { code, field, .. } => {
            assert_eq!(code, "REQUIRED_FIELD_MISSING");
            assert_eq!(field.as_deref(), Some("LastName"));
        }
        other => panic!("expected a permanent failure, got {other:?}"),
    }
}

#[tokio::test]
async fn a_call_refused_for_a_row_lock_is_retried_until_it_lands() {
    let sim = sim().await;
    sim.inject(COLLECTIONS, fault::unable_to_lock_row(), Trigger::Next(2));
    let results = connector(&sim).upsert_batch("Contact", KEY_FIELD, &contacts(20)).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success));
    assert_eq!(sim.count("Contact", false), 20);
}

#[tokio::test]
async fn server_errors_are_retried_and_the_batch_lands() {
    let sim = sim().await;
    sim.inject(COLLECTIONS, fault::server_error(), Trigger::Next(1));
    sim.inject(COLLECTIONS, fault::unavailable(), Trigger::Next(1));
    let results = connector(&sim).upsert_batch("Contact", KEY_FIELD, &contacts(5)).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success));
}

#[tokio::test]
async fn updates_and_deletes_report_per_record() {
    let sim = sim().await;
    let salesforce = connector(&sim);
    let id = sim.seed("Contact", json!({"LastName": "Ng"})).unwrap();
    let gone = sim.seed("Contact", json!({"LastName": "Old"})).unwrap();
    sim.delete_as_user(&gone).unwrap();
    let items = vec![
        UpdateItem { id: id.clone(), properties: props(&[("FirstName", json!("Ann"))]) },
        UpdateItem { id: gone.clone(), properties: props(&[("FirstName", json!("Bo"))]) },
    ];
    let results = salesforce.update_batch("Contact", &items).await.unwrap();
    assert!(results[0].is_success());
    assert!(!results[1].is_success(), "{:?}", results[1]);
    assert_eq!(sim.record(&id).unwrap()["FirstName"], "Ann");
    let deleted = salesforce.archive_batch("Contact", std::slice::from_ref(&id)).await.unwrap();
    assert!(deleted[0].is_success());
    assert_eq!(sim.count("Contact", false), 0);
}

#[tokio::test]
async fn records_that_could_not_lock_their_row_are_sent_again_on_their_own() {
    let sim = sim().await;
    sim.lock_rows("Contact", 3).unwrap();
    let results = connector(&sim).upsert_batch("Contact", KEY_FIELD, &contacts(50)).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success), "{results:?}");
    assert_eq!(sim.count("Contact", false), 50);
    let calls: u64 = sim
        .stats()
        .snapshot()
        .iter()
        .filter(|(endpoint, _)| endpoint.starts_with("PATCH") && endpoint.contains("composite"))
        .map(|(_, s)| s.requests)
        .sum();
    assert_eq!(calls, 2, "one call for all 50, one more for the 3 locked rows");
}

#[tokio::test]
async fn a_call_that_times_out_on_every_attempt_leaves_each_record_retryable_for_timeout() {
    let sim = sim().await;
    sim.inject(COLLECTIONS, Fault::Delay(Duration::from_secs(3)), Trigger::Next(2));
    let mut settings = settings(&sim);
    settings.request_timeout = Duration::from_secs(1);
    let mut options = options(&sim);
    options.retry = RetryPolicy { max_attempts: 2, ..RetryPolicy::default() };
    let salesforce = SalesforceConnector::new(&settings, options).unwrap();
    let results = salesforce.upsert_batch("Contact", KEY_FIELD, &contacts(3)).await.unwrap();
    assert_eq!(results.len(), 3);
    for result in results {
        assert!(
            matches!(
                result,
                ItemResult::Retryable { reason: RetryReason::Timeout, wait: None, .. }
            ),
            "{result:?}"
        );
    }
}
