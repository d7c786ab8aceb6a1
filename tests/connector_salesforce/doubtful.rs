//! Doubtful answers: a 2xx body that does not parse, and a query that leaves a record out.
//! A record read by Id is not found only on proof (`IsDeleted`, or a 404 `NOT_FOUND` for
//! that Id); anything else is an error to retry or an unknown outcome.

use hubsync::connector::retry::RetryPolicy;
use hubsync::connector::{Connector, ItemResult, Lookup, ReadResult};
use hubsync::error_kind::ErrorKind;
use serde_json::json;
use sim_kit::faults::{Fault, Trigger};

use super::*;

/// Neither found nor proved gone (written without naming the variant, so this test also
/// builds against a connector that lacks it).
fn unknown(read: &ReadResult) -> bool {
    !matches!(read, ReadResult::Found(_) | ReadResult::NotFound)
}

const QUERY_ALL: &str = "/services/data/*/queryAll";

fn impatient(sim: &SalesforceSim) -> SalesforceConnector {
    let mut options = options(sim);
    options.retry = RetryPolicy { max_attempts: 2, ..RetryPolicy::default() };
    SalesforceConnector::new(&settings(sim), options).unwrap()
}

#[tokio::test]
async fn a_proxy_html_page_answering_a_query_is_retried_not_taken_as_no_records() {
    let sim = sim().await;
    let id = sim.seed("Contact", json!({"LastName": "Lee"})).unwrap();
    let page = Fault::RespondRaw {
        status: 200,
        body: "<html><body>Bad gateway</body></html>".into(),
        content_type: "text/html".into(),
    };
    sim.inject(QUERY_ALL, page.clone(), Trigger::Next(1));
    let read =
        connector(&sim).read_batch("Contact", &Lookup::Id, std::slice::from_ref(&id), &[]).await;
    assert!(matches!(&read.unwrap()[0], ReadResult::Found(r) if r.id == id));

    sim.inject("/services/data/*/query", page, Trigger::Next(2));
    let err = impatient(&sim).read_all("Contact", None, &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Transient, "{err}");
}

#[tokio::test]
async fn a_record_a_query_leaves_out_is_unknown_and_a_deleted_one_not_found() {
    let sim = sim().await;
    let live = sim.seed("Contact", json!({"LastName": "Live"})).unwrap();
    let deleted = sim.seed("Contact", json!({"LastName": "Binned"})).unwrap();
    sim.delete_as_user(&deleted).unwrap();
    let never = "003000000000999AAA".to_string();
    let salesforce = connector(&sim);
    let keys = [live.clone(), deleted.clone(), never.clone()];
    let read = salesforce.read_batch("Contact", &Lookup::Id, &keys, &[]).await.unwrap();
    assert!(matches!(&read[0], ReadResult::Found(r) if r.id == live), "{read:?}");
    assert_eq!(read[1], ReadResult::NotFound, "in the recycle bin: IsDeleted");
    assert_eq!(read[2], ReadResult::NotFound, "404 NOT_FOUND for that id");

    let nothing = Fault::Respond {
        status: 200,
        body: json!({"totalSize": 0, "done": true, "records": []}),
        headers: vec![],
    };
    sim.inject(QUERY_ALL, nothing, Trigger::Next(1));
    let read = salesforce.read_batch("Contact", &Lookup::Id, &[live], &[]).await.unwrap();
    assert!(unknown(&read[0]), "{read:?}");
}

#[tokio::test]
async fn a_write_applied_then_answered_with_garbage_is_retried_and_lands_once() {
    let sim = sim().await;
    let garbled = Fault::ServeThenRaw { body: r#"[{"id":"003"#.into(), status: None };
    sim.inject("/services/data/*/composite/sobjects/Contact/*", garbled, Trigger::Next(1));
    let results = connector(&sim).upsert_batch("Contact", KEY_FIELD, &contacts(3)).await.unwrap();
    assert!(results.iter().all(ItemResult::is_success), "{results:?}");
    assert_eq!(sim.count("Contact", false), 3, "the second send found the records it had written");
}

#[tokio::test]
async fn a_field_or_object_name_that_would_change_a_query_is_refused_before_it_is_sent() {
    let sim = sim().await;
    let id = sim.seed("Contact", json!({"LastName": "Lee"})).unwrap();
    let salesforce = connector(&sim);
    // warm the session so only query requests are left to count
    salesforce.read_batch("Contact", &Lookup::Id, std::slice::from_ref(&id), &[]).await.unwrap();
    sim.stats().reset();
    let sneaky = vec!["LastName FROM User WHERE Id != null --".to_string()];
    let err =
        salesforce.read_batch("Contact", &Lookup::Id, std::slice::from_ref(&id), &sneaky).await;
    let err = err.expect_err("a name that is not a name is refused");
    assert_eq!(err.kind(), ErrorKind::NeedsOperator, "{err}");
    assert!(err.to_string().contains("not a Salesforce object or field name"), "{err}");
    let err = salesforce.read_all("Contact WHERE Id != null", None, &[]).await.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NeedsOperator, "{err}");
    assert_eq!(sim.stats().total_requests(), 0, "nothing reached the API");
}
