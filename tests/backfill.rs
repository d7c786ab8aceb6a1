//! Backfill: every record into the journal, resumable after a kill, and never twice beside
//! the pollers.

use std::sync::Arc;
use std::time::Duration;

use hubsync::config::Side;
use hubsync::connector::Connector;
use hubsync::ingest::backfill::{Backfill, Checkpoint};
use hubsync::ingest::poller::Poller;
use hubsync::journal::Doorbell;
use hubsync::rules::feeds::PollerSpec;
use hubsync::store;
use hubsync::store::journal::JournalFilter;
use serde_json::json;
use sqlx::PgPool;
use testkit::sims::{ConnectorsToml, HubspotToml, SalesforceToml};

use crate::support::binary::{hubsync, run, text};
use crate::support::database::TestDatabase;

fn spec() -> PollerSpec {
    PollerSpec {
        connector: "hubspot".into(),
        side: Side::Hubspot,
        object: "contacts".into(),
        fields: vec!["email".into()],
        interval: Duration::from_secs(1),
    }
}

async fn count(pool: &PgPool) -> usize {
    store::journal::query(pool, &JournalFilter::default(), 100_000).await.unwrap().len()
}

async fn setup(
    records: usize,
) -> (TestDatabase, PgPool, hubspot_sim::HubspotSim, Arc<dyn Connector>) {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let sim = crate::connector_hubspot::sim(hubspot_sim::RateProfile::UNLIMITED).await;
    sim.clock().advance(chrono::Duration::seconds(-120));
    for i in 0..records {
        sim.seed("contacts", json!({"email": format!("c{i}@x.com")})).unwrap();
    }
    sim.clock().advance(chrono::Duration::seconds(120));
    let api: Arc<dyn Connector> =
        Arc::new(crate::connector_hubspot::connector(&sim, crate::connector_hubspot::generous()));
    (db, pool, sim, api)
}

#[tokio::test]
async fn a_killed_backfill_resumes_from_its_checkpoint_and_records_nothing_twice() {
    let (_db, pool, _sim, api) = setup(250).await;
    let first = Backfill::new(spec(), api.clone(), pool.clone(), None);
    let page = first.next_page().await.unwrap();
    assert!(!page.done && page.appended > 0);
    assert!(matches!(first.checkpoint().await.unwrap(), Checkpoint::At(_)));
    drop(first); // killed mid-run

    let resumed = Backfill::new(spec(), api.clone(), pool.clone(), None);
    while !resumed.next_page().await.unwrap().done {}
    assert_eq!(count(&pool).await, 250, "every record once");
    assert_eq!(resumed.checkpoint().await.unwrap(), Checkpoint::Complete);
    assert_eq!(resumed.next_page().await.unwrap().read, 0, "a complete backfill reads nothing");
}

/// Polls `spec` dry, then backfills it: the backfill finds only changes already journalled.
async fn poll_then_backfill(spec: PollerSpec, api: Arc<dyn Connector>, pool: &PgPool, n: usize) {
    let poller = Poller::new(spec.clone(), api.clone(), pool.clone(), Doorbell::new(pool.clone()));
    while poller.run_once().await.unwrap().more {}
    assert_eq!(count(pool).await, n, "{}: the poller journals every record", spec.connector);
    let backfill = Backfill::new(spec.clone(), api, pool.clone(), None);
    while !backfill.next_page().await.unwrap().done {}
    assert_eq!(count(pool).await, n, "{}: the backfill journals nothing again", spec.connector);
}

#[tokio::test]
async fn a_backfill_beside_the_poller_journals_each_change_once() {
    let (_db, pool, _sim, api) = setup(120).await;
    poll_then_backfill(spec(), api, &pool, 120).await;
}

#[tokio::test]
async fn a_salesforce_backfill_beside_the_poller_journals_each_change_once() {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let salesforce = crate::connector_salesforce::sim().await;
    for i in 0..120 {
        salesforce.seed("Contact", json!({"LastName": format!("N{i}")})).unwrap();
    }
    salesforce.clock().advance(chrono::Duration::seconds(120));
    let api: Arc<dyn Connector> = Arc::new(crate::connector_salesforce::connector(&salesforce));
    poll_then_backfill(salesforce_spec(), api, &pool, 120).await;
}

/// A config whose `people` block reads the simulator's contacts.
fn cli_config(sim: &hubspot_sim::HubspotSim) -> tempfile::NamedTempFile {
    cli_config_with(sim, "http://127.0.0.1:1")
}

/// Like [`cli_config`], with Salesforce logging in at `login_url`.
fn cli_config_with(sim: &hubspot_sim::HubspotSim, login_url: &str) -> tempfile::NamedTempFile {
    let connectors = ConnectorsToml::with(
        HubspotToml::new(sim),
        SalesforceToml::default_credentials_at(login_url),
    )
    .secrets_from_env("HS_TOKEN", "SF");
    let config = format!(
        "{}[[sync]]\nname = \"people\"\nhubspot_object = \"contacts\"\nexternal_connector = \"salesforce\"\n\
         external_object = \"Contact\"\nkeys = {{ external_id_field = \"HubSpot_Id__c\" }}\n",
        connectors.render()
    );
    let file = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(file.path(), config).unwrap();
    file
}

/// `hubsync backfill --object <object> --side hubspot <extra…>` with `config`.
fn backfill_cmd(
    db: &TestDatabase,
    config: &tempfile::NamedTempFile,
    object: &str,
    extra: &[&str],
) -> std::process::Output {
    backfill_side(db, config, object, "hubspot", extra)
}

/// `hubsync backfill --object <object> --side <side> <extra…>` with `config`.
fn backfill_side(
    db: &TestDatabase,
    config: &tempfile::NamedTempFile,
    object: &str,
    side: &str,
    extra: &[&str],
) -> std::process::Output {
    run(hubsync()
        .args(["--config", config.path().to_str().unwrap(), "backfill", "--object", object])
        .args(["--side", side])
        .args(extra)
        .env("DATABASE_URL", &db.url)
        .env("HS_TOKEN", "sim-token")
        .env("SF", "sim-secret"))
}

// The binary runs blocking on a test thread while the simulator serves on another.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backfill_command_reads_an_object_and_names_an_unknown_one() {
    let (db, pool, sim, _api) = setup(40).await;
    let file = cli_config(&sim);
    let backfill = |object: &str| backfill_cmd(&db, &file, object, &[]);
    let output = backfill("people");
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(
        stdout.contains("backfill hubspot/contacts: 40 records read, 40 newly journalled"),
        "{stdout}"
    );
    assert_eq!(count(&pool).await, 40);
    let again = backfill("contacts");
    assert!(text(&again.stdout).contains("already complete"), "{}", text(&again.stdout));
    let unknown = backfill("tickets");
    assert_eq!(unknown.status.code(), Some(1));
    assert!(
        text(&unknown.stderr)
            .contains("no [[sync]] block names object `tickets`; configured: people")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_of_both_sides_journals_each_sides_records_and_the_external_side_alone_resumes() {
    let (db, pool, hubspot, _api) = setup(40).await;
    let salesforce = crate::connector_salesforce::sim().await;
    for i in 0..30 {
        salesforce.seed("Contact", json!({"LastName": format!("N{i}")})).unwrap();
    }
    let file = cli_config_with(&hubspot, salesforce.base_url());
    let output = backfill_side(&db, &file, "people", "both", &[]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("backfill hubspot/contacts: 40 records read, 40 newly"), "{stdout}");
    assert!(stdout.contains("backfill salesforce/Contact: 30 records read, 30 newly"), "{stdout}");
    let sides: Vec<(String, i64)> = sqlx::query_as(
        "select side::text, count(*) from hubsync.journal where source = 'backfill'
         group by side order by side",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(sides, [("external".to_string(), 30), ("hubspot".to_string(), 40)]);

    salesforce.seed("Contact", json!({"LastName": "Late"})).unwrap();
    let again = backfill_side(&db, &file, "people", "external", &["--restart"]);
    assert!(again.status.success(), "{}", text(&again.stderr));
    let stdout = text(&again.stdout);
    assert!(stdout.contains("salesforce/Contact: 31 records read, 1 newly"), "{stdout}");
    assert!(!stdout.contains("hubspot/contacts"), "--side external leaves HubSpot alone: {stdout}");
    assert_eq!(count(&pool).await, 71);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn backfill_since_a_plain_date_journals_only_records_modified_on_or_after_that_day() {
    let (db, pool, sim, _api) = setup(0).await;
    sim.clock().advance(chrono::Duration::days(-3));
    for i in 0..5 {
        sim.seed("contacts", json!({"email": format!("old{i}@x.com")})).unwrap();
    }
    sim.clock().advance(chrono::Duration::days(3));
    let mut recent: Vec<String> = (0..7)
        .map(|i| sim.seed("contacts", json!({"email": format!("new{i}@x.com")})).unwrap())
        .map(|id| id.to_string())
        .collect();
    recent.sort();
    let file = cli_config(&sim);
    let today = sim.clock().now().date_naive().format("%Y-%m-%d").to_string();
    let output = backfill_cmd(&db, &file, "contacts", &["--since", &today]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let rows = store::journal::query(&pool, &JournalFilter::default(), 100).await.unwrap();
    let mut journalled: Vec<String> = rows.into_iter().map(|r| r.record_id).collect();
    journalled.sort();
    assert_eq!(journalled, recent, "only the records modified since midnight UTC today");

    let bad = backfill_cmd(&db, &file, "contacts", &["--since", "2026-02-30"]);
    assert_eq!(bad.status.code(), Some(2));
    assert!(text(&bad.stderr).contains("`2026-02-30`"), "{}", text(&bad.stderr));
}

/// The `key=value` field of a log line, as a number.
fn field(line: &str, key: &str) -> Option<u64> {
    let start = line.find(&format!(" {key}="))? + key.len() + 2;
    line[start..].split(|c: char| !c.is_ascii_digit()).next()?.parse().ok()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_resumed_backfill_logs_progress_from_its_checkpoint_with_a_rate_and_an_eta() {
    let (db, pool, sim, api) = setup(250).await;
    let first = Backfill::new(spec(), api, pool.clone(), None);
    let before = first.next_page().await.unwrap().read as u64;
    assert!(before > 0 && before < 250);
    drop(first); // killed after its first page

    let file = cli_config(&sim);
    let output = backfill_cmd(&db, &file, "contacts", &["--progress-every", "0s"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stderr = text(&output.stderr);
    let lines: Vec<&str> = stderr.lines().filter(|l| l.contains("backfill progress")).collect();
    assert!(!lines.is_empty(), "no progress lines when stderr is not a terminal:\n{stderr}");
    for line in &lines {
        assert_eq!(field(line, "total"), Some(250), "{line}");
        assert!(field(line, "rate").is_some() && field(line, "eta_s").is_some(), "{line}");
    }
    let first_read = field(lines[0], "read").unwrap();
    assert!(first_read > before, "the position starts at the checkpoint's {before}: {}", lines[0]);
    let last = lines.last().unwrap();
    assert_eq!((field(last, "read"), field(last, "eta_s")), (Some(250), Some(0)), "{last}");
    let stdout = text(&output.stdout);
    assert!(stdout.contains(&format!("(after {before} read before it resumed)")), "{stdout}");
    assert_eq!(count(&pool).await, 250);
}

fn salesforce_spec() -> PollerSpec {
    PollerSpec {
        connector: "salesforce".into(),
        side: Side::External,
        object: "Contact".into(),
        fields: vec!["LastName".into()],
        interval: Duration::from_secs(1),
    }
}

#[tokio::test]
async fn a_salesforce_backfill_whose_query_locator_is_gone_resumes_and_journals_every_record_once()
{
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let salesforce = crate::connector_salesforce::sim().await;
    let total = 2300;
    for i in 0..total {
        salesforce.seed("Contact", json!({"LastName": format!("N{i}")})).unwrap();
    }
    let api: Arc<dyn Connector> = Arc::new(crate::connector_salesforce::connector(&salesforce));
    let first = Backfill::new(salesforce_spec(), api.clone(), pool.clone(), None);
    assert!(!first.next_page().await.unwrap().done);
    let Checkpoint::At(token) = first.checkpoint().await.unwrap() else { panic!("a checkpoint") };
    // the process reads the next (last) page and is killed before committing it: Salesforce
    // has served that query's last page, and would drop an idle locator after 15 minutes
    let fields = ["LastName".to_string()];
    api.read_all("Contact", Some(&token), &fields).await.unwrap();
    drop(first);

    let resumed = Backfill::new(salesforce_spec(), api, pool.clone(), None);
    while !resumed.next_page().await.unwrap().done {}
    let ids: Vec<String> =
        sqlx::query_scalar("select record_id from hubsync.journal").fetch_all(&pool).await.unwrap();
    let distinct: std::collections::HashSet<&String> = ids.iter().collect();
    assert_eq!((ids.len(), distinct.len()), (total, total), "every record exactly once");
    assert_eq!(resumed.checkpoint().await.unwrap(), Checkpoint::Complete);
    assert_eq!(resumed.records_read().await.unwrap(), total as u64);
}

#[tokio::test]
async fn both_connectors_count_live_records_so_the_progress_bar_has_an_eta() {
    let (_db, pool, _sim, api) = setup(40).await;
    let backfill = Backfill::new(spec(), api.clone(), pool.clone(), None);
    assert_eq!(backfill.expected_total().await, Some(40));
    let since = Some(chrono::Utc::now());
    assert_eq!(Backfill::new(spec(), api, pool, since).expected_total().await, None);

    let salesforce = crate::connector_salesforce::sim().await;
    let ids: Vec<String> = (0..30)
        .map(|i| salesforce.seed("Contact", json!({"LastName": format!("N{i}")})).unwrap())
        .collect();
    salesforce.delete_as_user(&ids[0]).unwrap();
    let connector = crate::connector_salesforce::connector(&salesforce);
    assert_eq!(connector.count("Contact").await.unwrap(), Some(29), "deleted rows do not count");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn on_a_terminal_the_backfill_shows_a_progress_bar_with_a_rate_and_an_eta_instead_of_log_lines()
 {
    let (db, pool, sim, _api) = setup(250).await;
    let file = cli_config(&sim);
    // `script` gives the command a pseudo-terminal and copies what it draws to stdout
    let command = format!(
        "{} --config {} backfill --object contacts --side hubspot",
        env!("CARGO_BIN_EXE_hubsync"),
        file.path().display()
    );
    let output = run(std::process::Command::new("script")
        .args(["-qec", &command, "/dev/null"])
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("TERM", "xterm")
        .env("DATABASE_URL", &db.url)
        .env("HS_TOKEN", "sim-token")
        .env("SF", "sim-secret"));
    let screen = text(&output.stdout);
    assert!(output.status.success(), "{screen}");
    assert!(screen.contains("hubspot/contacts: ["), "no bar drawn:\n{screen}");
    assert!(screen.contains("/250 records (") && screen.contains("ETA"), "{screen}");
    assert!(!screen.contains("backfill progress"), "log lines on a terminal:\n{screen}");
    assert!(screen.contains("250 records read, 250 newly journalled"), "{screen}");
    assert_eq!(count(&pool).await, 250);
}
