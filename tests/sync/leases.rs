//! Work whose holder died (a crash, a panic mid-batch): its lease runs out, the next claim
//! rescues it with one more attempt, and a row rescued past its maximum attempts is
//! dead-lettered instead of being reclaimed forever (catalog T08).

use std::time::Duration;

use hubspot_sim::RateProfile;
use serde_json::json;

use super::{Rig, contacts};

const MAX_ATTEMPTS: [(&str, &str); 2] =
    [("HUBSYNC__JOURNAL__MAX_ATTEMPTS", "3"), ("HUBSYNC__WRITER__MAX_ATTEMPTS", "3")];

/// A journal row for HubSpot contact `id`, already claimed by a replica that died: its lease
/// still runs for an hour, `attempts` attempts spent.
async fn abandoned_row(rig: &Rig, id: &str, attempts: i32) -> i64 {
    let properties = json!({"email": {"value": format!("{id}@lease.test"), "timestamp": null},
                            "lastname": {"value": "Lease", "timestamp": null}});
    sqlx::query_scalar(
        "insert into hubsync.journal (side, connector, object_type, record_id, kind, properties,
             occurred_at, source, dedup_key, attempts, claimed_by, lease_until)
         values ('hubspot', 'hubspot', 'contacts', $1, 'upsert', $2, now(), 'poll', $3, $4,
             'dead-replica/reconciler', now() + interval '1 hour')
         returning id",
    )
    .bind(id)
    .bind(properties)
    .bind(format!("lease-test:{id}"))
    .bind(attempts)
    .fetch_one(rig.pool())
    .await
    .unwrap()
}

/// Back-dates a lease by SQL: the holder is gone and its lease has run out.
async fn expire_lease(rig: &Rig, table: &str, id: i64) {
    let sql = format!(
        "update hubsync.{table} set lease_until = now() - interval '1 second' where id = $1"
    );
    sqlx::query(&sql).bind(id).execute(rig.pool()).await.unwrap();
}

async fn row(rig: &Rig, id: i64) -> (String, Option<String>, i32) {
    sqlx::query_as("select status, reason, attempts from hubsync.journal where id = $1")
        .bind(id)
        .fetch_one(rig.pool())
        .await
        .unwrap()
}

/// The value of a counter with these labels on `/metrics`, 0 when absent.
async fn counter(rig: &Rig, name: &str, label: &str) -> f64 {
    let text = rig.app().get("/metrics").await.text().await.unwrap();
    text.lines()
        .filter(|line| line.starts_with(name) && line.contains(label))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_whose_holder_died_is_rescued_within_a_poll_interval_with_one_more_attempt() {
    let rules = contacts("newest_wins", "flag");
    let rig = Rig::start_with(&rules, RateProfile::UNLIMITED, &MAX_ATTEMPTS).await;
    let id = abandoned_row(&rig, "901", 1).await;
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(row(&rig, id).await, ("pending".into(), None, 1), "a live lease is left alone");

    let rescued_before = counter(&rig, "hubsync_lease_rescued_total", "queue=\"journal\"").await;
    expire_lease(&rig, "journal", id).await;
    // the reconciler polls every 100 ms in tests; a second leaves room for a busy machine
    rig.wait_for("the row to be rescued", Duration::from_secs(1), || async {
        row(&rig, id).await.2 == 2
    })
    .await;
    rig.wait_for("the rescued row to be decided", Duration::from_secs(30), || async {
        row(&rig, id).await.0 == "applied"
    })
    .await;
    assert_eq!(row(&rig, id).await.2, 2, "the rescue spent exactly one attempt");
    let rescued = counter(&rig, "hubsync_lease_rescued_total", "queue=\"journal\"").await;
    assert!(rescued > rescued_before, "the rescue is counted: {rescued_before} -> {rescued}");
    rig.wait_for("the contact to land", Duration::from_secs(30), || async {
        rig.salesforce.count("Contact", false) == 1
    })
    .await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_row_rescued_past_its_maximum_attempts_is_dead_lettered_not_reclaimed_forever() {
    let rules = contacts("newest_wins", "flag");
    let rig = Rig::start_with(&rules, RateProfile::UNLIMITED, &MAX_ATTEMPTS).await;
    // three claims each died mid-batch (a panic, a kill): the row has spent all three
    let id = abandoned_row(&rig, "902", 3).await;
    expire_lease(&rig, "journal", id).await;
    rig.wait_for("the row to be dead-lettered", Duration::from_secs(10), || async {
        row(&rig, id).await.0 != "pending"
    })
    .await;
    let (status, reason, attempts) = row(&rig, id).await;
    assert_eq!(
        (status.as_str(), reason.as_deref(), attempts),
        ("dead", Some("lease_expired_max_attempts"), 4)
    );
    let outcome: String = sqlx::query_scalar(
        "select outcome from hubsync.journal_attempts where journal_id = $1 order by id desc",
    )
    .bind(id)
    .fetch_one(rig.pool())
    .await
    .unwrap();
    assert_eq!(outcome, "lease_expired_max_attempts", "the attempt history says why");
    rig.quiesce(Duration::from_secs(10)).await;
    assert_eq!(rig.salesforce.count("Contact", false), 0, "the dead row wrote nothing");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_write_rescued_past_its_maximum_attempts_is_dead_lettered_with_its_journal_row() {
    let rules = contacts("newest_wins", "flag");
    let rig = Rig::start_with(&rules, RateProfile::UNLIMITED, &MAX_ATTEMPTS).await;
    let journal_id = abandoned_row(&rig, "903", 1).await;
    sqlx::query(
        "update hubsync.journal set status = 'applied', reason = 'queued', claimed_by = null,
             lease_until = null where id = $1",
    )
    .bind(journal_id)
    .execute(rig.pool())
    .await
    .unwrap();
    // a create whose three sends each died before settling
    let item: i64 = sqlx::query_scalar(
        "insert into hubsync.outbox (sync_name, target_side, connector, object_type, operation,
             intent, unique_property, unique_value, source_id, properties, journal_id, attempts,
             claimed_by, lease_until)
         values ('contacts', 'external', 'salesforce', 'Contact', 'upsert', 'create',
             'HubSpot_Id__c', '903', '903', '{\"Email\": \"903@lease.test\", \"LastName\": \"Lease\"}',
             $1, 3, 'dead-replica/writer', now() - interval '1 second')
         returning id",
    )
    .bind(journal_id)
    .fetch_one(rig.pool())
    .await
    .unwrap();
    let item_state = || async {
        sqlx::query_as::<_, (String, i32, Option<String>)>(
            "select status, attempts, last_error from hubsync.outbox where id = $1",
        )
        .bind(item)
        .fetch_one(rig.pool())
        .await
        .unwrap()
    };
    rig.wait_for("the write to be dead-lettered", Duration::from_secs(10), || async {
        item_state().await.0 != "pending"
    })
    .await;
    let (status, attempts, error) = item_state().await;
    assert_eq!((status.as_str(), attempts), ("dead", 4), "{error:?}");
    assert!(error.unwrap_or_default().contains("lease_expired_max_attempts"));
    let (status, reason, _) = row(&rig, journal_id).await;
    assert_eq!((status.as_str(), reason.as_deref()), ("dead", Some("lease_expired_max_attempts")));
    assert_eq!(rig.salesforce.count("Contact", false), 0, "the dead write was not sent again");
}
