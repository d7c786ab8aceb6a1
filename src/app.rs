//! The daemon: `App::build` binds the admin listener (and the webhook listener, when
//! `webhooks.listen` is set), `run_until_stopped` runs every task until the cancellation
//! token fires, then drains within the grace period and aborts whatever is still running,
//! so the process always stops in bounded time.

mod serve;

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::Duration;

use sqlx::PgPool;
use tokio::net::TcpListener;
use tokio::task::{JoinHandle, JoinSet};
use tokio::time::{Instant, timeout, timeout_at};
use tokio_util::sync::CancellationToken;

use crate::admin::{self, AdminState};
use crate::config::Settings;
use crate::db::{self, DbError};
use crate::error_kind::report;
use crate::ingest::settle_hook::{PreSettle, Settled};
use crate::journal::NewChange;
use crate::reconcile::presettle::{self, Presettle};

#[derive(Debug, thiserror::Error)]
pub enum AppError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Database(#[from] DbError),
    #[error("cannot set up a connector")]
    Connector(#[from] crate::connector::ConnectorError),
    #[error(transparent)]
    Schema(#[from] Box<crate::rules::schema::SchemaError>),
}

pub struct App {
    settings: Arc<Settings>,
    pool: PgPool,
    listener: TcpListener,
    /// Serves only the webhook receivers, when `webhooks.listen` is set.
    webhook_listener: Option<TcpListener>,
}

impl App {
    /// Binds the admin address from settings, and the webhook address when it is set (port 0
    /// picks a free port), and prepares the
    /// pool without connecting, so the process starts even while Postgres is still starting.
    pub async fn build(settings: Settings) -> Result<App, AppError> {
        let addr = settings.admin.listen;
        let listener =
            TcpListener::bind(addr).await.map_err(|source| AppError::Bind { addr, source })?;
        App::with_listener(settings, listener)
    }

    /// Like [`App::build`] on a listener the caller already bound, e.g. so a test knows the
    /// port before it writes the webhook URL into the settings.
    /// The webhook listener, when configured, is bound here.
    pub fn with_listener(settings: Settings, listener: TcpListener) -> Result<App, AppError> {
        let pool = db::lazy_pool(&settings.database)?;
        let webhook_listener = settings.webhooks.listen.map(bind_now).transpose()?;
        Ok(App { settings: Arc::new(settings), pool, listener, webhook_listener })
    }

    pub fn admin_addr(&self) -> SocketAddr {
        self.listener.local_addr().expect("a bound listener has an address")
    }

    /// The webhook listener's address, when the receivers have a listener of their own.
    pub fn webhook_addr(&self) -> Option<SocketAddr> {
        let listener = self.webhook_listener.as_ref()?;
        Some(listener.local_addr().expect("a bound listener has an address"))
    }

    pub fn pool(&self) -> &PgPool {
        &self.pool
    }

    /// Serves the admin API at once, waits for the database and migrates it, then runs
    /// until `shutdown` fires. Returns an error if the database never became reachable.
    pub async fn run_until_stopped(self, shutdown: CancellationToken) -> Result<(), AppError> {
        let admin_addr = self.admin_addr();
        let App { settings, pool, listener, webhook_listener } = self;
        let mut tasks = JoinSet::new();
        let ready = Arc::new(AtomicBool::new(false));
        let metrics = crate::metrics::install();
        let state = AdminState {
            pool: pool.clone(),
            metrics,
            started: ready.clone(),
            tokens: crate::admin::Tokens::from_settings(&settings.admin.tokens),
            open_probes: settings.admin.open_probes,
            max_body_bytes: settings.admin.max_body_bytes.get() as usize,
            connectors: Arc::default(),
            max_clock_skew: settings.admin.max_clock_skew,
        };
        let shown = state.connectors.clone();
        let doorbell = crate::journal::Doorbell::new(pool.clone()).stopping_on(&shutdown);
        let outbox_bell = crate::journal::Doorbell::on(pool.clone(), crate::store::outbox::CHANNEL)
            .stopping_on(&shutdown);
        let listeners = Listeners { admin: listener, webhooks: webhook_listener };
        let routes = http_routes(&settings, state, &pool, &doorbell, listeners.webhooks.is_some());
        let limits = settings.http.clone();
        let server = tokio::spawn(serve_http(listeners, routes, limits, shutdown.clone()));
        let failure: Failure = Arc::default();
        let mut started = start_database(&settings, &pool, &shutdown).await;
        if started.is_ok() && !shutdown.is_cancelled() {
            let bells = (&doorbell, &outbox_bell);
            let running = (&failure, &shown);
            started = spawn_workers(&mut tasks, &settings, &pool, bells, running, &shutdown);
        }
        if started.is_ok() && !shutdown.is_cancelled() {
            ready.store(true, Ordering::Release);
            tracing::info!(admin = %admin_addr, "hubsync is ready");
        }
        if let Err(err) = &started {
            tracing::error!(error = %report(err), "start-up failed");
            shutdown.cancel();
        }
        shutdown.cancelled().await;
        let running = Running { tasks, server, doorbells: vec![doorbell, outbox_bell] };
        let served = running.drain(settings.shutdown.grace_period).await;
        close_pool(&pool).await;
        started?;
        if let Some(err) = failure.lock().expect("failure slot").take() {
            return Err(Box::new(err).into());
        }
        served
    }
}

async fn start_database(
    settings: &Settings,
    pool: &PgPool,
    shutdown: &CancellationToken,
) -> Result<(), AppError> {
    let database = &settings.database;
    tracing::info!("waiting for the database");
    match db::wait_until_reachable(database, shutdown).await {
        Err(DbError::Cancelled) => return Ok(()),
        other => other?,
    }
    if database.migrate_on_start {
        let report = db::migrate(pool).await?;
        let applied = report.applied_now.len();
        tracing::info!(applied, latest = report.latest, "migrations applied");
    }
    Ok(())
}

/// The background work of a ready daemon, each task watching `shutdown`.
fn spawn_workers(
    tasks: &mut JoinSet<()>,
    settings: &Settings,
    pool: &PgPool,
    (doorbell, outbox_bell): (&crate::journal::Doorbell, &crate::journal::Doorbell),
    (failure, shown): (&Failure, &Arc<OnceLock<crate::ingest::plan::Connectors>>),
    shutdown: &CancellationToken,
) -> Result<(), AppError> {
    let connectors = crate::ingest::plan::connectors(settings)?;
    let _ = shown.set(connectors.clone());
    tasks.spawn(db::watch(pool.clone(), DATABASE_WATCH, shutdown.clone()));
    let presettle = Arc::new(Presettle::new(settings.sync.clone()));
    let ingest = crate::ingest::plan::tasks(settings, pool, doorbell, &connectors, presettle);
    for poller in ingest.pollers {
        tasks.spawn(poller.run(shutdown.clone()));
    }
    for sweep in ingest.sweeps {
        tasks.spawn(sweep.run(settings.ingest.sweep_interval, shutdown.clone()));
    }
    let every = std::time::Duration::from_secs(5);
    let budgets: Vec<_> =
        connectors.iter().map(|(name, api)| (name.clone(), api.clone())).collect();
    tasks.spawn(crate::operate::publish_budgets(pool.clone(), budgets, every, shutdown.clone()));
    tasks.spawn(crate::operate::refresh_gauges(pool.clone(), every, shutdown.clone()));
    if !settings.sync.is_empty() {
        let bells = (doorbell.clone(), outbox_bell.clone());
        spawn_sync(tasks, settings, pool, bells, connectors, failure.clone(), shutdown);
    }
    let journal = &settings.journal;
    tasks.spawn(crate::store::journal::retention::run(
        pool.clone(),
        journal.retention,
        i64::from(journal.prune_batch.get()),
        journal.prune_interval,
        shutdown.clone(),
    ));
    Ok(())
}

/// The reconciler and the writer, sharing the ingest's connectors.
fn spawn_sync(
    tasks: &mut JoinSet<()>,
    settings: &Settings,
    pool: &PgPool,
    (journal_bell, outbox_bell): (crate::journal::Doorbell, crate::journal::Doorbell),
    connectors: crate::ingest::plan::Connectors,
    failure: Failure,
    shutdown: &CancellationToken,
) {
    use crate::journal::Waker;
    let poll = settings.journal.poll_interval;
    let sources = Arc::new(crate::reconcile::gather::Sources::new(settings, connectors.clone()));
    let reconciler =
        crate::reconcile::Reconciler::new(settings, pool.clone(), sources, outbox_bell.clone());
    let writer = crate::writer::Writer::new(settings, pool.clone(), connectors.clone());
    // fired once the rules are known to match the live schemas
    let validated = CancellationToken::new();
    let (reconciler_stop, writer_stop) = (shutdown.clone(), shutdown.clone());
    let (reconciler_go, writer_go) = (validated.clone(), validated.clone());
    tasks.spawn(async move {
        let waker = Waker::connect(&journal_bell, poll).await;
        tokio::select! { _ = reconciler_go.cancelled() => {}, _ = reconciler_stop.cancelled() => return }
        reconciler.run(waker, reconciler_stop).await
    });
    tasks.spawn(async move {
        // every lane hears this process's reconciler at once; one also listens for other
        // replicas' NOTIFY, so the writer holds one pool connection for listening
        let mut wakers = vec![Waker::connect(&outbox_bell, poll).await];
        wakers.extend((1..crate::writer::LANES).map(|_| Waker::polling(&outbox_bell, poll)));
        tokio::select! { _ = writer_go.cancelled() => {}, _ = writer_stop.cancelled() => return }
        writer.run(wakers, writer_stop).await
    });
    let check = settings.reconciler.validate_schemas.then(|| (settings.sync.clone(), connectors));
    tasks.spawn(validate_then_start(check, validated, failure, shutdown.clone()));
}

/// Checks the rules against the live schemas before the reconciler and writer start. A
/// mismatch stops the daemon with the list of problems; an unreachable API is retried.
async fn validate_then_start(
    check: Option<(Vec<crate::config::SyncRule>, crate::ingest::plan::Connectors)>,
    validated: CancellationToken,
    failure: Failure,
    shutdown: CancellationToken,
) {
    use crate::rules::schema::{SchemaError, validate};
    let mut delay = std::time::Duration::from_secs(1);
    while let Some((rules, connectors)) = &check {
        let checked = tokio::select! {
            _ = shutdown.cancelled() => return,
            checked = validate(rules, connectors) => checked,
        };
        match checked {
            Ok(()) => {
                tracing::info!("sync rules match the live schemas");
                break;
            }
            Err(err @ SchemaError::Mismatch(_)) => {
                tracing::error!("{err}");
                *failure.lock().expect("failure slot") = Some(err);
                shutdown.cancel();
                return;
            }
            Err(err) => {
                tracing::warn!(error = %report(&err), ?delay, "cannot validate the sync rules yet; retrying");
                tokio::select! {
                    _ = shutdown.cancelled() => return,
                    _ = tokio::time::sleep(delay) => {}
                }
                delay = (delay * 2).min(std::time::Duration::from_secs(60));
            }
        }
    }
    validated.cancel();
}

/// Where a background start-up check leaves the error that stopped the daemon.
pub(crate) type Failure = Arc<std::sync::Mutex<Option<crate::rules::schema::SchemaError>>>;

/// How often a running daemon checks that the database answers, to say when it stops and
/// when it is back.
const DATABASE_WATCH: Duration = Duration::from_secs(1);

/// How long aborted tasks get to reach their next await point and stop.
const ABORT_WAIT: Duration = Duration::from_secs(1);
/// How long closing the pool may wait for connections still checked out.
const POOL_CLOSE_WAIT: Duration = Duration::from_secs(2);

/// What is still running once shutdown is requested.
struct Running {
    tasks: JoinSet<()>,
    server: JoinHandle<Result<(), AppError>>,
    doorbells: Vec<crate::journal::Doorbell>,
}

impl Running {
    /// Waits for the tasks, the admin server (its open requests) and pending notifications
    /// to finish, together at most the grace period; then aborts what is left. Returns how
    /// the admin server ended; an aborted server is no error.
    async fn drain(mut self, grace: Duration) -> Result<(), AppError> {
        let deadline = Instant::now() + grace;
        let tasks = async { while self.tasks.join_next().await.is_some() {} };
        if timeout_at(deadline, tasks).await.is_err() {
            let running = self.tasks.len();
            tracing::warn!(
                ?grace,
                running,
                "tasks still running after the grace period; aborting them"
            );
            self.tasks.abort_all();
            let aborted = async { while self.tasks.join_next().await.is_some() {} };
            if timeout(ABORT_WAIT, aborted).await.is_err() {
                tracing::warn!("tasks did not stop when aborted; leaving them behind");
            }
        }
        let bells = futures_util::future::join_all(self.doorbells.iter().map(|b| b.quiet()));
        let _ = timeout_at(deadline, bells).await;
        let abort = self.server.abort_handle();
        match timeout_at(deadline, &mut self.server).await {
            Ok(Ok(served)) => served,
            Ok(Err(join)) if join.is_cancelled() => Ok(()),
            Ok(Err(join)) => std::panic::resume_unwind(join.into_panic()),
            Err(_) => {
                tracing::warn!(
                    ?grace,
                    "admin requests still open after the grace period; closing them"
                );
                abort.abort();
                Ok(())
            }
        }
    }
}

/// Closes the pool, waiting at most [`POOL_CLOSE_WAIT`] for connections still in use.
async fn close_pool(pool: &PgPool) {
    if timeout(POOL_CLOSE_WAIT, pool.close()).await.is_err() {
        tracing::warn!(wait = ?POOL_CLOSE_WAIT, "database connections still in use; leaving them");
    }
}

/// The admin API and the webhook receivers that are configured: served together, or the
/// receivers apart when they have a listener of their own (`separate`).
struct Routes {
    admin: axum::Router,
    webhooks: axum::Router,
}

fn http_routes(
    settings: &Settings,
    admin: AdminState,
    pool: &PgPool,
    doorbell: &crate::journal::Doorbell,
    separate: bool,
) -> Routes {
    let limit = admin.max_body_bytes;
    let operator = admin::operator_router(admin.clone(), Arc::new(settings.clone()));
    let routes = admin::router(admin).merge(operator);
    let mut admin = admin::read_bodies(routes, limit, settings.http.body_read_timeout);
    let mut webhooks = axum::Router::new();
    if let Some(hook) = &settings.webhooks.hubspot {
        let presettle = Presettle::new(settings.sync.clone());
        let state = crate::ingest::webhook::WebhookState::new(hook, pool.clone(), doorbell.clone())
            .with_read_timeout(settings.http.body_read_timeout)
            .with_presettle(Arc::new(presettle));
        webhooks = webhooks.merge(crate::ingest::webhook::router(state));
    }
    if !separate {
        admin = admin.merge(std::mem::take(&mut webhooks));
    }
    Routes { admin, webhooks }
}

/// The reconciler's presettle is ingest's settle hook: pollers and the webhook receiver
/// journal what it finds settled as settled.
#[async_trait::async_trait]
impl PreSettle for Presettle {
    async fn settled(&self, pool: &PgPool, changes: &[NewChange]) -> Vec<Option<Settled>> {
        presettle::settled(self, pool, changes).await
    }
}

/// The bound listeners: the admin one, and the webhooks' own when configured.
struct Listeners {
    admin: TcpListener,
    webhooks: Option<TcpListener>,
}

/// Binds `addr` at once, outside async code.
fn bind_now(addr: SocketAddr) -> Result<TcpListener, AppError> {
    let bind = || {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        TcpListener::from_std(listener)
    };
    bind().map_err(|source| AppError::Bind { addr, source })
}

async fn serve_http(
    listeners: Listeners,
    routes: Routes,
    limits: crate::config::HttpSettings,
    shutdown: CancellationToken,
) -> Result<(), AppError> {
    let admin = serve::serve(listeners.admin, routes.admin, limits.clone(), shutdown.clone());
    match listeners.webhooks {
        Some(webhooks) => {
            let hooks = serve::serve(webhooks, routes.webhooks, limits, shutdown);
            tokio::join!(admin, hooks);
        }
        None => admin.await,
    }
    Ok(())
}
