//! A local HubSpot CRM API: HubSpot's wire format served by axum over in-memory state,
//! with a test handle ([`HubspotSim`]) to read and change that state directly.

mod assoc_api;
mod assoc_links;
pub mod associations;
pub mod auth;
mod batch;
pub mod cli;
pub mod config;
mod control;
mod defaults;
mod delivery;
pub mod error;
pub mod events;
mod handle;
mod merge;
mod objects;
mod owners;
pub mod persist;
pub mod properties;
mod props_api;
pub mod ratelimit;
mod render;
mod routes;
mod schemas;
mod search;
mod search_index;
pub mod signature;
pub mod store;
pub mod types;
pub mod webhooks;
mod webhooks_api;
mod write;

use std::sync::{Arc, Mutex, MutexGuard};

use sim_kit::clock::SimClock;
use sim_kit::faults::FaultPlan;
use sim_kit::stats::SimStats;

pub use cli::SimArgs;
pub use config::{AppToken, OAuthApp, RateProfile, SearchCaps, SimConfig, Strictness};
pub use handle::{HubspotSim, RecordView};
pub use store::Source;
pub use webhooks::{Chaos, Delivery, RetrySchedule, Subscription, WebhookSettings};

use auth::AuthState;
use ratelimit::RateLimiter;
use store::Store;
use webhooks::Webhooks;
use write::WriteCtx;

/// Everything the handlers share.
pub struct Inner {
    pub config: SimConfig,
    pub clock: SimClock,
    pub faults: FaultPlan,
    pub stats: SimStats,
    pub store: Mutex<Store>,
    pub limits: RateLimiter,
    pub auth: AuthState,
    pub webhooks: Webhooks,
}

/// The simulator's shared state; clones share it.
#[derive(Clone)]
pub struct SimState(pub Arc<Inner>);

impl std::ops::Deref for SimState {
    type Target = Inner;
    fn deref(&self) -> &Inner {
        &self.0
    }
}

impl SimState {
    pub fn new(config: SimConfig, store: Store, clock: SimClock) -> Self {
        let inner = Inner {
            limits: RateLimiter::new(config.rate),
            auth: AuthState::default(),
            webhooks: Webhooks::new(config.portal_id, config.seed),
            faults: FaultPlan::seeded(config.seed),
            stats: SimStats::default(),
            store: Mutex::new(store),
            clock,
            config,
        };
        SimState(Arc::new(inner))
    }

    fn lock(&self) -> MutexGuard<'_, Store> {
        self.store.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Runs `f` on the store, then hands the changes it made to the webhook subscribers.
    pub fn with_store<T>(&self, f: impl FnOnce(&mut Store) -> T) -> T {
        let mut store = self.lock();
        store.record_changes = self.webhooks.active();
        let out = f(&mut store);
        let changes = std::mem::take(&mut store.changes);
        if !changes.is_empty() {
            self.webhooks.publish_with(changes, &store.types);
        }
        out
    }

    /// Reads the store without recording changes.
    pub fn read_store<T>(&self, f: impl FnOnce(&Store) -> T) -> T {
        f(&self.lock())
    }

    /// The context of a write by `source`, now.
    pub fn write_ctx(&self, source: Source) -> WriteCtx {
        WriteCtx {
            source,
            now: self.clock.now_millis(),
            search_lag_ms: self.config.search_lag.as_millis() as i64,
            archived_values_stay_unique: self.config.strict.archived_values_stay_unique,
        }
    }
}

/// The README's examples, compiled as doctests.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
