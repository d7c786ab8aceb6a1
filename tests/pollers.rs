//! Pollers against both simulators: a page and its cursor commit together, a crash between
//! read and commit loses nothing and records nothing twice, deletes and merges arrive as
//! their own kinds, and with two replicas exactly one polls.

use std::sync::Arc;
use std::time::Duration;

use chrono::Timelike;
use hubsync::config::Side;
use hubsync::connector::Connector;
use hubsync::db::lock::PollerLock;
use hubsync::ingest::poller::{PollOutcome, Poller};
use hubsync::journal::{ChangeKind, Doorbell, JournalRow};
use hubsync::rules::feeds::PollerSpec;
use hubsync::store;
use hubsync::store::journal::JournalFilter;
use salesforce_sim::SalesforceSim;
use serde_json::json;
use sqlx::PgPool;
use testkit::sims::{ConnectorsToml, RateLimit};

use crate::support::database::TestDatabase;

async fn migrated() -> (TestDatabase, PgPool) {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    (db, pool)
}

fn poller(
    pool: &PgPool,
    api: Arc<dyn Connector>,
    side: Side,
    object: &str,
    fields: &[&str],
) -> Poller {
    let spec = PollerSpec {
        connector: if side == Side::Hubspot { "hubspot" } else { "salesforce" }.into(),
        side,
        object: object.into(),
        fields: fields.iter().map(|f| f.to_string()).collect(),
        interval: Duration::from_millis(50),
    };
    Poller::new(spec, api, pool.clone(), Doorbell::new(pool.clone()))
}

/// A Salesforce simulator seeded with `n` contacts, and a poller of its contacts.
async fn salesforce_contacts(pool: &PgPool, n: usize) -> (SalesforceSim, Poller) {
    let sim = crate::connector_salesforce::sim().await;
    for i in 0..n {
        sim.seed("Contact", json!({"LastName": format!("Name {i}")})).unwrap();
    }
    let api: Arc<dyn Connector> = Arc::new(crate::connector_salesforce::connector(&sim));
    (sim, poller(pool, api, Side::External, "Contact", &["LastName"]))
}

async fn rows(pool: &PgPool) -> Vec<JournalRow> {
    let mut rows = store::journal::query(pool, &JournalFilter::default(), 10_000).await.unwrap();
    rows.reverse();
    rows
}

async fn drain(poller: &Poller) -> u64 {
    let mut total = 0;
    loop {
        let PollOutcome { appended, more, .. } = poller.run_once().await.unwrap();
        total += appended;
        if !more {
            return total;
        }
    }
}

#[tokio::test]
async fn a_salesforce_page_and_its_cursor_commit_together_and_the_next_poll_sees_only_new_changes()
{
    let (_db, pool) = migrated().await;
    let (sim, poller) = salesforce_contacts(&pool, 30).await;
    assert_eq!(drain(&poller).await, 30);
    assert_eq!(drain(&poller).await, 0, "nothing new, nothing twice");

    let first = rows(&pool).await[0].record_id.clone();
    sim.clock().advance(chrono::Duration::seconds(2));
    sim.edit_as_user(&first, json!({"LastName": "Renamed"})).unwrap();
    sim.clock().advance(chrono::Duration::seconds(120));
    assert_eq!(drain(&poller).await, 1);
    let last = rows(&pool).await.pop().unwrap();
    assert_eq!(last.record_id, first);
    assert_eq!(last.properties["LastName"].value.as_deref(), Some("Renamed"));
    assert!(last.source == "poll" && last.side == Side::External);
}

#[tokio::test]
async fn a_salesforce_record_edited_twice_in_one_second_and_polled_between_journals_both_edits() {
    let (_db, pool) = migrated().await;
    let (sim, poller) = salesforce_contacts(&pool, 1).await;
    assert_eq!(drain(&poller).await, 1);
    let id = rows(&pool).await[0].record_id.clone();
    // Salesforce stamps whole seconds: both edits below carry the same SystemModstamp
    let second = sim.clock().now() + chrono::Duration::seconds(5);
    sim.clock().set(second.with_nanosecond(0).unwrap() + chrono::Duration::milliseconds(100));
    sim.clock().freeze();
    sim.edit_as_user(&id, json!({"LastName": "First edit"})).unwrap();
    assert_eq!(drain(&poller).await, 1, "the first edit is read");
    sim.clock().advance(chrono::Duration::milliseconds(500));
    sim.edit_as_user(&id, json!({"LastName": "Second edit"})).unwrap();
    sim.clock().advance(chrono::Duration::seconds(10));
    assert_eq!(drain(&poller).await, 1, "the second edit, stamped the same second, is not lost");
    assert_eq!(drain(&poller).await, 0, "nor journalled twice");
    let names: Vec<_> =
        rows(&pool).await.iter().map(|r| r.properties["LastName"].value.clone()).collect();
    let expected = ["Name 0", "First edit", "Second edit"].map(|n| Some(n.to_string()));
    assert_eq!(names, expected);
}

#[tokio::test]
async fn a_crash_between_reading_a_page_and_committing_it_loses_nothing_and_records_nothing_twice()
{
    let (_db, pool) = migrated().await;
    let sim = crate::connector_hubspot::sim(hubspot_sim::RateProfile::UNLIMITED).await;
    for i in 0..12 {
        sim.seed("contacts", json!({"email": format!("c{i}@x.com")})).unwrap();
    }
    sim.clock().advance(chrono::Duration::seconds(60));
    let api: Arc<dyn Connector> =
        Arc::new(crate::connector_hubspot::connector(&sim, crate::connector_hubspot::generous()));
    let poller = poller(&pool, api, Side::Hubspot, "contacts", &["email"]);

    let page = poller.read_page().await.unwrap();
    assert_eq!(page.changes.len(), 12);
    drop(page); // the process dies before the commit
    assert!(rows(&pool).await.is_empty());

    assert_eq!(drain(&poller).await, 12, "after the restart the same changes are read again");
    let page = poller.read_page().await.unwrap();
    poller.commit_page(&page).await.unwrap();
    assert_eq!(rows(&pool).await.len(), 12, "a page committed twice is recorded once");
}

#[tokio::test]
async fn a_failed_salesforce_commit_loses_nothing_the_next_poll_reads_it_again() {
    let (_db, pool) = migrated().await;
    let (_sim, poller) = salesforce_contacts(&pool, 7).await;

    let page = poller.read_page().await.unwrap();
    assert_eq!(page.changes.len(), 7);
    drop(page); // the commit failed: the database went away
    assert!(rows(&pool).await.is_empty());

    assert_eq!(drain(&poller).await, 7, "the same changes are read again in the same process");
    assert_eq!(drain(&poller).await, 0, "and journalled once");
}

#[tokio::test]
async fn one_poll_journals_several_search_pages_in_one_commit_up_to_its_bound() {
    use hubsync::ingest::poller::COMMIT_TARGET;
    let (_db, pool) = migrated().await;
    let sim = crate::connector_hubspot::sim(hubspot_sim::RateProfile::UNLIMITED).await;
    let seeded = COMMIT_TARGET + 300;
    for i in 0..seeded {
        sim.seed("contacts", json!({"email": format!("c{i}@x.com")})).unwrap();
        if i % 150 == 0 {
            // spread the records over several timestamps, as a real import's are
            sim.clock().advance(chrono::Duration::milliseconds(3));
        }
    }
    sim.clock().advance(chrono::Duration::seconds(60));
    let api: Arc<dyn Connector> =
        Arc::new(crate::connector_hubspot::connector(&sim, crate::connector_hubspot::generous()));
    let poller = poller(&pool, api, Side::Hubspot, "contacts", &["email"]);

    let first = poller.run_once().await.unwrap();
    // a search page holds 200 records: one poll took at least five pages in one commit,
    // and stopped at the bound with the rest still to come
    assert!(first.appended as usize >= COMMIT_TARGET, "one poll journalled {}", first.appended);
    assert!((first.appended as usize) < seeded && first.more, "{first:?}");
    let second = poller.run_once().await.unwrap();
    assert_eq!(first.appended + second.appended, seeded as u64);
    assert!(!second.more);
    assert_eq!(rows(&pool).await.len(), seeded);
}

/// Three polled Salesforce contacts, then `gone` deleted and `merged` merged into `keep`.
struct MergeAndDelete {
    _sim: SalesforceSim,
    poller: Poller,
    keep: String,
    merged: String,
    gone: String,
}

async fn merge_and_delete(pool: &PgPool) -> MergeAndDelete {
    let sim = crate::connector_salesforce::sim().await;
    let keep = sim.seed("Contact", json!({"LastName": "Keep"})).unwrap();
    let merged = sim.seed("Contact", json!({"LastName": "Merged"})).unwrap();
    let gone = sim.seed("Contact", json!({"LastName": "Gone"})).unwrap();
    let api: Arc<dyn Connector> = Arc::new(crate::connector_salesforce::connector(&sim));
    let poller = poller(pool, api, Side::External, "Contact", &["LastName"]);
    drain(&poller).await;
    sim.clock().advance(chrono::Duration::seconds(2));
    sim.delete_as_user(&gone).unwrap();
    sim.merge(&keep, &[merged.as_str()]).unwrap();
    sim.clock().advance(chrono::Duration::seconds(120));
    MergeAndDelete { _sim: sim, poller, keep, merged, gone }
}

/// The kind of the newest journal row of each of `ids`.
async fn latest_kinds(pool: &PgPool, ids: &[&str]) -> Vec<Option<ChangeKind>> {
    let rows = rows(pool).await;
    let kind_of = |id: &str| rows.iter().rev().find(|r| r.record_id == id).map(|r| r.kind.clone());
    ids.iter().map(|id| kind_of(id)).collect()
}

#[tokio::test]
async fn deletes_and_merges_on_salesforce_reach_the_journal_as_their_own_kinds() {
    let (_db, pool) = migrated().await;
    let MergeAndDelete { poller, keep, merged, gone, .. } = merge_and_delete(&pool).await;
    drain(&poller).await;
    let kinds = latest_kinds(&pool, &[&gone, &merged]).await;
    assert_eq!(kinds, [Some(ChangeKind::Delete), Some(ChangeKind::Merge { into: keep })]);
    let before = rows(&pool).await.len();
    let caught = poller.poll_deletes().await.unwrap();
    let after: Vec<_> = rows(&pool).await.into_iter().skip(before).collect();
    assert_eq!(caught, 0, "getDeleted finds nothing the change feed missed: {after:?}");
}

#[tokio::test]
async fn a_salesforce_merge_and_delete_seen_first_by_get_deleted_are_journalled_as_such_once() {
    let (_db, pool) = migrated().await;
    let MergeAndDelete { poller, keep, merged, gone, .. } = merge_and_delete(&pool).await;
    // the delete check runs before the change feed has read past the merge
    assert_eq!(poller.poll_deletes().await.unwrap(), 2);
    let kinds = latest_kinds(&pool, &[&gone, &merged]).await;
    let merge = Some(ChangeKind::Merge { into: keep.clone() });
    assert_eq!(kinds, [Some(ChangeKind::Delete), merge], "a merge's loser is never a delete");
    let before = rows(&pool).await.len();
    drain(&poller).await;
    let after = rows(&pool).await;
    let new: Vec<_> = after.iter().skip(before).map(|r| (&r.record_id, &r.kind)).collect();
    assert_eq!(new, [(&keep, &ChangeKind::Upsert)], "the feed adds only the survivor's update");
}

#[tokio::test]
async fn an_archived_hubspot_record_is_caught_by_the_delete_poll() {
    let (_db, pool) = migrated().await;
    let sim = crate::connector_hubspot::sim(hubspot_sim::RateProfile::UNLIMITED).await;
    let id = sim.seed("contacts", json!({"email": "gone@x.com"})).unwrap();
    let api: Arc<dyn Connector> =
        Arc::new(crate::connector_hubspot::connector(&sim, crate::connector_hubspot::generous()));
    let poller = poller(&pool, api, Side::Hubspot, "contacts", &["email"]);
    sim.archive_as_user("contacts", id, 7).unwrap();
    assert_eq!(poller.poll_deletes().await.unwrap(), 1);
    assert_eq!(poller.poll_deletes().await.unwrap(), 0, "a delete is journalled once");
    let rows = rows(&pool).await;
    assert_eq!(
        (rows[0].record_id.clone(), rows[0].kind.clone()),
        (id.to_string(), ChangeKind::Delete)
    );
}

#[tokio::test]
async fn with_two_replicas_one_holds_the_poller_lock_and_the_other_takes_over_when_it_dies() {
    let (_db, pool) = migrated().await;
    let mut first = PollerLock::new(pool.clone(), "hubspot", "contacts");
    let mut second = PollerLock::new(pool.clone(), "hubspot", "contacts");
    assert!(first.hold().await);
    assert!(!second.hold().await, "only one replica polls");
    assert!(first.hold().await, "the holder keeps it");

    let pid = first.backend_pid().await.unwrap();
    sqlx::query("select pg_terminate_backend($1)").bind(pid).execute(&pool).await.unwrap();
    let mut taken = false;
    for _ in 0..50 {
        if second.hold().await {
            taken = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(taken, "the other replica takes over once the holder's connection dies");
    assert!(!first.hold().await, "the old holder does not get it back while it is held");
}

/// A HubSpot simulator with `n` contacts `{prefix}{i}@x.com`, searched `delay` slowly.
async fn slow_portal(n: usize, prefix: &str, delay: Duration) -> hubspot_sim::HubspotSim {
    use sim_kit::faults::{Fault, FaultRule, Trigger};
    let sim = crate::connector_hubspot::sim(hubspot_sim::RateProfile::UNLIMITED).await;
    for i in 0..n {
        sim.seed("contacts", json!({"email": format!("{prefix}{i}@x.com")})).unwrap();
    }
    sim.clock().advance(chrono::Duration::seconds(60));
    let search = "/crm/v3/objects/contacts/search";
    sim.inject(FaultRule::new(search, Fault::Delay(delay), Trigger::Fraction(1.0)));
    sim
}

fn portal_poller(pool: &PgPool, sim: &hubspot_sim::HubspotSim) -> Poller {
    let api: Arc<dyn Connector> =
        Arc::new(crate::connector_hubspot::connector(sim, crate::connector_hubspot::generous()));
    poller(pool, api, Side::Hubspot, "contacts", &["email"])
}

/// Journal rows of the first replica's portal committed after `at`.
async fn committed_after(pool: &PgPool, at: chrono::DateTime<chrono::Utc>) -> i64 {
    sqlx::query_scalar(
        "select count(*) from hubsync.journal
         where received_at > $1 and properties -> 'email' ->> 'value' like 'first%'",
    )
    .bind(at)
    .fetch_one(pool)
    .await
    .unwrap()
}

async fn eventually(what: &str, check: impl AsyncFn() -> bool) {
    for _ in 0..200 {
        if check().await {
            return;
        }
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    panic!("{what} did not happen within 5 s");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn of_two_running_pollers_only_the_lock_holder_reads_and_after_a_takeover_it_commits_nothing()
{
    let (_db, pool) = migrated().await;
    // each replica sees its own copy of the portal, so the simulators count their reads apart
    let first_sim = slow_portal(3000, "first", Duration::from_millis(60)).await;
    let second_sim = slow_portal(20, "second", Duration::ZERO).await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let first = tokio::spawn(portal_poller(&pool, &first_sim).run(shutdown.clone()));
    eventually("the first page", async || !rows(&pool).await.is_empty()).await;
    let second = tokio::spawn(portal_poller(&pool, &second_sim).run(shutdown.clone()));
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(second_sim.stats().total_requests(), 0, "only the lock holder reads");

    // the holder's connection is killed while it is still draining its feed
    let pid: i32 = sqlx::query_scalar(
        "select pid from pg_locks where locktype = 'advisory' and granted
           and database = (select oid from pg_database where datname = current_database())",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    sqlx::query("select pg_terminate_backend($1)").bind(pid).execute(&pool).await.unwrap();
    let killed_at: chrono::DateTime<chrono::Utc> =
        sqlx::query_scalar("select clock_timestamp()").fetch_one(&pool).await.unwrap();
    eventually("the takeover", async || second_sim.stats().total_requests() > 0).await;
    // a read in flight at the kill may finish; after it the old holder reads nothing more
    tokio::time::sleep(Duration::from_millis(800)).await;
    let first_reads = first_sim.stats().total_requests();
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(first_sim.stats().total_requests(), first_reads, "the old holder stopped reading");
    assert_eq!(committed_after(&pool, killed_at).await, 0, "the old holder committed nothing");
    assert!(rows(&pool).await.len() < 3000, "the old holder did not finish its feed");
    shutdown.cancel();
    for task in [first, second] {
        tokio::time::timeout(Duration::from_secs(5), task).await.unwrap().unwrap();
    }
}

#[test]
fn the_example_config_runs_one_poller_per_connector_and_object_with_every_field_it_reads() {
    let sources = hubsync::config::ConfigSources {
        file: Some("config/example.toml".into()),
        env: [("HUBSPOT_TOKEN", "x"), ("SF_CLIENT_SECRET", "y")]
            .into_iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect(),
    };
    let settings = hubsync::config::load(&sources).unwrap();
    let specs = hubsync::rules::feeds::specs(&settings);
    let names: Vec<String> =
        specs.iter().map(|s| format!("{}/{}", s.connector, s.object)).collect();
    assert_eq!(
        names,
        [
            "hubspot/companies",
            "hubspot/contacts",
            "hubspot/deals",
            "salesforce/Account",
            "salesforce/Contact",
            "salesforce/Opportunity"
        ]
    );
    let contacts = &specs[1];
    for field in ["email", "firstname", "lifecyclestage", "salesforce_contact_id"] {
        assert!(contacts.fields.contains(&field.to_string()), "{field} in {:?}", contacts.fields);
    }
}

#[tokio::test]
async fn the_daemon_polls_both_sides_of_a_sync_rule_into_the_journal() {
    let hubspot = crate::connector_hubspot::sim(hubspot_sim::RateProfile::UNLIMITED).await;
    let salesforce = crate::connector_salesforce::sim().await;
    // modified two minutes ago, beyond the connector's search safety lag behind real time
    hubspot.clock().advance(chrono::Duration::seconds(-120));
    hubspot.seed("contacts", json!({"email": "ann@x.com", "firstname": "Ann"})).unwrap();
    hubspot.clock().advance(chrono::Duration::seconds(120));
    salesforce.seed("Contact", json!({"LastName": "Lee", "Email": "lee@x.com"})).unwrap();
    let connectors = ConnectorsToml::new(&hubspot, &salesforce)
        .hubspot_rate(RateLimit::generous())
        .secrets_from_env("HS_TOKEN", "SF_SECRET");
    let config = format!(
        r#"
[ingest]
poll_interval = "100ms"
{connectors}
[[sync]]
name = "contacts"
hubspot_object = "contacts"
external_connector = "salesforce"
external_object = "Contact"
keys = {{ external_id_field = "HubSpot_Id__c" }}
fields = [{{ hubspot = "email", external = "Email" }}, {{ hubspot = "firstname", external = "FirstName" }}]
"#,
        connectors = connectors.render()
    );
    let env = [
        ("HS_TOKEN", connectors.hubspot.token()),
        ("SF_SECRET", connectors.salesforce.client_secret()),
    ];
    let app = crate::support::app::spawn_app_with(&config, &env).await;
    let mut sides = Vec::new();
    for _ in 0..200 {
        let rows = rows(&app.pool).await;
        sides = rows.iter().map(|r| (r.side, r.object_type.clone())).collect::<Vec<_>>();
        if sides.len() >= 2 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(sides.contains(&(Side::Hubspot, "contacts".to_string())), "{sides:?}");
    assert!(sides.contains(&(Side::External, "Contact".to_string())), "{sides:?}");
    app.stop().await.unwrap();
}

mod drift_sweep {
    use hubsync::ingest::sweep::{Sweep, SweepOutcome};

    use super::*;

    fn spec() -> PollerSpec {
        PollerSpec {
            connector: "hubspot".into(),
            side: Side::Hubspot,
            object: "contacts".into(),
            fields: vec!["email".into()],
            interval: Duration::from_secs(1),
        }
    }

    #[tokio::test]
    async fn the_sweep_journals_records_the_feed_missed_and_linked_records_that_are_gone() {
        let (_db, pool) = migrated().await;
        let sim = crate::connector_hubspot::sim(hubspot_sim::RateProfile::UNLIMITED).await;
        let ids: Vec<u64> = (0..30)
            .map(|i| sim.seed("contacts", json!({"email": format!("c{i}@x.com")})).unwrap())
            .collect();
        let api: Arc<dyn Connector> = Arc::new(crate::connector_hubspot::connector(
            &sim,
            crate::connector_hubspot::generous(),
        ));
        let sweep = Sweep::new(spec(), api, pool.clone(), vec!["contacts".into()]);

        let first = sweep.run_once().await.unwrap();
        assert_eq!(first, SweepOutcome { live: 30, missed: 30, vanished: 0 });
        assert!(rows(&pool).await.iter().all(|r| r.source == "sweep"));
        assert_eq!(
            sweep.run_once().await.unwrap().missed,
            0,
            "what is known is not journalled again"
        );

        let gone = ids[3].to_string();
        hubsync::store::links::link(&pool, "contacts", &gone, "003GONE").await.unwrap();
        sim.archive_as_user("contacts", ids[3], 7).unwrap();
        let after = sweep.run_once().await.unwrap();
        assert_eq!(after, SweepOutcome { live: 29, missed: 0, vanished: 1 });
        let last = rows(&pool).await.pop().unwrap();
        assert_eq!((last.record_id, last.kind), (gone, ChangeKind::Delete));
    }

    /// A sweep over 30 seeded contacts, each linked, and the ids.
    async fn linked_sweep() -> (TestDatabase, PgPool, hubspot_sim::HubspotSim, Sweep, Vec<u64>) {
        let (db, pool) = migrated().await;
        let sim = crate::connector_hubspot::sim(hubspot_sim::RateProfile::UNLIMITED).await;
        let ids: Vec<u64> = (0..30)
            .map(|i| sim.seed("contacts", json!({"email": format!("c{i}@x.com")})).unwrap())
            .collect();
        for (i, id) in ids.iter().enumerate() {
            let partner = format!("003LINK{i:03}");
            hubsync::store::links::link(&pool, "contacts", &id.to_string(), &partner)
                .await
                .unwrap();
        }
        let api: Arc<dyn Connector> = Arc::new(crate::connector_hubspot::connector(
            &sim,
            crate::connector_hubspot::generous(),
        ));
        let sweep = Sweep::new(spec(), api, pool.clone(), vec!["contacts".into()]);
        (db, pool, sim, sweep, ids)
    }

    fn deletes(rows: &[JournalRow]) -> usize {
        rows.iter().filter(|r| r.kind == ChangeKind::Delete).count()
    }

    #[tokio::test]
    async fn a_sweep_that_reads_an_empty_207_deletes_nothing() {
        use sim_kit::faults::{Fault, FaultRule, Trigger};
        let (_db, pool, sim, sweep, _ids) = linked_sweep().await;
        // the listing misses every record, and the read by id answers nothing either way
        let no_list = Fault::Respond { status: 200, body: json!({"results": []}), headers: vec![] };
        sim.inject(FaultRule::new("/crm/v3/objects/contacts", no_list, Trigger::Next(1)));
        let empty = Fault::Respond {
            status: 207,
            body: json!({"status": "COMPLETE", "results": [], "numErrors": 0, "errors": []}),
            headers: vec![],
        };
        sim.inject(FaultRule::new("/crm/v3/objects/contacts/batch/read", empty, Trigger::Next(1)));
        let outcome = sweep.run_once().await.unwrap();
        assert_eq!(outcome.vanished, 0, "{outcome:?}");
        assert_eq!(deletes(&rows(&pool).await), 0, "no record is taken for gone");
        let paused = hubsync::store::paused::current(&pool, "contacts").await.unwrap();
        assert_eq!(paused, None, "nothing was proved gone, so nothing trips the guard");
    }

    #[tokio::test]
    async fn a_sweep_that_finds_most_records_gone_pauses_the_block_instead_of_deleting() {
        let (_db, pool, sim, sweep, ids) = linked_sweep().await;
        for id in &ids[..20] {
            sim.archive_as_user("contacts", *id, 7).unwrap();
        }
        let outcome = sweep.run_once().await.unwrap();
        assert_eq!(outcome.vanished, 0, "{outcome:?}");
        assert_eq!(deletes(&rows(&pool).await), 0, "nothing is deleted on the other side");
        let (reason, by, _) =
            hubsync::store::paused::current(&pool, "contacts").await.unwrap().expect("paused");
        assert_eq!((reason.as_str(), by.as_str()), ("sweep_gone_share", "hubsync"));
    }
}

#[tokio::test]
async fn a_salesforce_record_undeleted_from_the_recycle_bin_is_journalled_as_a_restore() {
    let (_db, pool) = migrated().await;
    let sim = crate::connector_salesforce::sim().await;
    let id = sim.seed("Contact", json!({"LastName": "Back"})).unwrap();
    let api: Arc<dyn Connector> = Arc::new(crate::connector_salesforce::connector(&sim));
    let poller = poller(&pool, api, Side::External, "Contact", &["LastName"]);
    drain(&poller).await;
    sim.clock().advance(chrono::Duration::seconds(2));
    sim.delete_as_user(&id).unwrap();
    sim.clock().advance(chrono::Duration::seconds(120));
    drain(&poller).await;
    sim.clock().advance(chrono::Duration::seconds(2));
    sim.undelete(&id).unwrap();
    sim.clock().advance(chrono::Duration::seconds(120));
    drain(&poller).await;
    let kinds: Vec<ChangeKind> =
        rows(&pool).await.into_iter().filter(|r| r.record_id == id).map(|r| r.kind).collect();
    assert_eq!(kinds, [ChangeKind::Upsert, ChangeKind::Delete, ChangeKind::Restore]);
}

#[tokio::test]
async fn a_hubspot_update_still_invisible_to_search_is_caught_by_a_later_poll() {
    let (_db, pool) = migrated().await;
    let config = hubspot_sim::SimConfig {
        rate: hubspot_sim::RateProfile::UNLIMITED,
        search_lag: Duration::from_secs(3),
        ..Default::default()
    };
    let sim = hubspot_sim::HubspotSim::start(config).await.unwrap();
    sim.clock().freeze();
    let id = sim.seed("contacts", json!({"email": "lag@x.com", "firstname": "Old"})).unwrap();
    sim.clock().advance(chrono::Duration::seconds(60));
    let api: Arc<dyn Connector> =
        Arc::new(crate::connector_hubspot::connector(&sim, crate::connector_hubspot::generous()));
    let poller = poller(&pool, api, Side::Hubspot, "contacts", &["firstname"]);
    drain(&poller).await;
    sim.edit_as_user("contacts", id, json!({"firstname": "New"}), 7).unwrap();
    drain(&poller).await; // the index has not caught up: nothing yet, and the cursor stays behind
    sim.clock().advance(chrono::Duration::seconds(60));
    drain(&poller).await;
    let last = rows(&pool).await.pop().unwrap();
    assert_eq!(
        last.properties["firstname"].value.as_deref(),
        Some("New"),
        "the lagged update is caught"
    );
}

#[tokio::test]
async fn a_record_holding_a_nul_is_quarantined_with_its_reason_and_the_poller_moves_past_it() {
    let (_db, pool) = migrated().await;
    let sim = crate::connector_salesforce::sim().await;
    sim.seed("Contact", json!({"LastName": "Before"})).unwrap();
    let poison = sim.seed("Contact", json!({"LastName": "Bad\u{0}Name"})).unwrap();
    sim.seed("Contact", json!({"LastName": "After"})).unwrap();
    let api: Arc<dyn Connector> = Arc::new(crate::connector_salesforce::connector(&sim));
    let poller = poller(&pool, api, Side::External, "Contact", &["LastName"]);

    let first = tokio::time::timeout(Duration::from_secs(30), drain(&poller)).await;
    assert_eq!(first.expect("the poller does not stall on the poison record"), 2);
    assert_eq!(drain(&poller).await, 0, "the cursor moved past it");
    let names: Vec<_> =
        rows(&pool).await.iter().map(|r| r.properties["LastName"].value.clone()).collect();
    assert_eq!(names, [Some("Before".to_string()), Some("After".to_string())]);
    let kept: Vec<(String, String, Vec<u8>)> =
        sqlx::query_as("select source, reason, body from hubsync.webhook_quarantine")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(kept.len(), 1, "the poison record is quarantined");
    let (source, reason, body) = &kept[0];
    assert_eq!(source, "poll:salesforce:Contact");
    assert!(reason.contains("NUL"), "{reason}");
    let body: serde_json::Value = serde_json::from_slice(body).unwrap();
    assert_eq!(body["record_id"], json!(poison.to_string()), "{body}");
    assert_eq!(body["properties"]["LastName"]["value"], "Bad\u{0}Name", "kept losslessly: {body}");
}
