//! SIGTERM to the real binary in the middle of a sync (catalog T09): it exits 0 within its
//! grace period, leaves nothing leased, and a restart carries on with nothing lost.

use std::time::Duration;

use hubspot_sim::RateProfile;
use serde_json::json;
use sqlx::PgPool;
use testkit::sims::simulators;

use super::crash::{converge, kill, linked, spawn_with};
use super::{config_file, contacts};
use crate::support::database::TestDatabase;

const CONTACTS: usize = 3_000;

/// Journal rows and outbox items some process still holds a lease on.
async fn leased(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "select (select count(*) from hubsync.journal where claimed_by is not null)
              + (select count(*) from hubsync.outbox where claimed_by is not null)",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn sigterm_mid_sync_exits_zero_leaving_nothing_leased_and_a_restart_finishes_the_job() {
    crate::support::init_test_log();
    let (hubspot, salesforce) = simulators(RateProfile::UNLIMITED).await;
    for i in 0..CONTACTS {
        let props = json!({"email": format!("t{i}@term.test"), "lastname": format!("{i}")});
        hubspot.seed("contacts", props).unwrap();
    }
    let db = TestDatabase::create().await;
    let secrets = tempfile::tempdir().unwrap();
    let file = config_file(&hubspot, &salesforce, &secrets, &contacts("newest_wins", "flag"));
    let config = secrets.path().join("hubsync.toml");
    std::fs::write(&config, &file).unwrap();
    let pool = sqlx::postgres::PgPoolOptions::new().connect_lazy(&db.url).unwrap();

    let mut daemon = spawn_with(&config, &db.url, &[("HUBSYNC__SHUTDOWN__GRACE_PERIOD", "5s")]);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
    while linked(&pool).await == 0 {
        assert!(tokio::time::Instant::now() < deadline, "the sync never started");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    daemon.send_signal("TERM");
    let code = daemon.wait_for_exit(Duration::from_secs(15));
    assert_eq!(code, Some(0), "a stop asked for is a clean exit:\n{}", daemon.all_output());
    let midway = linked(&pool).await;
    assert!(midway < CONTACTS as i64, "the stop came mid-sync ({midway} linked)");
    assert_eq!(leased(&pool).await, 0, "nothing is left leased for a restart to wait out");

    let daemon = spawn_with(&config, &db.url, &[]);
    converge(&pool, CONTACTS as i64, Duration::from_secs(90)).await;
    kill(daemon);
    assert_eq!(salesforce.count("Contact", false), CONTACTS, "every contact, once");
}
