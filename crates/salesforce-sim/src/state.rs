//! The shared state of one running simulator: config, clock, records, sessions, query
//! cursors, API usage, request stats and injected faults.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use super::auth::Sessions;
use super::config::SimConfig;
use super::error::SfError;
use super::limits::ApiUsage;
use super::schema::Schema;
use super::soql::Cursors;
use super::store::{Actor, Behaviour, Store, StoreSnapshot};
use sim_kit::clock::SimClock;
use sim_kit::faults::FaultPlan;
use sim_kit::stats::SimStats;

/// The org id every simulator reports (`00D` prefix).
pub const ORG_ID: &str = "00D8d0000000001EAA";
/// The integration user API tokens act as.
pub const INTEGRATION_USERNAME: &str = "integration@hubsync.sim";
/// The user "as a Salesforce user" edits from the test handle are attributed to.
pub const ADMIN_USERNAME: &str = "admin@hubsync.sim";

pub type SharedState = Arc<SfState>;

pub struct SfState {
    pub config: SimConfig,
    pub clock: SimClock,
    pub stats: SimStats,
    pub faults: FaultPlan,
    pub store: Mutex<Store>,
    pub sessions: Mutex<Sessions>,
    pub cursors: Mutex<Cursors>,
    pub usage: Mutex<ApiUsage>,
    /// Set once the listener is bound: `http(s)://127.0.0.1:PORT`.
    pub base_url: OnceLock<String>,
    /// Set when the data API has its own listener: the token response's `instance_url`.
    pub instance_url: OnceLock<String>,
    pub integration_user_id: String,
    pub admin_user_id: String,
}

impl SfState {
    /// A simulator's state with its schema and users, and either the saved records of
    /// `saved` or the seed's records.
    pub fn build(
        config: SimConfig,
        clock: SimClock,
        saved: Option<StoreSnapshot>,
    ) -> Result<Self, String> {
        let seed = &config.seed;
        let schema =
            Schema::build(&seed.custom_objects, &seed.custom_fields, config.opportunity_required)?;
        let mut store = Store::new(Arc::new(schema));
        store.behaviour = Behaviour::of(&config);
        let now = clock.now();
        let seeding = saved.is_none();
        if let Some(saved) = saved {
            store.restore(saved)?;
        }
        let integration_user_id = user(&mut store, INTEGRATION_USERNAME, "Integration", now)?;
        let admin_user_id = user(&mut store, ADMIN_USERNAME, "Admin", now)?;
        let usage = ApiUsage::new(config.daily_api_limit);
        let state = SfState {
            clock,
            stats: SimStats::default(),
            faults: FaultPlan::default(),
            store: Mutex::new(store),
            sessions: Mutex::new(Sessions::default()),
            cursors: Mutex::new(Cursors::default()),
            usage: Mutex::new(usage),
            base_url: OnceLock::new(),
            instance_url: OnceLock::new(),
            integration_user_id,
            admin_user_id,
            config,
        };
        if seeding {
            super::seeding::seed_records(&state)?;
        }
        Ok(state)
    }

    pub fn now(&self) -> DateTime<Utc> {
        self.clock.now()
    }

    /// The store, with the recycle bin first emptied of records past retention, so no
    /// query, read or retrieve ever sees one.
    pub fn store(&self) -> MutexGuard<'_, Store> {
        let mut store = self.store.lock().expect("store lock");
        store.purge_due(self.now(), self.config.recycle_bin_retention);
        store
    }

    pub fn base_url(&self) -> &str {
        self.base_url.get().map(String::as_str).unwrap_or("http://127.0.0.1")
    }

    /// Where the data API is served: the instance listener, else the base URL.
    pub fn instance_url(&self) -> &str {
        self.instance_url.get().map(String::as_str).unwrap_or_else(|| self.base_url())
    }

    /// The actor for an API call: the integration user, tagged with the caller's client.
    pub fn api_actor(&self, client: Option<String>) -> Actor {
        Actor { user_id: self.integration_user_id.clone(), client, system: false }
    }

    /// The actor for edits made "in the Salesforce UI" by the admin user.
    pub fn admin_actor(&self) -> Actor {
        Actor { user_id: self.admin_user_id.clone(), client: None, system: false }
    }

    /// The actor for seeding: may set audit and read-only fields.
    pub fn system_actor(&self) -> Actor {
        Actor { user_id: self.admin_user_id.clone(), client: None, system: true }
    }
}

/// The id of the user `username`, created if the org does not have it yet.
fn user(
    store: &mut Store,
    username: &str,
    last: &str,
    now: DateTime<Utc>,
) -> Result<String, String> {
    let key = Value::String(username.to_string());
    if let Some(existing) = store.find_indexed("User", "Username", &key).first() {
        return Ok(existing.id().to_string());
    }
    let object = store.object("User").expect("User is standard");
    let mut fields = Map::new();
    fields.insert("Username".into(), Value::String(username.into()));
    fields.insert("Email".into(), Value::String(username.into()));
    fields.insert("LastName".into(), Value::String(last.into()));
    fields.insert("IsActive".into(), Value::Bool(true));
    let actor = Actor { user_id: "005000000000000AAA".into(), client: None, system: true };
    let id = store.create(&object, &fields, &actor, now).map_err(|e: SfError| e.to_string())?;
    let mut own = Map::new();
    own.insert("CreatedById".into(), Value::String(id.clone()));
    let actor = Actor { user_id: id.clone(), client: None, system: true };
    let _ = store.update(&object, &id, &own, &actor, now);
    Ok(id)
}
