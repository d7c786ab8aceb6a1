//! hubsync's own writes coming back late: HubSpot's webhook for a write can arrive after
//! later writes to the same field have landed, and must still be recognised as ours.

use std::time::Duration;

use salesforce_sim::fault;
use serde_json::json;
use sim_kit::faults::Trigger;

use super::{Queue, Rig, contacts};

const SETTLE: Duration = Duration::from_secs(30);
/// Longer than the three writes below take, so every notice arrives after the last one.
const NOTICE_DELAY: Duration = Duration::from_secs(12);

#[tokio::test(flavor = "multi_thread")]
async fn late_webhook_notices_of_three_quick_writes_are_echoes_not_conflicts() {
    let rig = Rig::start_with_webhooks(&contacts("newest_wins", "flag")).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "e@acme.com", "firstname": "Start", "lastname": "Lee"}))
        .await;
    let writes_before = rig.write_count().await;

    rig.delay_webhooks(NOTICE_DELAY);
    for name in ["Ann", "Bea", "Cid"] {
        // Salesforce keeps whole seconds: each edit is unmistakably after the last
        tokio::time::sleep(Duration::from_millis(1100)).await;
        rig.salesforce.edit_as_user(&sf, json!({"FirstName": name})).unwrap();
        rig.wait_for(&format!("{name} on HubSpot"), SETTLE, || async {
            rig.hubspot_contact(&id.to_string())["firstname"] == name
        })
        .await;
    }
    let notices = || async {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from hubsync.journal
             where side = 'hubspot' and record_id = $1 and source = 'webhook'
               and properties ? 'firstname' and properties -> 'firstname' ->> 'value' <> 'Start'",
        )
        .bind(id.to_string())
        .fetch_one(rig.pool())
        .await
        .unwrap();
        n
    };
    rig.wait_for("the three late notices", NOTICE_DELAY + SETTLE, || async {
        notices().await == 3
    })
    .await;
    rig.quiesce(SETTLE).await;

    let conflicts: Vec<(String, String)> = sqlx::query_as(
        "select coalesce(hubspot_value, ''), coalesce(external_value, '') from hubsync.conflicts",
    )
    .fetch_all(rig.pool())
    .await
    .unwrap();
    assert_eq!(conflicts, [], "our own writes are not conflicts");
    assert_eq!(rig.write_count().await - writes_before, 3, "one write per edit, nothing more");
    assert_eq!(rig.hubspot_contact(&id.to_string())["firstname"], "Cid");
    assert_eq!(rig.salesforce_record(&sf)["FirstName"], "Cid");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_polled_echo_is_journalled_settled_and_never_claimed_while_a_real_edit_still_syncs() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "p@acme.com", "firstname": "Start", "lastname": "Poe"}))
        .await;

    // Salesforce is read again only once the write has settled: a poll between the write
    // landing and its settling sees it in flight, and leaves the echo to the reconciler
    rig.salesforce.inject(
        "/services/data/*/queryAll*",
        fault::unavailable(),
        Trigger::Fraction(1.0),
    );
    rig.hubspot.edit_as_user("contacts", id, json!({"firstname": "Ours"}), 7).unwrap();
    rig.wait_for("the edit on Salesforce, settled", SETTLE, || async {
        rig.queued(Queue::Outbox).await == 0 && rig.salesforce_record(&sf)["FirstName"] == "Ours"
    })
    .await;
    assert!(rig.salesforce.faults().fired() > 0, "Salesforce polls were held off meanwhile");
    rig.salesforce.faults().clear();
    let echo = || async {
        let row: Option<(String, String, i32)> = sqlx::query_as(
            "select status, coalesce(reason, ''), attempts from hubsync.journal
             where side = 'external' and record_id = $1
               and properties -> 'FirstName' ->> 'value' = 'Ours'",
        )
        .bind(&sf)
        .fetch_optional(rig.pool())
        .await
        .unwrap();
        row
    };
    rig.wait_for("the Salesforce poll reading our write back", SETTLE, || async {
        echo().await.is_some()
    })
    .await;
    let attempts: i64 = sqlx::query_scalar(
        "select count(*) from hubsync.journal_attempts a join hubsync.journal j on j.id = a.journal_id
         where j.side = 'external' and j.record_id = $1
           and j.properties -> 'FirstName' ->> 'value' = 'Ours'",
    )
    .bind(&sf)
    .fetch_one(rig.pool())
    .await
    .unwrap();
    assert_eq!(echo().await, Some(("echo".into(), "echo".into(), 0)), "settled as it arrived");
    assert_eq!(attempts, 0, "the reconciler never claimed it");

    let writes_before = rig.write_count().await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    rig.salesforce.edit_as_user(&sf, json!({"FirstName": "Theirs"})).unwrap();
    rig.wait_for("the real edit on HubSpot", SETTLE, || async {
        rig.hubspot_contact(&id.to_string())["firstname"] == "Theirs"
    })
    .await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.write_count().await - writes_before, 1, "the edit, and no echo of it");
    // twenty more of the test daemon's 200 ms poll cycles: nothing bounces back and forth
    tokio::time::sleep(Duration::from_secs(4)).await;
    assert_eq!(rig.write_count().await - writes_before, 1, "steady: no write in 20 cycles");
    let decisions = rig.app().get("/metrics").await.text().await.unwrap();
    assert!(
        decisions.lines().any(|l| l.starts_with("hubsync_reconciler_decisions_total{")
            && l.contains("decision=\"echo\"")),
        "echoes are counted:\n{decisions}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn hubspots_webhook_notice_of_our_own_write_is_journalled_settled() {
    let rig = Rig::start_with_webhooks(&contacts("newest_wins", "flag")).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "w@acme.com", "firstname": "Start", "lastname": "Wu"}))
        .await;
    let writes_before = rig.write_count().await;
    // the notice comes once the write has settled, as most notices of a busy portal do
    rig.delay_webhooks(Duration::from_secs(5));

    tokio::time::sleep(Duration::from_millis(1100)).await;
    rig.salesforce.edit_as_user(&sf, json!({"FirstName": "Sal"})).unwrap();
    rig.wait_for("the edit on HubSpot", SETTLE, || async {
        rig.hubspot_contact(&id.to_string())["firstname"] == "Sal"
    })
    .await;
    let notice = || async {
        let row: Option<(String, String, i32)> = sqlx::query_as(
            "select status, coalesce(reason, ''), attempts from hubsync.journal
             where side = 'hubspot' and record_id = $1 and source = 'webhook'
               and properties -> 'firstname' ->> 'value' = 'Sal'",
        )
        .bind(id.to_string())
        .fetch_optional(rig.pool())
        .await
        .unwrap();
        row
    };
    rig.wait_for("HubSpot's notice of our write", SETTLE, || async { notice().await.is_some() })
        .await;
    rig.quiesce(SETTLE).await;
    assert_eq!(notice().await, Some(("echo".into(), "echo".into(), 0)), "settled as it arrived");
    assert_eq!(rig.write_count().await - writes_before, 1, "the edit, and no echo of it");
}

/// Outbox writes done so far towards `side`.
async fn writes_to(rig: &Rig, side: &str) -> i64 {
    sqlx::query_scalar(
        "select count(*) from hubsync.outbox where status = 'done' and target_side = $1",
    )
    .bind(side)
    .fetch_one(rig.pool())
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn three_quick_edits_notified_out_of_order_end_at_the_last_and_nothing_flips_back() {
    let rig = Rig::start_with_webhooks(&contacts("newest_wins", "flag")).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "f@acme.com", "firstname": "Start", "lastname": "Lee"}))
        .await;
    let (external_before, hubspot_before) =
        (writes_to(&rig, "external").await, writes_to(&rig, "hubspot").await);

    let mut shuffled =
        rig.hubspot.state().webhooks.current().expect("webhooks are on").as_ref().clone();
    shuffled.chaos.out_of_order_fraction = 1.0;
    shuffled.chaos.delay = Duration::from_secs(2);
    rig.hubspot.set_webhooks(Some(shuffled));
    for name in ["A", "B", "C"] {
        rig.hubspot.edit_as_user("contacts", id, json!({"firstname": name}), 7).unwrap();
    }
    rig.wait_for("C in Salesforce", SETTLE, || async {
        rig.salesforce_record(&sf)["FirstName"] == "C"
    })
    .await;
    rig.wait_for("the three notices", SETTLE, || async {
        let n: i64 = sqlx::query_scalar(
            "select count(*) from hubsync.journal where source = 'webhook' and record_id = $1
               and properties -> 'firstname' ->> 'value' in ('A', 'B', 'C')",
        )
        .bind(id.to_string())
        .fetch_one(rig.pool())
        .await
        .unwrap();
        n == 3
    })
    .await;
    rig.quiesce(SETTLE).await;

    assert_eq!(rig.salesforce_record(&sf)["FirstName"], "C");
    assert_eq!(rig.hubspot_contact(&id.to_string())["firstname"], "C");
    let external = writes_to(&rig, "external").await - external_before;
    assert!(external <= 2, "at most two writes to Salesforce (coalescing allowed): {external}");
    assert_eq!(writes_to(&rig, "hubspot").await, hubspot_before, "nothing written back to HubSpot");
}
