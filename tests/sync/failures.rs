//! Records the target rejects, stale and out-of-order changes, and restores.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::Utc;
use hubsync::config::Side;
use hubsync::journal::{Arrival, ChangeKind, NewChange, PropertyChange};
use hubsync::store;
use serde_json::json;

use super::{Rig, contacts};

const SETTLE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn a_batch_with_three_invalid_records_lands_97_and_fails_3_with_the_apis_message() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let too_long = "5".repeat(300);
    let mut bad = Vec::new();
    for i in 0..100 {
        let phone = if i % 33 == 7 { too_long.clone() } else { format!("555-{i:04}") };
        let id = rig
            .hubspot
            .seed(
                "contacts",
                json!({"email": format!("b{i}@acme.com"), "lastname": "B", "phone": phone}),
            )
            .unwrap();
        if i % 33 == 7 {
            bad.push(id);
        }
    }
    assert_eq!(bad.len(), 3);
    rig.wait_for("97 links", SETTLE, || async { rig.links("contacts").await.len() == 97 }).await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.salesforce.count("Contact", false), 97, "the good batch-mates landed");

    let failed: Vec<(String, String, Option<String>)> = sqlx::query_as(
        "select record_id, status, last_error from hubsync.journal
         where status = 'failed' order by record_id",
    )
    .fetch_all(rig.pool())
    .await
    .unwrap();
    let ids: Vec<String> = failed.iter().map(|(id, ..)| id.clone()).collect();
    let mut expected: Vec<String> = bad.iter().map(u64::to_string).collect();
    expected.sort();
    assert_eq!(ids, expected, "exactly the three bad records failed");
    for (_, _, error) in &failed {
        let error = error.as_deref().unwrap_or_default();
        assert!(error.contains("STRING_TOO_LONG") && error.contains("Phone"), "{error}");
    }

    // fixed at the source, they sync like any other change
    for id in &bad {
        rig.hubspot.edit_as_user("contacts", *id, json!({"phone": "555-9999"}), 7).unwrap();
    }
    rig.wait_for("all 100 links", SETTLE, || async { rig.links("contacts").await.len() == 100 })
        .await;
    assert_eq!(rig.salesforce.count("Contact", false), 100);
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_older_than_the_applied_value_is_dropped_as_stale() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "s@acme.com", "firstname": "New", "lastname": "S"}))
        .await;

    // a change from an hour ago arrives late (a delayed webhook retry)
    let late = NewChange {
        side: Side::Hubspot,
        connector: "hubspot".into(),
        object_type: "contacts".into(),
        record_id: id.to_string(),
        kind: ChangeKind::Upsert,
        properties: BTreeMap::from([(
            "firstname".to_string(),
            PropertyChange {
                value: Some("Old".into()),
                timestamp: Some(Utc::now() - chrono::Duration::hours(1)),
            },
        )]),
        occurred_at: Utc::now() - chrono::Duration::hours(1),
        source: Arrival::Operator,
        dedup_key: "late-change".into(),
    };
    store::journal::append(rig.pool(), &[late]).await.unwrap();
    rig.quiesce(SETTLE).await;
    let status: (String, Option<String>) = sqlx::query_as(
        "select status, reason from hubsync.journal where dedup_key = 'late-change'",
    )
    .fetch_one(rig.pool())
    .await
    .unwrap();
    assert_eq!(status, ("stale".to_string(), Some("stale".to_string())));
    assert_eq!(rig.salesforce_record(&sf)["FirstName"], "New", "the newer value stands");
    assert_eq!(rig.hubspot_contact(&id.to_string())["firstname"], "New");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_restored_record_is_synced_again_under_a_new_link() {
    // the drift sweep notices a record that is back
    let sweep = [("HUBSYNC__INGEST__SWEEP_INTERVAL", "2s")];
    let rules = contacts("newest_wins", "propagate");
    let rig = Rig::start_with(&rules, hubspot_sim::RateProfile::UNLIMITED, &sweep).await;
    let (id, _) = rig.linked_contact(json!({"email": "r@acme.com", "lastname": "Back"})).await;
    rig.hubspot.archive_as_user("contacts", id, 7).unwrap();
    rig.wait_for("the delete to propagate", SETTLE, || async {
        rig.salesforce.count("Contact", false) == 0
    })
    .await;
    rig.hubspot.restore_as_user("contacts", id, 7).unwrap();
    rig.wait_for("the restore to sync", SETTLE, || async {
        rig.salesforce.count("Contact", false) == 1 && rig.links("contacts").await.len() == 1
    })
    .await;
    rig.quiesce(SETTLE).await;
    let (hubspot, external) = rig.links("contacts").await[0].clone();
    assert_eq!(hubspot, id.to_string());
    assert_eq!(rig.salesforce_record(&external)["LastName"], "Back");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_change_whose_reads_fail_while_salesforce_is_down_waits_unspent_and_lands_after() {
    let attempts = [("HUBSYNC__JOURNAL__MAX_ATTEMPTS", "2")];
    let rules = contacts("newest_wins", "flag");
    let rig = Rig::start_with(&rules, hubspot_sim::RateProfile::UNLIMITED, &attempts).await;
    // the partner lookup by email is a SOQL query; the poller's queryAll still answers
    let down = salesforce_sim::fault::unavailable();
    let always = sim_kit::faults::Trigger::Fraction(1.0);
    rig.salesforce.inject("/services/data/*/query", down, always);
    rig.hubspot.seed("contacts", json!({"email": "d@acme.com", "lastname": "Down"})).unwrap();
    let status = || async {
        sqlx::query_as::<_, (String, Option<String>, i32, Option<String>)>(
            "select status, reason, attempts - coalesce(lease_until > now(), false)::int,
                 error_kind
             from hubsync.journal where side = 'hubspot'",
        )
        .fetch_optional(rig.pool())
        .await
        .unwrap()
    };
    rig.wait_for("the failed read to be recorded", SETTLE, || async {
        status().await.is_some_and(|(_, _, _, kind)| kind.is_some())
    })
    .await;
    // far longer than two attempts with their backoff
    tokio::time::sleep(Duration::from_secs(8)).await;
    let (state, reason, spent, kind) = status().await.unwrap();
    assert_eq!(state, "pending", "an outage delays the change, it never fails it");
    assert_eq!((reason.as_deref(), kind.as_deref()), (Some("read_failed"), Some("transient")));
    assert_eq!(spent, 0, "no attempt is spent while the other side is down");
    assert_eq!(rig.salesforce.count("Contact", false), 0, "nothing was written yet");

    rig.salesforce.faults().clear();
    rig.wait_for("the change to land", SETTLE, || async {
        rig.salesforce.count("Contact", false) == 1
    })
    .await;
    rig.quiesce(SETTLE).await;
    let (state, ..) = status().await.unwrap();
    assert_eq!(state, "applied");
}

#[tokio::test(flavor = "multi_thread")]
async fn rules_that_do_not_match_the_live_schemas_stop_the_daemon_naming_block_field_and_reason() {
    let rules = contacts("newest_wins", "flag")
        .replace("external = \"Phone\"", "external = \"Phne\"")
        .replace(
            "keys = { hubspot_unique_property = \"salesforce_id\"",
            "keys = { hubspot_unique_property = \"firstname\"",
        );
    let mut rig = Rig::launch(&rules, hubspot_sim::RateProfile::UNLIMITED, &[]).await;
    let app = rig.app.take().unwrap();
    let err = app.exited(SETTLE).await.expect_err("start-up fails");
    let message = hubsync::error_kind::report(&err);
    assert!(
        message.contains("sync block contacts: external field Phne on Contact: no such field"),
        "{message}"
    );
    assert!(message.contains("hubspot field firstname on contacts: is not unique"), "{message}");
    assert_eq!(rig.salesforce.count("Contact", false), 0, "nothing was written");
}
