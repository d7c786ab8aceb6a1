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

/// HubSpot's GDPR delete of a contact, as a user's request reaches the API.
async fn gdpr_delete(rig: &Rig, id: u64) {
    let url = format!("{}/crm/v3/objects/contacts/gdpr-delete", rig.hubspot.base_url());
    let answer = reqwest::Client::new()
        .post(url)
        .bearer_auth(rig.hubspot.token())
        .json(&json!({"objectId": id.to_string()}))
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), 204, "{}", answer.text().await.unwrap());
}

/// Journal rows, outbox items, conflicts and record state still holding `needle`.
async fn copies_holding(rig: &Rig, needle: &str) -> i64 {
    sqlx::query_scalar(
        "select (select count(*) from hubsync.journal where properties::text ilike $1)
              + (select count(*) from hubsync.outbox
                 where properties::text ilike $1 or state::text ilike $1
                    or coalesce(last_result::text, '') ilike $1)
              + (select count(*) from hubsync.conflicts
                 where concat(hubspot_value, external_value) ilike $1)
              + (select count(*) from hubsync.record_state where fields::text ilike $1)",
    )
    .bind(format!("%{needle}%"))
    .fetch_one(rig.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_privacy_deletion_scrubs_the_partner_and_hubsyncs_copies_and_brings_nothing_back() {
    // deletes only flag: a privacy deletion follows its own policy, scrub by default
    let rig = Rig::start_with_webhooks(&contacts("newest_wins", "flag")).await;
    let person = json!({"email": "greta@forget.me", "firstname": "Greta", "lastname": "Vanish",
                        "phone": "555-0199"});
    let (id, sf) = rig.linked_contact(person).await;
    assert!(copies_holding(&rig, "greta@forget.me").await > 0, "hubsync held copies");

    gdpr_delete(&rig, id).await;
    rig.wait_for("the Salesforce partner scrubbed", SETTLE, || async {
        rig.salesforce.record(&sf).is_some_and(|r| r["LastName"] == "[deleted]")
    })
    .await;
    rig.quiesce(SETTLE).await;
    tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    rig.quiesce(SETTLE).await;

    let partner = rig.salesforce_record(&sf);
    for field in ["Email", "FirstName", "Phone"] {
        assert!(partner[field].is_null(), "{field} is blank: {partner}");
    }
    assert_eq!(partner["IsDeleted"], false, "scrubbed, not deleted");
    for needle in ["greta@forget.me", "Greta", "Vanish", "555-0199"] {
        assert_eq!(copies_holding(&rig, needle).await, 0, "no copy of {needle:?} is left");
    }
    assert_eq!(rig.hubspot.count("contacts"), 0, "the scrubbed partner came back as nobody");
    let decided: Vec<String> = sqlx::query_scalar(
        "select reason from hubsync.journal where kind = 'delete' and properties ? 'privacy_deletion'",
    )
    .fetch_all(rig.pool())
    .await
    .unwrap();
    assert_eq!(decided, ["privacy_scrubbed"]);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_privacy_deletion_under_the_delete_policy_deletes_the_partner() {
    let rules = contacts("newest_wins", "flag")
        .replace("delete = \"flag\"", "delete = \"flag\"\nprivacy_deletion = \"delete\"");
    assert!(rules.contains("privacy_deletion"), "{rules}");
    let rig = Rig::start_with_webhooks(&rules).await;
    let person = json!({"email": "otto@forget.me", "firstname": "Otto", "lastname": "Gone"});
    let (id, sf) = rig.linked_contact(person).await;
    gdpr_delete(&rig, id).await;
    rig.wait_for("the Salesforce partner deleted", SETTLE, || async {
        rig.salesforce.count("Contact", false) == 0
    })
    .await;
    rig.quiesce(SETTLE).await;
    assert!(rig.salesforce.record(&sf).is_none_or(|r| r["IsDeleted"] == true));
    assert_eq!(copies_holding(&rig, "otto@forget.me").await, 0, "no copy is left");
    assert!(rig.links("contacts").await.is_empty(), "the link went with the partner");
}
