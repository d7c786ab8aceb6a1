//! A database outage in the middle of a sync (catalog T05): the process survives, says it is
//! not ready, refuses webhooks so HubSpot retries them, reconnects when the database is back,
//! and the outage only delays work: nothing is failed, dead-lettered or lost.

use std::time::Duration;

use serde_json::json;
use sqlx::PgPool;

use super::{Rig, contacts};

const PER_SIDE: usize = 150;
/// Leases a failed round leaves behind run out soon after the database is back.
const SETTINGS: [(&str, &str); 3] = [
    ("HUBSYNC__JOURNAL__LEASE", "5s"),
    ("HUBSYNC__WRITER__LEASE", "5s"),
    ("HUBSYNC__JOURNAL__MAX_ATTEMPTS", "3"),
];

async fn count(pool: &PgPool, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(pool).await.unwrap()
}

/// The value of `name` on `/metrics`, summed over its labels; 0 when absent.
async fn metric(rig: &Rig, name: &str) -> f64 {
    let text = rig.app().get("/metrics").await.text().await.unwrap();
    text.lines()
        .filter(|line| line.split(['{', ' ']).next() == Some(name))
        .filter_map(|line| line.rsplit(' ').next()?.parse::<f64>().ok())
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_database_outage_mid_sync_delays_work_but_fails_none_and_everything_converges() {
    let (rig, proxy) = Rig::start_behind_proxy(&contacts("newest_wins", "flag"), &SETTINGS).await;
    let direct =
        PgPool::connect(&rig.app().db.as_ref().expect("the test database").url).await.unwrap();
    let reconnects_before = metric(&rig, "hubsync_db_reconnects_total").await;
    // slow writes, so a round is in flight when the database goes
    let slow = sim_kit::faults::Fault::Delay(Duration::from_millis(300));
    let writes = sim_kit::faults::Trigger::Fraction(1.0);
    rig.salesforce.inject("/services/data/*/composite/sobjects*", slow, writes);
    for i in 0..PER_SIDE {
        let props = json!({"email": format!("h{i}@outage.test"), "lastname": format!("H{i}")});
        rig.hubspot.create_as_user("contacts", props, 7).unwrap();
        let fields = json!({"Email": format!("s{i}@outage.test"), "LastName": format!("S{i}")});
        rig.salesforce.create_as_user("Contact", fields).unwrap();
    }
    let linked = "select count(*) from hubsync.links";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count(&direct, linked).await < 20 {
        assert!(tokio::time::Instant::now() < deadline, "the sync never started");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    proxy.take_down();
    let body = rig.app().wait_for_readyz(503, Duration::from_secs(10)).await;
    assert_eq!(rig.app().get("/healthz").await.status(), 200, "the process survives: {body}");
    // users keep working while the database is away; HubSpot's webhooks are refused
    for i in PER_SIDE..PER_SIDE + 10 {
        let props = json!({"email": format!("h{i}@outage.test"), "lastname": format!("H{i}")});
        rig.hubspot.create_as_user("contacts", props, 7).unwrap();
    }
    tokio::time::sleep(Duration::from_secs(4)).await;
    let refused = rig.hubspot.deliveries().iter().filter(|d| d.status == Some(503)).count();
    assert!(refused > 0, "webhooks during the outage are answered 503 so HubSpot retries");
    rig.salesforce.faults().clear();
    proxy.bring_up();

    rig.app().wait_for_readyz(200, Duration::from_secs(30)).await;
    let expected = 2 * PER_SIDE as i64 + 10;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while count(&direct, linked).await < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not converged: {} of {expected} linked\n{}",
            count(&direct, linked).await,
            rig.in_flight().await
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    rig.quiesce(Duration::from_secs(60)).await;
    let failed = count(
        &direct,
        "select (select count(*) from hubsync.journal where status in ('failed', 'dead'))
              + (select count(*) from hubsync.outbox where status in ('failed', 'dead'))",
    )
    .await;
    assert_eq!(failed, 0, "an outage delays work, it never fails it");
    assert_eq!(rig.hubspot.count("contacts"), expected as usize, "no duplicate on HubSpot");
    assert_eq!(rig.salesforce.count("Contact", false), expected as usize, "no duplicate");
    let reconnects = metric(&rig, "hubsync_db_reconnects_total").await;
    assert!(reconnects > reconnects_before, "the reconnect is counted: {reconnects}");
}

#[tokio::test(flavor = "multi_thread")]
async fn terminating_the_daemons_database_sessions_mid_sync_fails_nothing() {
    let name = format!("hubsync-outage-{}", uuid::Uuid::new_v4().simple());
    let settings =
        [SETTINGS.as_slice(), &[("HUBSYNC__DATABASE__APPLICATION_NAME", name.as_str())]].concat();
    let rig = Rig::start_with(
        &contacts("newest_wins", "flag"),
        hubspot_sim::RateProfile::UNLIMITED,
        &settings,
    )
    .await;
    let direct =
        PgPool::connect(&rig.app().db.as_ref().expect("the test database").url).await.unwrap();
    for i in 0..PER_SIDE {
        let props = json!({"email": format!("h{i}@kill.test"), "lastname": format!("H{i}")});
        rig.hubspot.create_as_user("contacts", props, 7).unwrap();
        let fields = json!({"Email": format!("s{i}@kill.test"), "LastName": format!("S{i}")});
        rig.salesforce.create_as_user("Contact", fields).unwrap();
    }
    let linked = "select count(*) from hubsync.links";
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while count(&direct, linked).await < 10 {
        assert!(tokio::time::Instant::now() < deadline, "the sync never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    // an operator (or a failover) ends every session of the daemon, three times over
    let mut terminated = 0;
    for _ in 0..3 {
        let ended: Vec<bool> = sqlx::query_scalar(
            "select pg_terminate_backend(pid) from pg_stat_activity where application_name = $1",
        )
        .bind(&name)
        .fetch_all(&direct)
        .await
        .unwrap();
        terminated += ended.len();
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
    assert!(terminated > 0, "the daemon's sessions were found by their application_name");

    let expected = 2 * PER_SIDE as i64;
    let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
    while count(&direct, linked).await < expected {
        assert!(
            tokio::time::Instant::now() < deadline,
            "not converged: {} of {expected} linked",
            count(&direct, linked).await
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    rig.quiesce(Duration::from_secs(60)).await;
    let failed = count(
        &direct,
        "select (select count(*) from hubsync.journal where status in ('failed', 'dead'))
              + (select count(*) from hubsync.outbox where status in ('failed', 'dead'))",
    )
    .await;
    assert_eq!(failed, 0, "ended sessions delay work, they never fail it");
    assert_eq!(rig.hubspot.count("contacts"), expected as usize, "no duplicate on HubSpot");
    assert_eq!(rig.salesforce.count("Contact", false), expected as usize, "no duplicate");
}
