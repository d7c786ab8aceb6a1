//! Creates, updates, echoes, restarts, merges and deletes, end to end.

use std::time::Duration;

use hubspot_sim::RateProfile;
use serde_json::json;

use super::{Queue, Rig, contacts};

const SETTLE: Duration = Duration::from_secs(30);

#[tokio::test(flavor = "multi_thread")]
async fn a_contact_created_on_either_side_appears_once_on_the_other_with_the_link_recorded() {
    let mut rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let ann = rig
        .hubspot
        .create_as_user(
            "contacts",
            json!({"email": "ann@acme.com", "firstname": "Ann", "lastname": "Lee"}),
            7,
        )
        .unwrap()
        .to_string();
    let bob = rig
        .salesforce
        .seed("Contact", json!({"Email": "bob@acme.com", "FirstName": "Bob", "LastName": "Ray"}))
        .unwrap();
    rig.wait_for("both links", SETTLE, || async { rig.links("contacts").await.len() == 2 }).await;
    rig.quiesce(SETTLE).await;

    let links = rig.links("contacts").await;
    let ann_sf = &links.iter().find(|(h, _)| *h == ann).expect("ann is linked").1;
    let ann_record = rig.salesforce_record(ann_sf);
    assert_eq!(ann_record["Email"], "ann@acme.com");
    assert_eq!(ann_record["LastName"], "Lee");
    assert_eq!(ann_record["HubSpot_Id__c"], ann.as_str(), "created by upsert on the HubSpot id");
    let bob_hs = &links.iter().find(|(_, e)| *e == bob).expect("bob is linked").0;
    let bob_contact = rig.hubspot_contact(bob_hs);
    assert_eq!(bob_contact["email"], "bob@acme.com");
    assert_eq!(bob_contact["salesforce_id"], bob);

    rig.restart().await;
    rig.hubspot
        .edit_as_user("contacts", ann.parse().unwrap(), json!({"firstname": "Anne"}), 7)
        .unwrap();
    rig.wait_for("the edit to reach Salesforce", SETTLE, || async {
        rig.salesforce_record(ann_sf)["FirstName"] == "Anne"
    })
    .await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.hubspot.count("contacts"), 2, "no duplicate on HubSpot");
    assert_eq!(rig.salesforce.count("Contact", false), 2, "no duplicate on Salesforce");
    assert_eq!(rig.links("contacts").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread")]
async fn records_present_on_both_sides_are_matched_by_email_not_duplicated() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let hs = rig
        .hubspot
        .create_as_user(
            "contacts",
            json!({"email": "cy@acme.com", "firstname": "Cy", "lastname": "Old"}),
            7,
        )
        .unwrap();
    let sf = rig
        .salesforce
        .seed(
            "Contact",
            json!({"Email": "CY@acme.com", "FirstName": "Cy", "LastName": "Old", "Phone": "555"}),
        )
        .unwrap();
    rig.wait_for("the pair to link", SETTLE, || async { !rig.links("contacts").await.is_empty() })
        .await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.links("contacts").await, vec![(hs.to_string(), sf.clone())]);
    assert_eq!(rig.hubspot.count("contacts"), 1);
    assert_eq!(rig.salesforce.count("Contact", false), 1);
    assert_eq!(
        rig.hubspot_contact(&hs.to_string())["phone"],
        "555",
        "the other side's field arrives"
    );
    assert_eq!(rig.salesforce_record(&sf)["HubSpot_Id__c"], hs.to_string(), "keys are filled in");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_two_way_sync_of_1000_records_goes_quiet_and_a_real_edit_still_syncs() {
    // webhooks and polls both on: hubsync's own writes come back both ways
    let rig = Rig::start_with_webhooks(&contacts("newest_wins", "flag")).await;
    for i in 0..500 {
        let props = json!({"email": format!("h{i}@acme.com"), "firstname": "H", "lastname": format!("{i}")});
        rig.hubspot.seed("contacts", props).unwrap();
        let fields = json!({"Email": format!("s{i}@acme.com"), "FirstName": "S", "LastName": format!("{i}")});
        rig.salesforce.seed("Contact", fields).unwrap();
    }
    rig.wait_for("all links", Duration::from_secs(120), || async {
        rig.links("contacts").await.len() == 1000
    })
    .await;
    rig.quiesce(Duration::from_secs(60)).await;
    let first_pass = rig.write_count().await;
    assert_eq!(first_pass, 1000, "one create per record: {:?}", rig.writes().await);

    // several poll rounds later, nothing has been written again
    tokio::time::sleep(Duration::from_secs(3)).await;
    rig.quiesce(Duration::from_secs(30)).await;
    assert_eq!(
        rig.write_count().await,
        first_pass,
        "echoes wrote nothing: {:?}",
        rig.writes().await
    );

    let (hubspot_id, salesforce_id) = rig.links("contacts").await[0].clone();
    rig.salesforce.edit_as_user(&salesforce_id, json!({"Phone": "555-0100"})).unwrap();
    rig.wait_for("the third-party edit to sync", SETTLE, || async {
        rig.hubspot_contact(&hubspot_id).get("phone").map(String::as_str) == Some("555-0100")
    })
    .await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.write_count().await, first_pass + 1, "exactly one more write");
    let emails = |records: std::collections::BTreeMap<String, hubsync::connector::Properties>,
                  field: &str| {
        let mut emails: Vec<String> = records
            .values()
            .filter_map(|r| r.get(field)?.as_str().map(str::to_lowercase))
            .collect();
        emails.sort();
        emails
    };
    let hubspot = emails(rig.all(&rig.hubspot_api, "contacts", &["email"]).await, "email");
    let salesforce = emails(rig.all(&rig.salesforce_api, "Contact", &["Email"]).await, "Email");
    assert_eq!(hubspot.len(), 1000);
    assert_eq!(hubspot, salesforce, "both sides hold the same 1,000 contacts");
}

#[tokio::test(flavor = "multi_thread")]
async fn deletes_follow_the_delete_policy() {
    let rig = Rig::start(&contacts("newest_wins", "propagate")).await;
    let (gone, sf) =
        rig.linked_contact(json!({"email": "gone@acme.com", "lastname": "Gone"})).await;
    rig.hubspot.archive_as_user("contacts", gone, 7).unwrap();
    rig.wait_for("the Salesforce record to be deleted", SETTLE, || async {
        rig.salesforce.count("Contact", false) == 0
    })
    .await;
    rig.quiesce(SETTLE).await;
    assert!(rig.links("contacts").await.is_empty(), "the link goes with the record");
    assert!(rig.salesforce.record(&sf).is_none_or(|r| r["IsDeleted"] == true));
}

#[tokio::test(flavor = "multi_thread")]
async fn a_flagged_delete_is_journalled_for_an_operator_and_deletes_nothing() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let (id, _) = rig.linked_contact(json!({"email": "x@acme.com", "lastname": "X"})).await;
    rig.hubspot.archive_as_user("contacts", id, 7).unwrap();
    rig.wait_for("the flagged delete", SETTLE, || async {
        let reasons: Vec<String> = sqlx::query_scalar(
            "select reason from hubsync.journal where kind = 'delete' and reason is not null",
        )
        .fetch_all(rig.pool())
        .await
        .unwrap();
        reasons.iter().any(|r| r == "delete_flagged")
    })
    .await;
    assert_eq!(rig.salesforce.count("Contact", false), 1, "nothing was deleted");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hubspot_merge_relinks_the_salesforce_record_without_creating_a_duplicate() {
    let mut rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let (kept, sf) = rig.linked_contact(json!({"email": "k@acme.com", "lastname": "Kept"})).await;
    // while the daemon is down, a new, unsynced record absorbs the linked one
    let db = rig.stop().await;
    let survivor = rig
        .hubspot
        .create_as_user("contacts", json!({"email": "k2@acme.com", "lastname": "Survivor"}), 7)
        .unwrap();
    rig.hubspot.merge_as_user("contacts", survivor, kept, 7).unwrap();
    rig.resume(db).await;
    rig.wait_for("the relink", SETTLE, || async {
        let links = rig.links("contacts").await;
        links.iter().any(|(h, e)| *e == sf && *h != kept.to_string())
    })
    .await;
    rig.quiesce(SETTLE).await;
    let reasons: Vec<String> =
        sqlx::query_scalar("select reason from hubsync.journal where kind = 'merge'")
            .fetch_all(rig.pool())
            .await
            .unwrap();
    assert!(
        reasons.iter().any(|r| r == "merge_relinked"),
        "the redirect is journalled: {reasons:?}"
    );
    assert_eq!(rig.salesforce.count("Contact", false), 1, "no duplicate on Salesforce");
    let metrics = rig.app().get("/metrics").await.text().await.unwrap();
    assert!(
        metrics.lines().any(|l| l.starts_with("hubsync_reconciler_decisions_total{")
            && l.contains("decision=\"merge_relinked\"")),
        "the merge is counted:\n{metrics}"
    );
    let failed: i64 = sqlx::query_scalar(
        "select count(*) from hubsync.journal where status in ('failed', 'dead') or attempts > 2",
    )
    .fetch_one(rig.pool())
    .await
    .unwrap();
    assert_eq!(failed, 0, "no read of the merged-away id fails or loops");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_late_webhook_change_of_a_record_a_merge_absorbed_is_decided_as_the_merge_and_writes_nothing()
 {
    let mut rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let (absorbed, sf) =
        rig.linked_contact(json!({"email": "k@acme.com", "lastname": "Kept"})).await;
    let db = rig.stop().await;
    let survivor = rig
        .hubspot
        .create_as_user("contacts", json!({"email": "k2@acme.com", "lastname": "Survivor"}), 7)
        .unwrap();
    let merged = rig.hubspot.merge_as_user("contacts", survivor, absorbed, 7).unwrap();
    // a property change of the absorbed record, delivered after the merge
    let late = hubsync::journal::NewChange {
        side: hubsync::config::Side::Hubspot,
        connector: "hubspot".into(),
        object_type: "contacts".into(),
        record_id: absorbed.to_string(),
        kind: hubsync::journal::ChangeKind::Upsert,
        properties: Default::default(),
        occurred_at: chrono::Utc::now(),
        source: hubsync::journal::Arrival::Webhook,
        dedup_key: "late-webhook".into(),
    };
    let pool = sqlx::PgPool::connect(&db.as_ref().expect("a test database").url).await.unwrap();
    hubsync::store::journal::append(&pool, &[late]).await.unwrap();
    pool.close().await;
    rig.resume(db).await;
    rig.wait_for("the late change to be decided", SETTLE, || async {
        let status: String = sqlx::query_scalar(
            "select status from hubsync.journal where dedup_key = 'late-webhook'",
        )
        .fetch_one(rig.pool())
        .await
        .unwrap();
        status != "pending"
    })
    .await;
    rig.quiesce(SETTLE).await;
    let decided: (String, Option<String>) = sqlx::query_as(
        "select status, reason from hubsync.journal where dedup_key = 'late-webhook'",
    )
    .fetch_one(rig.pool())
    .await
    .unwrap();
    let merge = decided.1.as_deref().is_some_and(|reason| reason.starts_with("merge_"));
    assert!(merge, "decided as the merge it was, never written as a live record: {decided:?}");
    let written: i64 = sqlx::query_scalar(
        "select count(*) from hubsync.outbox o join hubsync.journal j on j.id = o.journal_id
         where j.dedup_key = 'late-webhook'",
    )
    .fetch_one(rig.pool())
    .await
    .unwrap();
    assert_eq!(written, 0, "nothing was written for the absorbed id");
    assert_eq!(
        rig.links("contacts").await,
        [(merged.to_string(), sf)],
        "linked to the merged record"
    );
    assert_eq!(rig.salesforce.count("Contact", false), 1, "no duplicate on Salesforce");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hubspot_delete_announced_by_webhook_is_confirmed_by_a_read_and_then_propagated() {
    let rig = Rig::start_with_webhooks(&contacts("newest_wins", "propagate")).await;
    let (id, sf) = rig.linked_contact(json!({"email": "d@acme.com", "lastname": "Gone"})).await;
    rig.hubspot.archive_as_user("contacts", id, 7).unwrap();
    rig.wait_for("the delete to propagate", SETTLE, || async {
        rig.salesforce.count("Contact", false) == 0
    })
    .await;
    rig.quiesce(SETTLE).await;
    // the webhook's row and the delete poll's row race; whichever comes first propagates
    let deletes: Vec<(String, String, String)> = sqlx::query_as(
        "select source, status, reason from hubsync.journal where kind = 'delete' order by id",
    )
    .fetch_all(rig.pool())
    .await
    .unwrap();
    let webhook = deletes.iter().filter(|(source, ..)| source == "webhook").count();
    assert!(webhook > 0, "the webhook announced the delete: {deletes:?}");
    assert!(deletes.iter().any(|(_, s, r)| s == "applied" && r == "queued"), "{deletes:?}");
    let refused = deletes.iter().filter(|(.., reason)| reason == "delete_not_confirmed").count();
    assert_eq!(refused, 0, "the read-back confirmed the delete of {id} (partner {sf})");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_hubspot_merge_announced_by_webhooks_never_deletes_a_salesforce_partner() {
    // HubSpot also sends a deletion event for each record a merge absorbs: under the
    // propagate policy that must not read as the record being deleted
    let rig = Rig::start_with_webhooks(&contacts("newest_wins", "propagate")).await;
    let (kept, kept_sf) =
        rig.linked_contact(json!({"email": "k@acme.com", "lastname": "Kept"})).await;
    let (absorbed, absorbed_sf) =
        rig.linked_contact(json!({"email": "a@acme.com", "lastname": "Absorbed"})).await;
    let merged = rig.hubspot.merge_as_user("contacts", kept, absorbed, 7).unwrap();
    rig.wait_for("the merge to be journalled", SETTLE, || async {
        let merges: i64 =
            sqlx::query_scalar("select count(*) from hubsync.journal where kind = 'merge'")
                .fetch_one(rig.pool())
                .await
                .unwrap();
        merges >= 2
    })
    .await;
    rig.quiesce(SETTLE).await;
    for sf in [&kept_sf, &absorbed_sf] {
        assert_eq!(rig.salesforce_record(sf)["IsDeleted"], false, "{sf} was deleted by a merge");
    }
    let links = rig.links("contacts").await;
    assert!(links.iter().any(|(h, _)| *h == merged.to_string()), "relinked: {links:?}");
    // both were linked: the second Salesforce record waits for an operator, as any merge of
    // two linked records does
    let reasons: Vec<(String, String)> = sqlx::query_as(
        "select status, reason from hubsync.journal where kind = 'merge' and source = 'webhook'
         order by reason",
    )
    .fetch_all(rig.pool())
    .await
    .unwrap();
    let held = ("conflict".to_string(), "merge_both_linked".to_string());
    assert!(reasons.contains(&held), "{reasons:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_graceful_stop_mid_sync_leaves_nothing_leased_and_a_restart_carries_on_at_once() {
    const CONTACTS: usize = 4_000;
    // batches of 500: a backlog of 1,000 then always holds a next batch to claim
    let batch = [("HUBSYNC__RECONCILER__BATCH", "500")];
    let mut rig =
        Rig::start_with(&contacts("newest_wins", "flag"), RateProfile::UNLIMITED, &batch).await;
    for i in 0..CONTACTS {
        let props = json!({"email": format!("s{i}@stop.test"), "firstname": "S",
                           "lastname": format!("{i}")});
        rig.hubspot.seed("contacts", props).unwrap();
    }
    // stopped with a backlog, the reconciler holds its next batch as well as its current one
    rig.wait_for("a backlog behind the first links", SETTLE, || async {
        rig.queued(Queue::Journal).await >= 1_000 && !rig.links("contacts").await.is_empty()
    })
    .await;
    let db = rig.stop().await;
    let url = &db.as_ref().expect("the rig owns its database").url;
    let pool = sqlx::PgPool::connect(url).await.unwrap();
    let leased: i64 = sqlx::query_scalar(
        "select (select count(*) from hubsync.journal where claimed_by is not null)
              + (select count(*) from hubsync.outbox where claimed_by is not null)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    pool.close().await;
    assert_eq!(leased, 0, "a stopped daemon hands back what it claimed but did not finish");

    // whatever the stop handed back is due at once, not when a 60 s lease runs out: all
    // linked in under 50 s (the most a loaded machine needs) can only mean no row waited
    rig.resume(db).await;
    let before_a_lease_runs_out = Duration::from_secs(50);
    rig.wait_for("every contact linked", before_a_lease_runs_out, || async {
        rig.links("contacts").await.len() == CONTACTS
    })
    .await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.salesforce.count("Contact", false), CONTACTS, "no duplicate on Salesforce");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_new_contact_seen_by_its_webhook_and_the_poller_at_once_is_created_in_salesforce_once() {
    let mut rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let db = rig.stop().await;
    let id = rig
        .hubspot
        .create_as_user("contacts", json!({"email": "race@acme.com", "lastname": "Race"}), 7)
        .unwrap();
    // the webhook's notice is journalled; the poller reads the same contact on resume, so
    // both rows are pending before the reconciler has decided either
    let creation = hubsync::journal::NewChange {
        side: hubsync::config::Side::Hubspot,
        connector: "hubspot".into(),
        object_type: "contacts".into(),
        record_id: id.to_string(),
        kind: hubsync::journal::ChangeKind::Upsert,
        properties: Default::default(),
        occurred_at: chrono::Utc::now(),
        source: hubsync::journal::Arrival::Webhook,
        dedup_key: "race-webhook".into(),
    };
    let pool = sqlx::PgPool::connect(&db.as_ref().expect("a test database").url).await.unwrap();
    hubsync::store::journal::append(&pool, &[creation]).await.unwrap();
    pool.close().await;
    rig.resume(db).await;
    rig.wait_for("the link", SETTLE, || async { rig.links("contacts").await.len() == 1 }).await;
    rig.quiesce(SETTLE).await;
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select source, status from hubsync.journal
         where side = 'hubspot' and record_id = $1 order by id",
    )
    .bind(id.to_string())
    .fetch_all(rig.pool())
    .await
    .unwrap();
    assert!(rows.len() >= 2, "both paths journalled the contact: {rows:?}");
    assert_eq!(rig.salesforce.count("Contact", false), 1, "exactly one Salesforce contact");
    let creates: i64 = sqlx::query_scalar(
        "select count(*) from hubsync.outbox where target_side = 'external' and operation = 'upsert'",
    )
    .fetch_one(rig.pool())
    .await
    .unwrap();
    assert_eq!(creates, 1, "one create queued; the other row settled without a write");
}
