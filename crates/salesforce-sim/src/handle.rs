//! `SalesforceSim`: a running simulator and the handle tests use to seed records, edit "as
//! a Salesforce user", move the clock, inject faults, expire tokens and read stats.

use std::path::Path;
use std::sync::Arc;

use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use super::config::SimConfig;
use super::control;
use super::error::SfError;
use super::persist::{self, PersistError};
use super::render;
use super::routes;
use super::state::{SfState, SharedState};
use super::store::StoreSnapshot;
use super::tls::{self, TlsError};
use sim_kit::clock::SimClock;
use sim_kit::faults::{Fault, FaultPlan, FaultRule, Trigger};
use sim_kit::server::RunningSim;
use sim_kit::stats::SimStats;

/// The API version tests and the benchmark speak by default.
pub const DEFAULT_VERSION: &str = "v59.0";

#[derive(Debug, thiserror::Error)]
pub enum StartError {
    #[error("cannot bind the listener")]
    Bind(#[source] std::io::Error),
    #[error("invalid simulator setup: {0}")]
    Setup(String),
    #[error(transparent)]
    Tls(#[from] TlsError),
    #[error(transparent)]
    State(#[from] PersistError),
}

enum Serving {
    Http(RunningSim<()>),
    Tls { shutdown: CancellationToken, task: JoinHandle<std::io::Result<()>> },
}

/// A Salesforce simulator serving in the background.
pub struct SalesforceSim {
    state: SharedState,
    base_url: String,
    certificate_pem: Option<String>,
    serving: Serving,
    /// The data API's own listener, with `separate_instance`.
    instance: Option<RunningSim<()>>,
}

impl SalesforceSim {
    /// Starts a simulator on `127.0.0.1` with an OS-chosen port.
    pub async fn start(config: SimConfig) -> Result<Self, StartError> {
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(StartError::Bind)?;
        Self::serve(listener, config, None, CancellationToken::new())
    }

    /// Starts a simulator on `listener`, from `saved` records if given, until `shutdown`.
    pub fn serve(
        listener: TcpListener,
        config: SimConfig,
        saved: Option<StoreSnapshot>,
        shutdown: CancellationToken,
    ) -> Result<Self, StartError> {
        let addr = listener.local_addr().map_err(StartError::Bind)?;
        let tls = config.tls;
        let state = Arc::new(
            SfState::build(config, SimClock::default(), saved).map_err(StartError::Setup)?,
        );
        let scheme = if tls { "https" } else { "http" };
        let base_url = format!("{scheme}://{addr}");
        let _ = state.base_url.set(base_url.clone());
        let instance = match state.config.separate_instance {
            true => Some(serve_instance(&state, tls, shutdown.clone())?),
            false => None,
        };
        let router = match instance {
            Some(_) => routes::login_router(state.clone()),
            None => routes::router(state.clone()),
        };
        let (serving, certificate_pem) = if tls {
            let (pem, acceptor) = tls::self_signed()?;
            let task = tls::spawn(listener, router, acceptor, shutdown.clone());
            (Serving::Tls { shutdown, task }, Some(pem))
        } else {
            (Serving::Http(RunningSim::spawn(listener, router, (), shutdown)), None)
        };
        Ok(SalesforceSim { state, base_url, certificate_pem, serving, instance })
    }

    /// Starts a simulator whose records are loaded from `path` if it exists.
    pub async fn start_with_state(config: SimConfig, path: &Path) -> Result<Self, StartError> {
        let saved = persist::load(path)?;
        let listener = TcpListener::bind("127.0.0.1:0").await.map_err(StartError::Bind)?;
        Self::serve(listener, config, saved, CancellationToken::new())
    }

    /// The instance URL, e.g. `http://127.0.0.1:41234` (https with `tls`).
    pub fn base_url(&self) -> &str {
        &self.base_url
    }

    /// Where the data API is served: the base URL, or the instance listener's with
    /// `separate_instance`.
    pub fn instance_url(&self) -> &str {
        self.state.instance_url()
    }

    /// `{instance_url}/services/data/{version}`.
    pub fn data_url(&self, version: &str) -> String {
        format!("{}/services/data/{version}", self.instance_url())
    }

    /// The self-signed certificate (PEM) of a TLS simulator, for clients to trust.
    pub fn certificate_pem(&self) -> Option<&str> {
        self.certificate_pem.as_deref()
    }

    pub fn config(&self) -> &SimConfig {
        &self.state.config
    }

    pub fn clock(&self) -> &SimClock {
        &self.state.clock
    }

    pub fn faults(&self) -> &FaultPlan {
        &self.state.faults
    }

    pub fn stats(&self) -> &SimStats {
        &self.state.stats
    }

    /// Injects `fault` on requests whose path matches `path_glob` (e.g.
    /// `/services/data/*/composite/sobjects*`); see [`super::fault`] for Salesforce faults.
    pub fn inject(&self, path_glob: &str, fault: Fault, trigger: Trigger) {
        self.state.faults.add(FaultRule::new(path_glob, fault, trigger));
    }

    /// The integration user's id: API writes are attributed to it (`LastModifiedById`).
    pub fn integration_user_id(&self) -> &str {
        &self.state.integration_user_id
    }

    /// The admin user's id: edits "as a Salesforce user" are attributed to it.
    pub fn admin_user_id(&self) -> &str {
        &self.state.admin_user_id
    }

    /// A fresh access token for the integration user, without the OAuth round trip.
    pub fn access_token(&self) -> String {
        let mut sessions = self.state.sessions.lock().expect("sessions lock");
        sessions.issue(
            &self.state.integration_user_id,
            self.state.now(),
            self.state.config.session_timeout,
        )
    }

    /// Ends every session: the next call with any token gets 401 `INVALID_SESSION_ID`.
    pub fn expire_tokens(&self) {
        control::expire_tokens(&self.state);
    }

    /// Requests counted against the daily allocation in the last 24 hours.
    pub fn api_usage(&self) -> u64 {
        control::api_usage(&self.state)
    }

    /// Sets the count of requests used, e.g. to stand just below the limit.
    pub fn set_api_usage(&self, used: u64) {
        control::set_api_usage(&self.state, used);
    }

    /// A validation rule: writes of `object` records whose `field` holds `value` fail with
    /// 400 `FIELD_CUSTOM_VALIDATION_EXCEPTION` and `message`, until [`Self::clear_record_faults`].
    pub fn reject_records(
        &self,
        object: &str,
        field: &str,
        value: Value,
        message: &str,
    ) -> Result<(), SfError> {
        control::reject_records(&self.state, object, field, value, message)
    }

    /// The next `writes` record writes to `object` fail with `UNABLE_TO_LOCK_ROW`, each on its
    /// own (in a collections call, its batch-mates are written).
    pub fn lock_rows(&self, object: &str, writes: u32) -> Result<(), SfError> {
        control::lock_rows(&self.state, object, writes)
    }

    /// Removes every rule set by [`Self::reject_records`] and [`Self::lock_rows`].
    pub fn clear_record_faults(&self) {
        self.state.store().clear_rules();
    }

    /// Creates a record as seeding does: audit and read-only fields may be set.
    pub fn seed(&self, object: &str, fields: Value) -> Result<String, SfError> {
        let object = self.object(object)?;
        let actor = self.state.system_actor();
        self.state.store().create(&object, &as_map(fields)?, &actor, self.state.now())
    }

    /// Creates a record as the admin user in the Salesforce UI would.
    pub fn create_as_user(&self, object: &str, fields: Value) -> Result<String, SfError> {
        let object = self.object(object)?;
        let actor = self.state.admin_actor();
        self.state.store().create(&object, &as_map(fields)?, &actor, self.state.now())
    }

    /// Edits a record as the admin user in the Salesforce UI would.
    pub fn edit_as_user(&self, id: &str, fields: Value) -> Result<(), SfError> {
        let object = self.object_of(id)?;
        let actor = self.state.admin_actor();
        self.state.store().update(&object, id, &as_map(fields)?, &actor, self.state.now())
    }

    /// Deletes a record (to the recycle bin) as the admin user.
    pub fn delete_as_user(&self, id: &str) -> Result<(), SfError> {
        let actor = self.state.admin_actor();
        self.state.store().delete(None, id, &actor, self.state.now())
    }

    /// Restores a record from the recycle bin as the admin user.
    pub fn undelete(&self, id: &str) -> Result<(), SfError> {
        let actor = self.state.admin_actor();
        self.state.store().undelete(id, &actor, self.state.now())
    }

    /// Merges up to two `losers` into `master` as the admin user.
    pub fn merge(&self, master: &str, losers: &[&str]) -> Result<(), SfError> {
        let losers: Vec<String> = losers.iter().map(|l| l.to_string()).collect();
        let actor = self.state.admin_actor();
        self.state.store().merge(master, &losers, &actor, self.state.now())
    }

    /// A system-driven change: only `SystemModstamp` moves.
    pub fn touch_system(&self, id: &str) -> Result<(), SfError> {
        self.state.store().touch_system(id, self.state.now())
    }

    /// Empties the recycle bin of records older than the configured retention.
    /// (Every other use of the store purges first too; this one says how many went.)
    pub fn purge_recycle_bin(&self) -> usize {
        let mut store = self.state.store.lock().expect("store lock");
        store.purge(self.state.now(), self.state.config.recycle_bin_retention)
    }

    /// Every field of the record `id` (live or deleted), as the REST API renders it.
    pub fn record(&self, id: &str) -> Option<Value> {
        let store = self.state.store();
        let record = store.get(id)?;
        let object = store.object(&record.object)?;
        Some(render::record(&object, record, None, DEFAULT_VERSION))
    }

    /// Live records of `object` whose external-id or unique `field` holds `value`.
    pub fn find(&self, object: &str, field: &str, value: &str) -> Vec<Value> {
        let store = self.state.store();
        let Some(def) = store.object(object) else { return Vec::new() };
        let Some(field) = def.field(field) else { return Vec::new() };
        let found = store.find_indexed(&def.name, &field.name, &Value::String(value.into()));
        found.into_iter().map(|r| render::record(&def, r, None, DEFAULT_VERSION)).collect()
    }

    /// How many records `object` has, live only or with the recycle bin.
    pub fn count(&self, object: &str, include_deleted: bool) -> usize {
        let store = self.state.store();
        store.object(object).map_or(0, |def| store.count(&def.name, include_deleted))
    }

    /// Writes every record to `path`, for [`SalesforceSim::start_with_state`].
    pub fn save_state(&self, path: &Path) -> Result<(), PersistError> {
        persist::save(&self.state, path)
    }

    /// Stops serving and waits for the server task.
    pub async fn stop(self) -> std::io::Result<()> {
        if let Some(instance) = self.instance {
            instance.stop().await?;
        }
        match self.serving {
            Serving::Http(running) => running.stop().await.map(|_| ()),
            Serving::Tls { shutdown, task } => {
                shutdown.cancel();
                task.await.map_err(std::io::Error::other)?
            }
        }
    }

    fn object(&self, name: &str) -> Result<Arc<super::schema::ObjectDef>, SfError> {
        control::object_def(&self.state, name)
    }

    fn object_of(&self, id: &str) -> Result<Arc<super::schema::ObjectDef>, SfError> {
        let store = self.state.store();
        let record = store.get(id).ok_or_else(SfError::not_found)?;
        store.object(&record.object).ok_or_else(SfError::not_found)
    }
}

/// Serves the whole API on a second listener of its own and records its URL as the
/// instance URL.
fn serve_instance(
    state: &SharedState,
    tls: bool,
    shutdown: CancellationToken,
) -> Result<RunningSim<()>, StartError> {
    if tls {
        return Err(StartError::Setup("separate_instance serves plain HTTP only".into()));
    }
    let listener = std::net::TcpListener::bind("127.0.0.1:0").map_err(StartError::Bind)?;
    listener.set_nonblocking(true).map_err(StartError::Bind)?;
    let listener = TcpListener::from_std(listener).map_err(StartError::Bind)?;
    let running = RunningSim::spawn(listener, routes::router(state.clone()), (), shutdown);
    let _ = state.instance_url.set(running.base_url.clone());
    Ok(running)
}

fn as_map(fields: Value) -> Result<Map<String, Value>, SfError> {
    match fields {
        Value::Object(map) => Ok(map),
        _ => Err(SfError::json_parser("fields must be a JSON object")),
    }
}
