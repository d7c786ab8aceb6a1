//! End-to-end sync through the real daemon between the simulators, on a fresh database:
//!
//! 1. the HubSpot → Salesforce rate with unthrottled simulators and the HubSpot connector on
//!    the `unlimited` tier, so hubsync itself is measured (a two-way block);
//! 2. the Salesforce → HubSpot rate under HubSpot's professional profile (190 requests per
//!    10 s, 100 records per batch: 1,900 records/s of capacity), a one-way migration;
//! 3. change-to-sync latency with webhooks at light load (an edit every 200 ms).
//!
//! Run: `cargo bench --bench sync_e2e` (DATABASE_URL names the server; default local).

use std::time::{Duration, Instant};

use hubspot_sim::{HubspotSim, RateProfile};
use salesforce_sim::SalesforceSim;
use serde_json::json;
use testkit::database::{TestDatabase, bench_server};
use testkit::sims::{self, ConnectorsToml, RateLimit, SecretSource};
use tokio_util::sync::CancellationToken;

const UNTHROTTLED_RECORDS: usize = 20_000;
const PROFESSIONAL_RECORDS: usize = 40_000;
const LATENCY_EDITS: usize = 150;
const WEBHOOK_SECRET: &str = "bench-webhook-secret";

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let server = bench_server();
    // `cargo bench --bench sync_e2e -- latency` runs one figure
    let only: Vec<String> = std::env::args().skip(1).filter(|a| !a.starts_with('-')).collect();
    let wanted = |name: &str| only.is_empty() || only.iter().any(|o| o == name);
    let mut lines = Vec::new();
    if wanted("unthrottled") {
        let rate = unthrottled(&server).await;
        lines.push(format!(
            "sync unthrottled hubspot→salesforce: {rate:.0} records/s (target ≥ 5000)"
        ));
    }
    if wanted("professional") {
        let (rate, capacity) = professional(&server).await;
        lines.push(format!(
            "sync professional salesforce→hubspot: {rate:.0} records/s = {:.1}% of the \
             {capacity:.0} records/s the limit allows (target ≥ 95%)",
            100.0 * rate / capacity
        ));
    }
    if wanted("latency") {
        let (p50, p99) = latency(&server).await;
        lines.push(format!(
            "sync latency p50: {:.0} ms (target < 1000)",
            p50.as_secs_f64() * 1000.0
        ));
        lines.push(format!(
            "sync latency p99: {:.0} ms (target < 3000)",
            p99.as_secs_f64() * 1000.0
        ));
    }
    for line in lines {
        println!("{line}");
    }
}

/// The two simulators, the daemon between them and its database.
struct Setup {
    hubspot: HubspotSim,
    salesforce: SalesforceSim,
    pool: sqlx::PgPool,
    shutdown: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), hubsync::app::AppError>>,
    db: TestDatabase,
    admin: std::net::SocketAddr,
}

/// Both simulators, keyed for the contacts block alone.
async fn simulators(rate: RateProfile) -> (HubspotSim, SalesforceSim) {
    let hubspot = sims::hubspot(rate, &["contacts"]).await;
    (hubspot, sims::salesforce(&["Contact"], 100_000_000).await)
}

impl Setup {
    async fn start(
        server: &str,
        sims: (HubspotSim, SalesforceSim),
        block: &str,
        tier: &'static str,
        webhooks: bool,
    ) -> Setup {
        let (hubspot, salesforce) = sims;
        let db = TestDatabase::on_server(server, "bench_sync").await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let admin = listener.local_addr().unwrap();
        let settings =
            settings(&db.url, &hubspot, &salesforce, block, tier, webhooks.then_some(admin));
        if webhooks {
            let events = ["contact.creation", "contact.propertyChange"];
            sims::subscribe(&hubspot, admin, WEBHOOK_SECRET, &events);
        }
        let app = hubsync::app::App::with_listener(settings, listener).unwrap();
        let pool = app.pool().clone();
        let shutdown = CancellationToken::new();
        let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
        Setup { hubspot, salesforce, pool, shutdown, task, db, admin }
    }

    async fn links(&self) -> i64 {
        sqlx::query_scalar("select count(*) from hubsync.links")
            .fetch_one(&self.pool)
            .await
            .unwrap_or(0)
    }

    async fn highest_link(&self) -> i64 {
        sqlx::query_scalar("select coalesce(max(id), 0) from hubsync.links")
            .fetch_one(&self.pool)
            .await
            .unwrap_or(0)
    }

    /// Waits until `n` pairs are linked; returns when that happened.
    async fn until_linked(&self, n: usize, within: Duration) -> Instant {
        let deadline = Instant::now() + within;
        loop {
            // the highest link id bounds the count from above at the cost of one index
            // probe; counting every link on each look would load the database under test
            if self.highest_link().await >= n as i64 && self.links().await >= n as i64 {
                return Instant::now();
            }
            assert!(
                Instant::now() < deadline,
                "only {} of {n} linked in {within:?}",
                self.links().await
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    async fn stop(self) {
        self.shutdown.cancel();
        self.task.await.unwrap().expect("the daemon stops cleanly");
        self.pool.close().await;
        drop(self.db);
        let _ = (self.hubspot, self.salesforce, self.admin);
    }
}

const CONTACTS: &str = r#"
[[sync]]
name = "contacts"
hubspot_object = "contacts"
external_connector = "salesforce"
external_object = "Contact"
direction = "DIRECTION"
keys = { hubspot_unique_property = "salesforce_id", external_id_field = "HubSpot_Id__c" }
fields = [
  { hubspot = "email", external = "Email" },
  { hubspot = "firstname", external = "FirstName" },
  { hubspot = "lastname", external = "LastName" },
]
"#;

/// Figure 1: HubSpot records appear on Salesforce; records per second from start-up to
/// the last link.
async fn unthrottled(server: &str) -> f64 {
    let sims = simulators(RateProfile::UNLIMITED).await;
    for i in 0..UNTHROTTLED_RECORDS {
        let props = json!({"email": format!("u{i}@bench.test"), "firstname": "U", "lastname": format!("{i}")});
        sims.0.seed("contacts", props).unwrap();
    }
    let setup =
        Setup::start(server, sims, &CONTACTS.replace("DIRECTION", "both"), "unlimited", false)
            .await;
    let started = Instant::now();
    let done = setup.until_linked(UNTHROTTLED_RECORDS, Duration::from_secs(600)).await;
    setup.stop().await;
    UNTHROTTLED_RECORDS as f64 / (done - started).as_secs_f64()
}

/// Figure 2: a one-way migration of Salesforce contacts into a professional HubSpot
/// portal. Measured from the first record landing to the last, so start-up is not counted.
async fn professional(server: &str) -> (f64, f64) {
    let sims = simulators(RateProfile::PROFESSIONAL).await;
    for i in 0..PROFESSIONAL_RECORDS {
        let fields = json!({"Email": format!("p{i}@bench.test"), "FirstName": "P", "LastName": format!("{i}")});
        sims.1.seed("Contact", fields).unwrap();
    }
    let block = CONTACTS.replace("DIRECTION", "to_hubspot");
    let setup = Setup::start(server, sims, &block, "professional", false).await;
    let first = setup.until_linked(1, Duration::from_secs(120)).await;
    let done = setup.until_linked(PROFESSIONAL_RECORDS, Duration::from_secs(900)).await;
    setup.stop().await;
    let rate = (PROFESSIONAL_RECORDS - 1) as f64 / (done - first).as_secs_f64();
    (rate, 190.0 / 10.0 * 100.0)
}

/// Figure 3: an edit on HubSpot every 200 ms; the time until Salesforce holds it.
async fn latency(server: &str) -> (Duration, Duration) {
    let sims = simulators(RateProfile::PROFESSIONAL).await;
    let ids: Vec<u64> = (0..LATENCY_EDITS)
        .map(|i| {
            let props = json!({"email": format!("l{i}@bench.test"), "firstname": "L", "lastname": format!("{i}")});
            sims.0.seed("contacts", props).unwrap()
        })
        .collect();
    let setup =
        Setup::start(server, sims, &CONTACTS.replace("DIRECTION", "both"), "professional", true)
            .await;
    setup.until_linked(ids.len(), Duration::from_secs(120)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let mut waits = Vec::new();
    let mut pending: Vec<(Instant, String, String)> = Vec::new();
    let links: Vec<(String, String)> =
        sqlx::query_as("select hubspot_id, external_id from hubsync.links")
            .fetch_all(&setup.pool)
            .await
            .unwrap();
    let partner: std::collections::HashMap<String, String> = links.into_iter().collect();
    let mut next_edit = Instant::now();
    let mut made = 0;
    while made < LATENCY_EDITS || !pending.is_empty() {
        if made < LATENCY_EDITS && Instant::now() >= next_edit {
            let id = ids[made % ids.len()];
            let value = format!("v{made}");
            setup.hubspot.edit_as_user("contacts", id, json!({"firstname": value}), 7).unwrap();
            pending.push((Instant::now(), partner[&id.to_string()].clone(), value));
            made += 1;
            next_edit += Duration::from_millis(200);
        }
        pending.retain(|(at, sf, value)| {
            let record = setup.salesforce.record(sf).expect("linked record");
            if record["FirstName"] == value.as_str() {
                waits.push(at.elapsed());
                return false;
            }
            if at.elapsed() > Duration::from_secs(60) {
                // counted as a minute late rather than waited for forever
                waits.push(at.elapsed());
                return false;
            }
            true
        });
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    setup.stop().await;
    waits.sort();
    let pick = |q: f64| waits[((waits.len() as f64 * q) as usize).min(waits.len() - 1)];
    (pick(0.5), pick(0.99))
}

fn settings(
    database_url: &str,
    hubspot: &HubspotSim,
    salesforce: &SalesforceSim,
    block: &str,
    tier: &'static str,
    webhooks: Option<std::net::SocketAddr>,
) -> hubsync::config::Settings {
    let hook = webhooks.map_or(String::new(), |admin| {
        let target = format!("http://{admin}/webhooks/hubspot");
        sims::webhooks_toml(&target, &SecretSource::Env("HS_WEBHOOK_SECRET".into()))
    });
    let connectors = ConnectorsToml::new(hubspot, salesforce)
        .for_sync()
        .hubspot_rate(RateLimit::tier(tier))
        .salesforce_overlap("2s")
        .secrets_from_env("HS_TOKEN", "SF_SECRET");
    let file = format!("{}{hook}\n{block}", connectors.render());
    let path = std::env::temp_dir().join(format!("hubsync-bench-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, file).unwrap();
    let env = [
        ("DATABASE_URL", database_url.to_string()),
        ("HS_TOKEN", hubspot.token().to_string()),
        ("SF_SECRET", salesforce.config().client_secret.clone()),
        ("HS_WEBHOOK_SECRET", WEBHOOK_SECRET.to_string()),
        ("HUBSYNC__INGEST__POLL_INTERVAL", "250ms".to_string()),
        ("HUBSYNC__JOURNAL__POLL_INTERVAL", "100ms".to_string()),
        ("HUBSYNC__DATABASE__MAX_CONNECTIONS", "20".to_string()),
        // the latency figure edits every record it seeded: a mass edit the guard would pause
        ("HUBSYNC__WRITER__BLAST_RADIUS__ENABLED", "false".to_string()),
    ];
    // HUBSYNC__* from the bench's own environment win, to try other settings
    let env = env
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .chain(std::env::vars().filter(|(k, _)| k.starts_with("HUBSYNC__")))
        .filter(|(k, _)| !k.starts_with("HUBSYNC__LOG"))
        .collect();
    let sources = hubsync::config::ConfigSources { file: Some(path.clone()), env };
    let settings = hubsync::config::load(&sources).expect("bench settings are valid");
    std::fs::remove_file(path).ok();
    settings
}
