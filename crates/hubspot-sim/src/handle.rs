//! The test handle: start the simulator on a listener, then seed records, edit them "as a
//! HubSpot user", steer the clock, inject faults, configure webhooks and read counts.
//!
//! ```no_run
//! # async fn example() -> Result<(), Box<dyn std::error::Error>> {
//! use sim_kit::faults::{Fault, FaultRule, Trigger};
//! use hubspot_sim::{HubspotSim, RateProfile, SimConfig, Subscription, WebhookSettings};
//! use serde_json::json;
//!
//! let config = SimConfig { rate: RateProfile::UNLIMITED, ..SimConfig::default() };
//! let sim = HubspotSim::start(config).await?;
//! // Point a client at sim.base_url() with the bearer token sim.token() ("sim-token").
//! let id = sim.seed("contacts", json!({"email": "ann@example.com"}))?;
//! sim.clock().freeze();
//! sim.edit_as_user("contacts", id, json!({"firstname": "Ann"}), 7)?;
//! sim.clock().advance(chrono::Duration::seconds(30));
//! let fault = Fault::Respond { status: 502, body: json!({}), headers: vec![] };
//! sim.inject(FaultRule::new("/crm/v3/objects/*/batch/*", fault, Trigger::Next(1)));
//! let hooks = vec![Subscription::new(1, "contact.propertyChange").property("email")];
//! sim.set_webhooks(Some(WebhookSettings::new("http://127.0.0.1:9/hooks", "secret", hooks)));
//! let written = sim.stats().total_written();
//! # let _ = written;
//! sim.stop().await?;
//! # Ok(())
//! # }
//! ```

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use serde_json::{Map, Value};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::control;
use super::error::{ApiError, ApiResult};
use super::persist::{self, PersistError};
use super::store::{HistoryEntry, Source, Store};
use super::webhooks::{Delivery, WebhookSettings};
use super::{SimConfig, SimState, assoc_api, delivery, merge, owners, props_api, routes, write};
use sim_kit::clock::SimClock;
use sim_kit::faults::{FaultPlan, FaultRule};
use sim_kit::server::RunningSim;
use sim_kit::stats::SimStats;

/// A record as the handle shows it.
#[derive(Debug, Clone)]
pub struct RecordView {
    pub id: u64,
    pub properties: HashMap<String, String>,
    pub history: HashMap<String, Vec<HistoryEntry>>,
    pub created_at: i64,
    pub updated_at: i64,
    pub archived: bool,
}

/// A running HubSpot simulator and the means to steer it.
pub struct HubspotSim {
    running: RunningSim<SimState>,
}

fn object_map(properties: Value) -> Map<String, Value> {
    match properties {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

impl HubspotSim {
    /// Starts on `127.0.0.1:0` with an empty portal.
    pub async fn start(config: SimConfig) -> std::io::Result<Self> {
        let listener = TcpListener::bind("127.0.0.1:0").await?;
        let store = Store::new(config.portal_id);
        Ok(Self::serve(listener, config, store, SimClock::default(), CancellationToken::new()))
    }

    /// Serves `store` on `listener` until [`HubspotSim::stop`] or `shutdown`.
    pub fn serve(
        listener: TcpListener,
        config: SimConfig,
        store: Store,
        clock: SimClock,
        shutdown: CancellationToken,
    ) -> Self {
        let state = SimState::new(config, store, clock);
        delivery::spawn(state.clone(), shutdown.clone());
        let router = routes::router(state.clone());
        HubspotSim { running: RunningSim::spawn(listener, router, state, shutdown) }
    }

    pub fn base_url(&self) -> &str {
        &self.running.base_url
    }

    /// The first configured token (`sim-token` by default).
    pub fn token(&self) -> &str {
        &self.state().config.tokens[0].token
    }

    pub fn state(&self) -> &SimState {
        &self.running.state
    }

    pub fn clock(&self) -> &SimClock {
        &self.state().clock
    }

    pub fn faults(&self) -> &FaultPlan {
        &self.state().faults
    }

    pub fn inject(&self, rule: FaultRule) {
        self.faults().add(rule);
    }

    pub fn stats(&self) -> &SimStats {
        &self.state().stats
    }

    fn user_ctx(&self, user_id: u64) -> write::WriteCtx {
        self.state().write_ctx(Source::user(user_id))
    }

    /// Creates a record as an import would (history source `IMPORT`); returns its id.
    pub fn seed(&self, object: &str, properties: Value) -> ApiResult<u64> {
        let source =
            Source { source_type: "IMPORT".into(), source_id: Some("seed".into()), user_id: None };
        let ctx = self.state().write_ctx(source);
        self.state().with_store(|store| {
            let object = store.object_type(object)?;
            write::create(store, &object, &object_map(properties), &ctx)
        })
    }

    /// Creates a record as HubSpot user `user_id` in the UI (source `CRM_UI`).
    pub fn create_as_user(&self, object: &str, properties: Value, user_id: u64) -> ApiResult<u64> {
        let ctx = self.user_ctx(user_id);
        self.state().with_store(|store| {
            let object = store.object_type(object)?;
            write::create(store, &object, &object_map(properties), &ctx)
        })
    }

    /// Edits a record as HubSpot user `user_id` would in the UI: history source `CRM_UI`,
    /// webhooks fire, search sees it after the lag.
    pub fn edit_as_user(
        &self,
        object: &str,
        id: u64,
        properties: Value,
        user_id: u64,
    ) -> ApiResult<()> {
        let ctx = self.user_ctx(user_id);
        self.state().with_store(|store| {
            let object = store.object_type(object)?;
            let id = super::objects::locate(store, &object, &id.to_string(), None, false)?;
            write::update(store, &object, id, &object_map(properties), &ctx)
        })
    }

    /// Archives a record as a user.
    pub fn archive_as_user(&self, object: &str, id: u64, user_id: u64) -> ApiResult<()> {
        let ctx = self.user_ctx(user_id);
        self.state().with_store(|store| {
            let object = store.object_type(object)?;
            let id = store
                .find(&object, None, &id.to_string())?
                .ok_or_else(|| super::objects::not_found(&id.to_string()))?;
            write::archive(store, &object, id, &ctx);
            Ok(())
        })
    }

    /// Restores an archived record from the recycle bin, as only a user can.
    pub fn restore_as_user(&self, object: &str, id: u64, user_id: u64) -> ApiResult<()> {
        let ctx = self.user_ctx(user_id);
        self.state().with_store(|store| {
            let object = store.object_type(object)?;
            match write::restore(store, &object, id, &ctx) {
                true => Ok(()),
                false => Err(super::objects::not_found(&id.to_string())),
            }
        })
    }

    /// Merges two records as a user; returns the id of the result.
    pub fn merge_as_user(
        &self,
        object: &str,
        primary: u64,
        secondary: u64,
        user_id: u64,
    ) -> ApiResult<u64> {
        let ctx = self.user_ctx(user_id);
        let keep = self.state().config.merge_keeps_primary_id;
        self.state().with_store(|store| {
            let object = store.object_type(object)?;
            for id in [primary, secondary] {
                super::objects::locate(store, &object, &id.to_string(), None, false)?;
            }
            Ok(merge::merge_records(store, &object, primary, secondary, keep, &ctx))
        })
    }

    /// Associates two records with a type id (default: the pair's unlabeled type), as a user.
    pub fn associate(
        &self,
        from: (&str, u64),
        to: (&str, u64),
        type_id: Option<u32>,
    ) -> ApiResult<()> {
        let ctx = self.user_ctx(1);
        self.state().with_store(|store| {
            let (a, b) = (store.object_type(from.0)?, store.object_type(to.0)?);
            let labels =
                store.associations.labels((&a.type_id, &a.singular), (&b.type_id, &b.singular));
            let label = match type_id {
                Some(t) => labels.into_iter().find(|l| l.type_id == t),
                None => labels.into_iter().next(),
            };
            let label = label.ok_or_else(|| ApiError::validation("no such association type"))?;
            assoc_api::associate(store, (&a, from.1), (&b, to.1), &label, &ctx);
            Ok(())
        })
    }

    /// Removes every association between two records, as a user.
    pub fn dissociate(&self, from: (&str, u64), to: (&str, u64)) -> ApiResult<()> {
        let ctx = self.user_ctx(1);
        self.state().with_store(|store| {
            let (a, b) = (store.object_type(from.0)?, store.object_type(to.0)?);
            assoc_api::disassociate(store, (&a, from.1), (&b, to.1), None, &ctx);
            Ok(())
        })
    }

    /// Keeps a record's changes out of search for `extra` more sim-clock time from now,
    /// whatever the configured lag: one write the index picks up late, after newer ones.
    pub fn hold_from_search(&self, object: &str, id: u64, extra: Duration) -> ApiResult<()> {
        control::hold(self.state(), object, id, extra)
    }

    /// A record by id (following merges), archived or not.
    pub fn record(&self, object: &str, id: u64) -> Option<RecordView> {
        self.state().read_store(|store| {
            let object = store.object_type(object).ok()?;
            let record = store.record(&object.type_id, id)?;
            Some(RecordView {
                id: record.id,
                properties: record.properties.clone(),
                history: record.history.clone(),
                created_at: record.created_at,
                updated_at: record.updated_at,
                archived: record.archived(),
            })
        })
    }

    /// The id of the record holding a unique value.
    pub fn find_by(&self, object: &str, property: &str, value: &str) -> Option<u64> {
        self.state().read_store(|store| {
            let object = store.object_type(object).ok()?;
            store.find(&object, Some(property), value).ok().flatten()
        })
    }

    /// Live (unarchived) records of a type.
    pub fn count(&self, object: &str) -> usize {
        self.state().read_store(|store| {
            let Ok(object) = store.object_type(object) else { return 0 };
            store.table(&object.type_id).records.values().filter(|r| !r.archived()).count()
        })
    }

    /// Adds an owner (missing fields filled in); returns its id.
    pub fn add_owner(&self, owner: Value) -> String {
        let now = self.clock().now_millis();
        self.state().with_store(|store| {
            let owner = owners::complete(owner, 100 + store.owners.len() as u64, now);
            let id = owner["id"].as_str().unwrap_or_default().to_string();
            store.owners.push(owner);
            id
        })
    }

    /// Creates a property from a `POST /crm/v3/properties/{type}` body.
    pub fn create_property(&self, object: &str, definition: Value) -> ApiResult<()> {
        let now = self.clock().now_millis();
        self.state().with_store(|store| {
            let object = store.object_type(object)?;
            let def = new_property_from(store, &object.type_id, definition, now)?;
            store.table_mut(&object.type_id).properties.insert(def.name.clone(), def);
            Ok(())
        })
    }

    /// Sets (or with `None` removes) the app's webhook settings.
    pub fn set_webhooks(&self, settings: Option<WebhookSettings>) {
        self.state().webhooks.configure(settings);
    }

    /// Every delivery attempt so far.
    pub fn deliveries(&self) -> Vec<Delivery> {
        self.state().webhooks.log.lock().expect("webhook lock").clone()
    }

    /// Waits until `done` holds for the delivery log, or `timeout` passes.
    pub async fn wait_for_deliveries(
        &self,
        timeout: Duration,
        done: impl Fn(&[Delivery]) -> bool,
    ) -> Vec<Delivery> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let log = self.deliveries();
            if done(&log) || tokio::time::Instant::now() >= deadline {
                return log;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// Writes the portal to `path`.
    pub fn save(&self, path: &Path) -> Result<(), PersistError> {
        self.state().read_store(|store| persist::save(store, path))
    }

    /// Stops serving and delivering.
    pub async fn stop(self) -> std::io::Result<SimState> {
        self.running.stop().await
    }
}

fn new_property_from(
    store: &Store,
    type_id: &str,
    definition: Value,
    now: i64,
) -> ApiResult<super::properties::PropertyDef> {
    props_api::new_property(store.table(type_id), props_api::parse_create(definition)?, now)
}
