//! `hubsync demo`: both simulators in-process, seeded with different data, the daemon
//! syncing them with `config/demo.toml`, live edits on both sides, a running report of what
//! synced, conflicted and failed, and at the end a check that both sides agree.

pub mod database;
pub mod edits;
pub mod populate;
pub mod report;
pub mod seed;
pub mod sims;
pub mod verify;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::{self, ConfigSources, Settings};
pub use verify::Verification;

/// How often the progress line is printed while the demo runs.
const PROGRESS_EVERY: Duration = Duration::from_secs(5);
/// New failures printed one by one per look; the rest are counted in one line.
const FAILURES_SHOWN: usize = 10;
/// How often new conflicts and failures are looked for and printed.
const NEWS_EVERY: Duration = Duration::from_secs(1);
/// Pause between live edits: a few per second.
const EDIT_EVERY: Duration = Duration::from_millis(300);
/// How long the demo waits for the queues to drain after it stops editing.
const DRAIN_AT_MOST: Duration = Duration::from_secs(30);
/// The drain gives up early when nothing has moved for this long.
const DRAIN_STALLED: Duration = Duration::from_secs(10);
const READY_AT_MOST: Duration = Duration::from_secs(60);

#[derive(Debug, thiserror::Error)]
pub enum DemoError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(
        "invalid demo database name `{0}`: the demo drops and recreates it, so it must be \
         `hubsync_demo` or start with `hubsync_demo_` (lowercase letters, digits, _)"
    )]
    DatabaseName(String),
    #[error("database.url (or DATABASE_URL) is not a valid URL: {0}")]
    DatabaseUrl(String),
    #[error("cannot prepare the demo database on the Postgres server")]
    DatabaseServer(#[source] sqlx::Error),
    #[error(transparent)]
    Db(#[from] crate::db::DbError),
    #[error("cannot read the sync's progress from the demo database")]
    Query(#[from] sqlx::Error),
    #[error("{0}")]
    Simulator(String),
    #[error("{0}")]
    Seed(String),
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    App(#[from] crate::app::AppError),
    #[error("the daemon stopped while the demo was running")]
    DaemonStopped,
    #[error("the daemon did not become ready within {0:?}")]
    NotReady(Duration),
    #[error("cannot read a simulator through its connector")]
    Connector(#[from] crate::connector::ConnectorError),
}

/// What `hubsync demo` was asked to do.
#[derive(Debug, Clone)]
pub struct DemoOptions {
    /// The sync rules, loaded through the normal config layers.
    pub config: PathBuf,
    pub env: HashMap<String, String>,
    pub duration: Duration,
    pub seed: u64,
    /// The admin server's address; `admin.listen` from the config when `None`.
    pub listen: Option<SocketAddr>,
    /// The database dropped and recreated on the configured server.
    pub database: String,
}

/// A running daemon and what the demo needs to watch it.
struct Daemon {
    settings: Settings,
    pool: PgPool,
    stop: CancellationToken,
    task: tokio::task::JoinHandle<Result<(), crate::app::AppError>>,
}

/// Runs the demo until `stop` fires or the duration passes, then verifies.
pub async fn run(options: DemoOptions, stop: CancellationToken) -> Result<Verification, DemoError> {
    let sources = ConfigSources { file: Some(options.config.clone()), env: options.env.clone() };
    let mut settings = config::load(&sources)?;
    let server = settings.database.url.clone();
    settings.database.url = database::recreate(&server, &options.database).await?;
    println!(
        "database: `{}` on {} — dropped and recreated, so every demo starts from a clean slate",
        options.database,
        database::server_of(&server)
    );
    let sims = sims::start().await?;
    println!("HubSpot simulator:    {} (professional rate limits)", sims.hubspot.base_url());
    println!("Salesforce simulator: {}", sims.salesforce.base_url());
    let plan = seed::plan(options.seed);
    let seeded = populate::apply(&plan, &sims)?;
    print_seed(&plan);
    let daemon = start_daemon(settings, &options, &sims).await?;
    let mut watcher = report::Watcher::default();
    let outcome = live(&daemon, &sims, &seeded, &options, &stop, &mut watcher).await;
    let verification = match outcome {
        Ok(reason) => finish(&daemon, reason, &mut watcher).await,
        Err(err) => Err(err),
    };
    daemon.stop.cancel();
    daemon.task.await.map_err(|_| DemoError::DaemonStopped)??;
    let verification = verification?;
    println!("{verification}");
    Ok(verification)
}

fn print_seed(plan: &seed::SeedPlan) {
    let line = |what: &str, t: seed::Tally| {
        println!(
            "seeded {what}: {} on HubSpot + {} on Salesforce = {} ({} present on both sides, not linked)",
            t.hubspot,
            t.salesforce,
            t.total(),
            t.shared
        )
    };
    line("contacts", plan.contacts_tally());
    line("companies", plan.companies_tally());
    line("deals", plan.deals_tally());
    let notes = plan.notes_tally();
    println!(
        "seeded engagements: {} HubSpot notes, {} Salesforce tasks, on contacts",
        notes.hubspot, notes.salesforce
    );
    println!(
        "expect: {} same-field disagreements on shared records ({} phone numbers held for an \
         operator), {} records the other side refuses",
        seed::TITLE_CONFLICTS + seed::PHONE_CONFLICTS + seed::EMPLOYEE_CONFLICTS,
        seed::PHONE_CONFLICTS,
        plan.expected_rejections()
    );
}

/// Binds the admin address, points the settings at the simulators and starts the daemon.
async fn start_daemon(
    mut settings: Settings,
    options: &DemoOptions,
    sims: &sims::Sims,
) -> Result<Daemon, DemoError> {
    let addr = options.listen.unwrap_or(settings.admin.listen);
    let listener =
        TcpListener::bind(addr).await.map_err(|source| DemoError::Bind { addr, source })?;
    let admin = listener.local_addr().map_err(|source| DemoError::Bind { addr, source })?;
    settings.admin.listen = admin;
    let webhook_url = format!("http://{admin}/webhooks/hubspot");
    let secret = uuid::Uuid::new_v4().simple().to_string();
    sims::point(&mut settings, sims, &webhook_url, &secret);
    sims::deliver_webhooks(sims, &webhook_url, &secret);
    let app = App::with_listener(settings.clone(), listener)?;
    let pool = crate::db::lazy_pool(&settings.database)?;
    let stop = CancellationToken::new();
    let task = tokio::spawn(app.run_until_stopped(stop.clone()));
    println!(
        "admin API: http://{admin}/healthz, /readyz and /metrics; /api/journal answers the \
         tokens of [[admin.tokens]]"
    );
    println!("HubSpot webhooks are delivered to {webhook_url}");
    Ok(Daemon { settings, pool, stop, task })
}

/// Waits until the daemon has migrated the demo database.
async fn wait_until_ready(daemon: &Daemon, stop: &CancellationToken) -> Result<(), DemoError> {
    let deadline = tokio::time::Instant::now() + READY_AT_MOST;
    loop {
        let ready = crate::store::server::migrated(&daemon.pool).await.unwrap_or(false);
        if ready || stop.is_cancelled() {
            return Ok(());
        }
        if daemon.task.is_finished() {
            return Err(DemoError::DaemonStopped);
        }
        if tokio::time::Instant::now() >= deadline {
            return Err(DemoError::NotReady(READY_AT_MOST));
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// Edits and reports until `stop` fires or the duration passes; returns why it stopped.
async fn live(
    daemon: &Daemon,
    sims: &sims::Sims,
    seeded: &populate::Seeded,
    options: &DemoOptions,
    stop: &CancellationToken,
    watcher: &mut report::Watcher,
) -> Result<&'static str, DemoError> {
    wait_until_ready(daemon, stop).await?;
    println!(
        "syncing for {:?} with live edits on both sides (Ctrl-C stops early)",
        options.duration
    );
    let mut editor = edits::Editor::new(options.seed, seeded);
    let deadline = tokio::time::sleep(options.duration);
    tokio::pin!(deadline);
    let mut edit = tokio::time::interval(EDIT_EVERY);
    let mut progress = tokio::time::interval(PROGRESS_EVERY);
    let mut news = tokio::time::interval(NEWS_EVERY);
    loop {
        tokio::select! {
            _ = stop.cancelled() => return Ok("Ctrl-C"),
            _ = &mut deadline => return Ok("--duration reached"),
            _ = edit.tick() => {
                if let Some(line) = editor.step(sims) {
                    println!("{line}");
                }
            }
            _ = news.tick() => print_news(&daemon.pool, watcher).await?,
            _ = progress.tick() => {
                if daemon.task.is_finished() {
                    return Err(DemoError::DaemonStopped);
                }
                let now = report::progress(&daemon.pool).await?;
                let t = editor.tally;
                println!(
                    "progress: {now} | edits: {} HubSpot, {} Salesforce, {} both sides",
                    t.hubspot, t.salesforce, t.both
                );
            }
        }
    }
}

async fn print_news(pool: &PgPool, watcher: &mut report::Watcher) -> Result<(), DemoError> {
    for line in watcher.new_conflicts(pool).await? {
        println!("{line}");
    }
    let failures = watcher.new_failures(pool).await?;
    for line in failures.iter().take(FAILURES_SHOWN) {
        println!("{line}");
    }
    if let Some(more) = failures.len().checked_sub(FAILURES_SHOWN).filter(|n| *n > 0) {
        println!("… and {more} more failures (see `hubsync journal ls --status failed`)");
    }
    for line in watcher.paused_blocks(pool).await? {
        println!("{line}");
    }
    Ok(())
}

/// Waits for the queues to drain (bounded), then verifies both sides.
async fn finish(
    daemon: &Daemon,
    reason: &str,
    watcher: &mut report::Watcher,
) -> Result<Verification, DemoError> {
    println!(
        "stopping ({reason}): edits stopped; waiting up to {DRAIN_AT_MOST:?} for the queues to drain"
    );
    tokio::time::sleep(settle_time(&daemon.settings)).await;
    let now = drain(&daemon.pool).await?;
    let drained = if now.is_quiet() { "drained" } else { "not drained; stopping anyway" };
    println!("queues {drained}: {now}");
    print_news(&daemon.pool, watcher).await?;
    println!("verifying both simulators through the connectors…");
    verify::run(&daemon.settings, &daemon.pool).await
}

/// How long the last edits may take to be seen: HubSpot's search lags by the connector's
/// safety margin, and each poller reads once per interval.
fn settle_time(settings: &Settings) -> Duration {
    let lag = settings.connectors.values().filter_map(|c| match c {
        config::ConnectorSettings::Hubspot(hs) => Some(hs.search_safety_lag),
        config::ConnectorSettings::Salesforce(_) => None,
    });
    lag.max().unwrap_or_default() + 2 * settings.ingest.poll_interval
}

/// Waits until the journal and the outbox are empty twice in a row, at most
/// [`DRAIN_AT_MOST`], or until nothing has moved for [`DRAIN_STALLED`].
async fn drain(pool: &PgPool) -> Result<report::Progress, DemoError> {
    let start = tokio::time::Instant::now();
    let (mut last, mut moved_at, mut quiet) = (None, start, 0);
    loop {
        let now = report::progress(pool).await?;
        quiet = if now.is_quiet() { quiet + 1 } else { 0 };
        if last != Some(now.movement()) {
            (last, moved_at) = (Some(now.movement()), tokio::time::Instant::now());
        }
        let waited_enough = start.elapsed() >= DRAIN_AT_MOST || moved_at.elapsed() >= DRAIN_STALLED;
        if quiet >= 2 || waited_enough {
            return Ok(now);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
}
