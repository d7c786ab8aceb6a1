//! Deletes against late news and second thoughts (catalog T20): a change older than a
//! delete never brings the record back, and a restore finds its surviving partner again.

use std::time::Duration;

use serde_json::json;

use super::{Rig, contacts};

const SETTLE: Duration = Duration::from_secs(30);
/// How long HubSpot holds back the notice of the edit made before the delete.
const LATE_BY: Duration = Duration::from_secs(6);

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_whose_notice_arrives_after_the_delete_does_not_bring_the_record_back() {
    let rig = Rig::start_with_webhooks(&contacts("newest_wins", "propagate")).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "late@acme.com", "firstname": "Ann", "lastname": "Lee"}))
        .await;

    rig.delay_webhooks(LATE_BY);
    rig.hubspot.edit_as_user("contacts", id, json!({"firstname": "Late"}), 7).unwrap();
    // the edit's notice is batched and held back; what follows is delivered at once
    tokio::time::sleep(Duration::from_millis(1500)).await;
    rig.delay_webhooks(Duration::ZERO);
    rig.hubspot.archive_as_user("contacts", id, 7).unwrap();
    rig.wait_for("the Salesforce record to be deleted", SETTLE, || async {
        rig.salesforce.count("Contact", false) == 0
    })
    .await;
    rig.wait_for("the late notice of the edit", LATE_BY + SETTLE, || async {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from hubsync.journal where source = 'webhook' and record_id = $1
               and properties -> 'firstname' ->> 'value' = 'Late'",
        )
        .bind(id.to_string())
        .fetch_one(rig.pool())
        .await
        .unwrap();
        n > 0
    })
    .await;
    rig.quiesce(SETTLE).await;

    assert_eq!(rig.salesforce.count("Contact", false), 0, "the late edit recreated nothing");
    assert!(rig.salesforce.record(&sf).is_none_or(|r| r["IsDeleted"] == true));
    assert!(rig.links("contacts").await.is_empty(), "and linked nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restored_contact_finds_its_surviving_salesforce_partner_without_a_duplicate() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "back@acme.com", "firstname": "Bo", "lastname": "Lee"}))
        .await;
    rig.hubspot.archive_as_user("contacts", id, 7).unwrap();
    rig.wait_for("the flagged delete", SETTLE, || async {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from hubsync.journal where kind = 'delete' and reason is not null",
        )
        .fetch_one(rig.pool())
        .await
        .unwrap();
        n > 0
    })
    .await;
    rig.hubspot.restore_as_user("contacts", id, 7).unwrap();
    rig.hubspot.edit_as_user("contacts", id, json!({"firstname": "Restored"}), 7).unwrap();
    rig.wait_for("the restored contact's edit in Salesforce", SETTLE, || async {
        rig.salesforce.record(&sf).is_some_and(|r| r["FirstName"] == "Restored")
    })
    .await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.salesforce.count("Contact", false), 1, "no second Salesforce contact");
    assert_eq!(rig.links("contacts").await, [(id.to_string(), sf)], "linked to its old partner");
}
