//! Doubtful answers: a 2xx body that does not parse, a batch read that names neither a
//! record nor `OBJECT_NOT_FOUND` for an id, a search page without `results`. Each is an
//! error to retry or an unknown outcome, never success and never proof that a record is
//! gone.

use hubspot_sim::RateProfile;
use hubsync::connector::retry::RetryPolicy;
use hubsync::connector::{ChangeCursor, Connector, ItemResult, Lookup, ReadResult, RetryReason};
use hubsync::error_kind::ErrorKind;
use serde_json::json;
use sim_kit::faults::{Fault, FaultRule, Trigger};

use super::*;

/// Neither found nor proved gone (written without naming the variant, so this test also
/// builds against a connector that lacks it).
fn unknown(read: &ReadResult) -> bool {
    !matches!(read, ReadResult::Found(_) | ReadResult::NotFound)
}

const READ: &str = "/crm/v3/objects/contacts/batch/read";
const SEARCH: &str = "/crm/v3/objects/contacts/search";

fn html_page() -> Fault {
    let body = "<html><body><h1>Service temporarily unavailable</h1></body></html>".to_string();
    Fault::RespondRaw { status: 200, body, content_type: "text/html".into() }
}

/// A connector that gives up after two attempts.
fn impatient(sim: &hubspot_sim::HubspotSim) -> HubspotConnector {
    let mut options = options(sim);
    options.retry = RetryPolicy { max_attempts: 2, ..RetryPolicy::default() };
    HubspotConnector::new(&settings(sim, generous()), options).unwrap()
}

#[tokio::test]
async fn a_proxy_html_page_answering_200_is_retried_not_taken_as_success() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let id = sim.seed("contacts", json!({"email": "ann@x.com"})).unwrap().to_string();
    sim.inject(FaultRule::new(READ, html_page(), Trigger::Next(1)));
    let hubspot = connector(&sim, generous());
    let read =
        hubspot.read_batch("contacts", &Lookup::Id, std::slice::from_ref(&id), &[]).await.unwrap();
    assert!(matches!(&read[0], ReadResult::Found(r) if r.id == id), "{read:?}");
    assert_eq!(sim.faults().fired(), 1, "the page was served, then the read sent again");

    sim.inject(FaultRule::new(READ, html_page(), Trigger::Next(2)));
    let err = impatient(&sim).read_batch("contacts", &Lookup::Id, &[id], &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
}

#[tokio::test]
async fn a_truncated_json_body_answering_200_is_an_error_to_retry() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let id = sim.seed("contacts", json!({"email": "ann@x.com"})).unwrap().to_string();
    let cut = Fault::RespondRaw {
        status: 200,
        body: r#"{"status":"COMPLETE","results":[{"id":"#.into(),
        content_type: "application/json".into(),
    };
    sim.inject(FaultRule::new(READ, cut, Trigger::Next(2)));
    let err = impatient(&sim).read_batch("contacts", &Lookup::Id, &[id], &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
}

#[tokio::test]
async fn an_empty_207_proves_nothing_about_the_ids_it_leaves_out() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let live = sim.seed("contacts", json!({"email": "ann@x.com"})).unwrap().to_string();
    let empty = Fault::Respond {
        status: 207,
        body: json!({"status": "COMPLETE", "results": [], "numErrors": 0, "errors": []}),
        headers: vec![],
    };
    sim.inject(FaultRule::new(READ, empty, Trigger::Next(1)));
    let hubspot = connector(&sim, generous());
    let keys = [live.clone(), "424242".to_string()];
    let read = hubspot.read_batch("contacts", &Lookup::Id, &keys, &[]).await.unwrap();
    assert!(unknown(&read[0]), "{read:?}");
    assert!(unknown(&read[1]), "{read:?}");
    // read again, HubSpot names the missing id: that, and only that, is proof
    let read = hubspot.read_batch("contacts", &Lookup::Id, &keys, &[]).await.unwrap();
    assert!(matches!(&read[0], ReadResult::Found(r) if r.id == live), "{read:?}");
    assert_eq!(read[1], ReadResult::NotFound);
}

#[tokio::test]
async fn a_batch_read_error_other_than_not_found_is_surfaced_not_dropped() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let refused = Fault::Respond {
        status: 207,
        body: json!({"status": "COMPLETE", "results": [], "numErrors": 1, "errors": [{
            "status": "error", "category": "INTERNAL_ERROR", "message": "try later",
            "context": {"ids": ["77"]}}]}),
        headers: vec![],
    };
    sim.inject(FaultRule::new(READ, refused, Trigger::Next(1)));
    let read =
        connector(&sim, generous()).read_batch("contacts", &Lookup::Id, &["77".into()], &[]).await;
    let read = read.unwrap();
    assert!(unknown(&read[0]) && format!("{:?}", read[0]).contains("INTERNAL_ERROR"), "{read:?}");
}

#[tokio::test]
async fn a_tie_page_without_results_is_an_error_and_its_timestamp_is_not_skipped() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let empty = Fault::RespondRaw {
        status: 200,
        body: String::new(),
        content_type: "application/json".into(),
    };
    sim.inject(FaultRule::new(SEARCH, empty, Trigger::Next(2)));
    let cursor = ChangeCursor {
        modified_ms: sim.clock().now().timestamp_millis() - 60_000,
        id: "0".into(),
        resume: Some("tie".into()),
    };
    let page = impatient(&sim).read_changes("contacts", &cursor, &[]).await;
    let err = page.expect_err("a page without results must not mark its timestamp done");
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
}

#[tokio::test]
async fn an_update_answered_with_an_empty_207_is_retried_per_item_never_marked_done() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let ids: Vec<String> = (0..4)
        .map(|i| sim.seed("contacts", json!({"email": format!("u{i}@x.com")})).unwrap().to_string())
        .collect();
    let empty = r#"{"status":"COMPLETE","results":[],"numErrors":0,"errors":[]}"#;
    let fault = Fault::ServeThenRaw { body: empty.into(), status: None };
    sim.inject(FaultRule::new("/crm/v3/objects/contacts/batch/update", fault, Trigger::Next(1)));
    let items: Vec<hubsync::connector::UpdateItem> = ids
        .iter()
        .map(|id| hubsync::connector::UpdateItem {
            id: id.clone(),
            properties: props(&[("firstname", json!("Ann"))]),
        })
        .collect();
    let hubspot = connector(&sim, generous());
    let results = hubspot.update_batch("contacts", &items).await.unwrap();
    for result in &results {
        assert!(
            matches!(result, ItemResult::Retryable { reason: RetryReason::ServerError, .. }),
            "an input without a result is retried, never done: {result:?}"
        );
    }
    // the writer's retry sends them again: now each has its own result
    let results = hubspot.update_batch("contacts", &items).await.unwrap();
    for (id, result) in ids.iter().zip(&results) {
        assert_eq!(result, &ItemResult::Success { id: id.clone(), created: None });
    }
    assert_eq!(sim.faults().fired(), 1);
}

/// Five upserts the simulator applies, then answers with `fault` instead: the connector
/// retries them (an upsert by unique key) and each contact exists once.
async fn assert_an_upsert_lost_after_it_landed_lands_once(fault: Fault) {
    let sim = sim(RateProfile::UNLIMITED).await;
    add_unique_property(&sim);
    sim.inject(FaultRule::new("/crm/v3/objects/contacts/batch/upsert", fault, Trigger::Next(1)));
    let (hubspot, items) = (connector(&sim, generous()), contacts(5));
    let results = hubspot.upsert_batch("contacts", "ext_id", &items).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success), "{results:?}");
    assert_eq!(sim.faults().fired(), 1);
    assert_eq!(sim.count("contacts"), 5, "exactly one record per unique key");
}

#[tokio::test]
async fn an_upsert_answered_with_a_proxy_page_after_it_landed_is_retried_and_lands_once() {
    let body = "<html><body>502 from the proxy</body></html>".into();
    assert_an_upsert_lost_after_it_landed_lands_once(Fault::ServeThenRaw { body, status: None })
        .await;
}

#[tokio::test]
async fn an_upsert_answered_500_after_it_landed_is_retried_and_lands_once() {
    let body = r#"{"status":"error","category":"INTERNAL_ERROR","message":"try again"}"#.into();
    let fault = Fault::ServeThenRaw { body, status: Some(500) };
    assert_an_upsert_lost_after_it_landed_lands_once(fault).await;
}

#[tokio::test]
async fn an_upsert_whose_answer_is_cut_off_after_it_landed_is_retried_and_lands_once() {
    assert_an_upsert_lost_after_it_landed_lands_once(Fault::DropMidBody).await;
}
