//! Doubtful answers end to end: a check read that proves nothing is retried, never taken
//! as proof that a record is gone, and a write whose answer was lost after it landed is
//! sent again and lands once.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use hubsync::config::Side;
use hubsync::journal::{Arrival, ChangeKind, NewChange};
use hubsync::store;
use serde_json::json;
use sim_kit::faults::{Fault, FaultRule, Trigger};

use super::{Rig, contacts};

const SETTLE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn a_webhook_delete_checked_against_an_empty_207_deletes_nothing() {
    let rig = Rig::start(&contacts("newest_wins", "propagate")).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "d@acme.com", "firstname": "Dee", "lastname": "D"}))
        .await;
    // a delete event for a record that still exists; the check read answers nothing
    let empty = Fault::Respond {
        status: 207,
        body: json!({"status": "COMPLETE", "results": [], "numErrors": 0, "errors": []}),
        headers: vec![],
    };
    let read = "/crm/v3/objects/contacts/batch/read";
    rig.hubspot.inject(FaultRule::new(read, empty, Trigger::Next(1)));
    let delete = NewChange {
        side: Side::Hubspot,
        connector: "hubspot".into(),
        object_type: "contacts".into(),
        record_id: id.to_string(),
        kind: ChangeKind::Delete,
        properties: BTreeMap::new(),
        occurred_at: Utc::now(),
        source: Arrival::Webhook,
        dedup_key: "doubtful-delete".into(),
    };
    store::journal::append(rig.pool(), &[delete]).await.unwrap();
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.hubspot.faults().fired(), 1, "the check read met the empty answer");
    assert_eq!(rig.salesforce.count("Contact", false), 1, "the partner was not deleted");
    assert_eq!(rig.salesforce_record(&sf)["IsDeleted"], false);
    let reason: Option<String> = sqlx::query_scalar(
        "select reason from hubsync.journal where dedup_key = 'doubtful-delete'",
    )
    .fetch_one(rig.pool())
    .await
    .unwrap();
    assert_eq!(reason.as_deref(), Some("delete_not_confirmed"));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_answered_200_with_invalid_json_after_it_landed_is_retried_and_lands_once() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let garbled =
        Fault::ServeThenRaw { body: "<html><body>proxy error</body></html>".into(), status: None };
    let upsert = "/services/data/*/composite/sobjects/Contact/*";
    rig.salesforce.inject(upsert, garbled, Trigger::Next(1));
    rig.hubspot.seed("contacts", json!({"email": "once@acme.com", "lastname": "Once"})).unwrap();
    rig.wait_for("the link", SETTLE, || async { rig.links("contacts").await.len() == 1 }).await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.salesforce.faults().fired(), 1, "the answer to the first write was lost");
    assert_eq!(rig.salesforce.count("Contact", false), 1, "exactly one remote record");
    let failed: i64 = sqlx::query_scalar(
        "select count(*) from hubsync.outbox where status in ('failed', 'dead', 'held')",
    )
    .fetch_one(rig.pool())
    .await
    .unwrap();
    assert_eq!(failed, 0, "{}", rig.in_flight().await);
}
