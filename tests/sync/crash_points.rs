//! `kill -9` of the real binary at the exact moments the reliability catalog names (T03,
//! T04), held there by the test build's fail points: what was applied is neither lost nor
//! applied twice.

use std::time::Duration;

use hubspot_sim::{HubspotSim, RateProfile};
use salesforce_sim::SalesforceSim;
use serde_json::json;
use sqlx::PgPool;
use testkit::sims::simulators;

use super::crash::{converge, kill, linked, spawn_with};
use super::{config_file, contacts};
use crate::support::database::TestDatabase;

const CONTACTS: usize = 30;
const REACHED: Duration = Duration::from_secs(60);
const CONVERGED: Duration = Duration::from_secs(60);

/// `CONTACTS` HubSpot contacts for the daemon to create in Salesforce.
fn seed(hubspot: &HubspotSim) {
    for i in 0..CONTACTS {
        let props = json!({"email": format!("p{i}@points.test"), "firstname": "P",
                           "lastname": format!("{i}")});
        hubspot.seed("contacts", props).unwrap();
    }
}

/// The simulators with [`CONTACTS`] HubSpot contacts, a fresh database, and the daemon's
/// config file.
struct Seeded {
    salesforce: SalesforceSim,
    db: TestDatabase,
    config: std::path::PathBuf,
    _hubspot: HubspotSim,
    _secrets: tempfile::TempDir,
}

async fn seeded() -> Seeded {
    crate::support::init_test_log();
    let (hubspot, salesforce) = simulators(RateProfile::UNLIMITED).await;
    seed(&hubspot);
    let db = TestDatabase::create().await;
    let secrets = tempfile::tempdir().unwrap();
    let file = config_file(&hubspot, &salesforce, &secrets, &contacts("newest_wins", "flag"));
    let config = secrets.path().join("hubsync.toml");
    std::fs::write(&config, &file).unwrap();
    Seeded { salesforce, db, config, _hubspot: hubspot, _secrets: secrets }
}

async fn pool(url: &str) -> PgPool {
    sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(url).await.unwrap()
}

/// The outbox's creates in Salesforce: `(status, attempts, held)` of each, `held` when a
/// writer's claim is on it.
async fn creates(pool: &PgPool) -> Vec<(String, i32, bool)> {
    sqlx::query_as(
        "select status, attempts, claimed_by is not null from hubsync.outbox
         where target_side = 'external' and operation = 'upsert' order by id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_killed_after_salesforce_applied_a_batch_but_before_settling_it_creates_nothing_twice()
 {
    let Seeded { salesforce, db, config, _hubspot, _secrets } = seeded().await;
    let point = [("HUBSYNC_FAILPOINTS", "writer::after_api_ok_before_commit=pause")];

    let mut daemon = spawn_with(&config, &db.url, &point);
    daemon.wait_for_line("fail point writer::after_api_ok_before_commit reached", REACHED);
    assert_eq!(salesforce.count("Contact", false), CONTACTS, "Salesforce applied the batch");
    kill(daemon);
    let pool = pool(&db.url).await;
    let held = creates(&pool).await;
    assert_eq!(held.len(), CONTACTS);
    assert!(
        held.iter().all(|(status, attempts, held)| status != "done" && *attempts == 1 && *held),
        "the killed writer still holds every create, sent once: {held:?}"
    );
    assert_eq!(linked(&pool).await, 0, "the killed run settled nothing");

    let daemon = spawn_with(&config, &db.url, &[]);
    converge(&pool, CONTACTS as i64, CONVERGED).await;
    kill(daemon);
    assert_eq!(salesforce.count("Contact", false), CONTACTS, "no duplicate in Salesforce");
    let settled = creates(&pool).await;
    assert!(
        settled.iter().all(|(status, attempts, _)| status == "done" && *attempts == 2),
        "each create was retried once after its lease expired, as an upsert: {settled:?}"
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_killed_between_reading_a_page_and_committing_it_reads_the_page_again() {
    let Seeded { salesforce, db, config, _hubspot, _secrets } = seeded().await;
    let point = [("HUBSYNC_FAILPOINTS", "poller::after_fetch_before_commit=pause")];

    let mut daemon = spawn_with(&config, &db.url, &point);
    daemon.wait_for_line("fail point poller::after_fetch_before_commit reached", REACHED);
    kill(daemon);
    let pool = pool(&db.url).await;
    let (rows, cursors): (i64, i64) = sqlx::query_as(
        "select (select count(*) from hubsync.journal),
                (select count(*) from hubsync.cursors
                 where connector = 'hubspot' and position_ts > 'epoch')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((rows, cursors), (0, 0), "neither the page nor its cursor was committed");

    let daemon = spawn_with(&config, &db.url, &[]);
    converge(&pool, CONTACTS as i64, CONVERGED).await;
    kill(daemon);
    assert_eq!(salesforce.count("Contact", false), CONTACTS, "every contact arrived, once");
    let journalled: i64 = sqlx::query_scalar(
        "select count(distinct record_id) from hubsync.journal where side = 'hubspot'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(journalled, CONTACTS as i64, "the page read again was journalled whole");
}
