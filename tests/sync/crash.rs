//! `kill -9` of the real `hubsync` binary at random moments of a 10,000-record sync, then
//! restarts: both sides converge, with nothing lost and nothing duplicated.

use std::path::Path;
use std::time::Duration;

use hubspot_sim::{HubspotSim, RateProfile};
use rand::rngs::StdRng;
use rand::{Rng, SeedableRng};
use salesforce_sim::SalesforceSim;
use serde_json::json;
use sqlx::PgPool;
use testkit::settings::fast;
use testkit::sims::simulators;

use super::{compare, config_file, connector, contacts};
use crate::support::app::test_settings_with_file;
use crate::support::binary::{RunningBinary, hubsync};
use crate::support::database::TestDatabase;

const PER_SIDE: usize = 5_000;
const KILLS: usize = 3;
const EDITS_PER_SIDE: usize = 50;
/// A killed process's claims return to the queue when their lease ends; short leases keep
/// the test inside its time budget.
const LEASES: [(&str, &str); 2] =
    [("HUBSYNC__JOURNAL__LEASE", "5s"), ("HUBSYNC__WRITER__LEASE", "5s")];

/// The run's seed: `HUBSYNC_CRASH_SEED` to replay one, else the clock's.
fn crash_seed() -> u64 {
    match std::env::var("HUBSYNC_CRASH_SEED") {
        Ok(text) => text.parse().expect("HUBSYNC_CRASH_SEED is a number"),
        Err(_) => std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is after 1970")
            .as_nanos() as u64,
    }
}

/// Seeds `PER_SIDE` contacts on each side; returns their HubSpot and Salesforce ids.
fn seed(hubspot: &HubspotSim, salesforce: &SalesforceSim) -> Contacts {
    let mut seeded = Contacts { hubspot: Vec::new(), salesforce: Vec::new() };
    for i in 0..PER_SIDE {
        let props = json!({"email": format!("h{i}@crash.test"), "firstname": "H",
                           "lastname": format!("{i}"), "phone": format!("555-{i:04}")});
        seeded.hubspot.push(hubspot.seed("contacts", props).unwrap());
        let fields = json!({"Email": format!("s{i}@crash.test"), "FirstName": "S",
                            "LastName": format!("{i}")});
        seeded.salesforce.push(salesforce.seed("Contact", fields).unwrap());
    }
    seeded
}

fn spawn(config: &Path, database_url: &str) -> RunningBinary {
    spawn_with(config, database_url, &[])
}

/// [`spawn`] with extra environment variables, e.g. `HUBSYNC_FAILPOINTS`.
pub(super) fn spawn_with(
    config: &Path,
    database_url: &str,
    extra: &[(&str, &str)],
) -> RunningBinary {
    let mut command = hubsync();
    command
        .arg("--config")
        .arg(config)
        .arg("run")
        .env("DATABASE_URL", database_url)
        .env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0");
    for (key, value) in fast(&LEASES).into_iter().chain(extra.iter().copied()) {
        command.env(key, value);
    }
    RunningBinary::spawn(&mut command)
}

/// SIGKILL: no shutdown, no settling, no flushing.
pub(super) fn kill(mut daemon: RunningBinary) {
    daemon.child.kill().expect("SIGKILL is sent");
    daemon.child.wait().expect("the killed daemon is reaped");
}

/// Links so far; zero before the first run has created the schema.
pub(super) async fn linked(pool: &PgPool) -> i64 {
    sqlx::query_scalar("select count(*) from hubsync.links").fetch_one(pool).await.unwrap_or(0)
}

/// Journal rows and outbox items not yet settled, counting those a killed run still holds.
async fn busy(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "select (select count(*) from hubsync.journal where status in ('pending', 'processing'))
              + (select count(*) from hubsync.outbox where status in ('pending', 'processing'))",
    )
    .fetch_one(pool)
    .await
    .unwrap_or(i64::MAX)
}

/// Waits until every record is linked and nothing moves for a second; panics after `within`.
pub(super) async fn converge(pool: &PgPool, expected: i64, within: Duration) {
    let deadline = tokio::time::Instant::now() + within;
    let mut quiet = 0;
    while quiet < 4 {
        let (links, busy) = (linked(pool).await, busy(pool).await);
        quiet = if links == expected && busy == 0 { quiet + 1 } else { 0 };
        assert!(
            tokio::time::Instant::now() < deadline,
            "not converged after {within:?}: {links} of {expected} linked, {busy} in flight"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
}

/// Records by their HubSpot and Salesforce ids.
struct Contacts {
    hubspot: Vec<u64>,
    salesforce: Vec<String>,
}

/// Users edit `EDITS_PER_SIDE` of the seeded records on each side, synced or not yet.
fn edit(
    rng: &mut StdRng,
    hubspot: &HubspotSim,
    salesforce: &SalesforceSim,
    seeded: &Contacts,
) -> Contacts {
    let mut edited = Contacts { hubspot: Vec::new(), salesforce: Vec::new() };
    for i in rand::seq::index::sample(rng, PER_SIDE, EDITS_PER_SIDE) {
        let id = seeded.hubspot[i];
        hubspot.edit_as_user("contacts", id, json!({"firstname": "Edited"}), 7).unwrap();
        edited.hubspot.push(id);
    }
    for i in rand::seq::index::sample(rng, PER_SIDE, EDITS_PER_SIDE) {
        let id = &seeded.salesforce[i];
        salesforce.edit_as_user(id, json!({"FirstName": "Edited"})).unwrap();
        edited.salesforce.push(id.clone());
    }
    edited
}

/// The edited records still hold their edit, on their own side and (through the
/// comparison of both sides) on their partner's.
fn assert_edits_kept(edited: &Contacts, hubspot: &HubspotSim, salesforce: &SalesforceSim) {
    for id in &edited.hubspot {
        let contact = hubspot.record("contacts", *id).expect("the edited contact exists");
        assert_eq!(contact.properties["firstname"], "Edited", "HubSpot contact {id} kept its edit");
    }
    for id in &edited.salesforce {
        let record = salesforce.record(id).expect("the edited record exists");
        assert_eq!(record["FirstName"], "Edited", "Salesforce contact {id} kept its edit");
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_daemon_killed_three_times_mid_sync_converges_with_nothing_lost_or_duplicated() {
    crate::support::init_test_log();
    let seed_value = crash_seed();
    println!("crash test seed {seed_value} (replay with HUBSYNC_CRASH_SEED={seed_value})");
    let mut rng = StdRng::seed_from_u64(seed_value);
    let (hubspot, salesforce) = simulators(RateProfile::UNLIMITED).await;
    let seeded = seed(&hubspot, &salesforce);
    let db = TestDatabase::create().await;
    let secrets = tempfile::tempdir().unwrap();
    let rules = contacts("newest_wins", "flag");
    let file = config_file(&hubspot, &salesforce, &secrets, &rules);
    let config = secrets.path().join("hubsync.toml");
    std::fs::write(&config, &file).unwrap();
    let pool =
        sqlx::postgres::PgPoolOptions::new().max_connections(2).connect(&db.url).await.unwrap();

    let mut edited = None;
    for round in 1..=KILLS {
        let daemon = spawn(&config, &db.url);
        let after = Duration::from_millis(rng.random_range(500..6_000));
        tokio::time::sleep(after).await;
        kill(daemon);
        println!(
            "kill {round}: SIGKILL {after:?} after start, {} links so far",
            linked(&pool).await
        );
        if round == 2 {
            // users keep working while the daemon is down
            edited = Some(edit(&mut rng, &hubspot, &salesforce, &seeded));
        }
    }
    let edited = edited.expect("records were edited");
    let daemon = spawn(&config, &db.url);
    let expected = 2 * PER_SIDE;
    converge(&pool, expected as i64, Duration::from_secs(150)).await;
    kill(daemon);

    let settings = test_settings_with_file(&db.url, Some(&file), &[]);
    let hubspot_api = connector(&settings, "hubspot");
    let salesforce_api = connector(&settings, "salesforce");
    let contents = compare::contacts(&hubspot_api, &salesforce_api, &pool).await;
    contents.assert_converged(expected);
    assert_edits_kept(&edited, &hubspot, &salesforce);
    assert_eq!(hubspot.count("contacts"), expected, "no duplicate on HubSpot");
    assert_eq!(salesforce.count("Contact", false), expected, "no duplicate on Salesforce");
}
