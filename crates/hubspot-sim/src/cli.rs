//! The simulator as a process (`hubspot-sim …`, `hubsync sim hubspot …`): serves until its
//! shutdown token fires, printing its base URL when ready and saving its state on the way
//! out if asked.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use super::config::{RateProfile, SimConfig};
use super::handle::HubspotSim;
use super::persist::{self, PersistError};
use super::store::Store;
use super::webhooks::{RetrySchedule, Subscription, WebhookSettings};
use sim_kit::clock::SimClock;

/// Options of `hubspot-sim` and `hubsync sim hubspot`.
#[derive(Debug, Clone, clap::Args)]
pub struct SimArgs {
    /// Address to serve on, e.g. 127.0.0.1:8089 (port 0 picks a free port).
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// A JSON seed file (format: see `hubspot_sim::persist`), applied to a fresh portal.
    #[arg(long, value_name = "FILE")]
    pub seed: Option<PathBuf>,
    /// A state file: loaded at start if it exists (instead of the seed), saved on shutdown.
    #[arg(long, value_name = "FILE")]
    pub state: Option<PathBuf>,
    /// free, starter, professional, enterprise, unlimited, or custom:BURST:DAILY.
    #[arg(long, default_value = "professional", value_parser = RateProfile::parse)]
    pub profile: RateProfile,
    /// An accepted bearer token; repeat for several apps. Default: `sim-token`.
    #[arg(long = "token", value_name = "TOKEN")]
    pub tokens: Vec<String>,
    /// Milliseconds before a change becomes visible to search.
    #[arg(long, default_value_t = 0)]
    pub search_lag_ms: u64,
    /// Merges keep the primary's id instead of minting a new one.
    #[arg(long)]
    pub merge_keeps_primary_id: bool,
    /// Where webhook events are POSTed; without it no webhooks are sent.
    #[arg(long, value_name = "URL")]
    pub webhook_url: Option<String>,
    /// The app's client secret that signs webhook requests.
    #[arg(long, value_name = "SECRET", default_value = "sim-client-secret")]
    pub webhook_secret: String,
    /// A subscription: `TYPE`, `TYPE:PROPERTY` or `object.EVENT@TYPE_ID`, e.g.
    /// `contact.propertyChange:email` or `object.creation@0-46`. Repeatable.
    #[arg(long = "webhook-event", value_name = "SUBSCRIPTION")]
    pub webhook_events: Vec<String>,
    /// Multiplies HubSpot's retry schedule (1 minute … 6 hours), e.g. 0.001 for rehearsals.
    #[arg(long, default_value_t = 1.0)]
    pub webhook_retry_scale: f64,
}

#[derive(Debug, thiserror::Error)]
pub enum SimError {
    #[error("cannot listen on {addr}")]
    Bind {
        addr: SocketAddr,
        #[source]
        source: std::io::Error,
    },
    #[error(transparent)]
    Persist(#[from] PersistError),
    #[error("the simulator stopped with an error")]
    Serve(#[source] std::io::Error),
}

impl SimArgs {
    fn config(&self) -> SimConfig {
        let mut config = SimConfig { rate: self.profile, ..SimConfig::default() };
        if !self.tokens.is_empty() {
            config = config.with_tokens(self.tokens.iter().cloned());
        }
        config.search_lag = Duration::from_millis(self.search_lag_ms);
        config.merge_keeps_primary_id = self.merge_keeps_primary_id;
        config
    }

    /// The webhook settings the flags describe, if a target URL was given.
    pub fn webhooks(&self) -> Option<WebhookSettings> {
        let url = self.webhook_url.as_deref()?;
        let subscriptions =
            self.webhook_events.iter().zip(1..).map(|(spec, id)| subscription(id, spec)).collect();
        let mut settings = WebhookSettings::new(url, &self.webhook_secret, subscriptions);
        settings.retry = RetrySchedule::scaled(self.webhook_retry_scale);
        Some(settings)
    }

    fn initial_store(
        &self,
        config: &mut SimConfig,
        clock: &SimClock,
    ) -> Result<Store, PersistError> {
        if let Some(path) = self.state.as_ref().filter(|p| p.exists()) {
            let store = persist::load(path)?;
            config.portal_id = store.portal_id;
            return Ok(store);
        }
        let Some(path) = &self.seed else { return Ok(Store::new(config.portal_id)) };
        let seed = persist::read_seed(path)?;
        config.portal_id = seed.portal_id.unwrap_or(config.portal_id);
        let mut store = Store::new(config.portal_id);
        persist::apply_seed(&mut store, seed, clock.now_millis())?;
        Ok(store)
    }
}

fn subscription(id: u64, spec: &str) -> Subscription {
    let (rest, object_type) = match spec.split_once('@') {
        Some((rest, type_id)) => (rest, Some(type_id)),
        None => (spec, None),
    };
    let (event_type, property) = match rest.split_once(':') {
        Some((event_type, property)) => (event_type, Some(property)),
        None => (rest, None),
    };
    let mut subscription = Subscription::new(id, event_type);
    subscription.property_name = property.map(str::to_string);
    subscription.object_type_id = object_type.map(str::to_string);
    subscription
}

/// Serves until `shutdown` (e.g. [`sim_kit::process::on_signals`]), then saves the state
/// file if one was given.
pub async fn run(args: SimArgs, shutdown: CancellationToken) -> Result<(), SimError> {
    let clock = SimClock::default();
    let mut config = args.config();
    let store = args.initial_store(&mut config, &clock)?;
    let listener = TcpListener::bind(args.listen)
        .await
        .map_err(|source| SimError::Bind { addr: args.listen, source })?;
    let sim = HubspotSim::serve(listener, config, store, clock, shutdown.clone());
    sim.set_webhooks(args.webhooks());
    println!("{}", sim.base_url());
    tracing::info!(base_url = %sim.base_url(), "hubspot simulator ready");
    shutdown.cancelled().await;
    let state_file = args.state.clone();
    let state = sim.stop().await.map_err(SimError::Serve)?;
    if let Some(path) = state_file {
        state.read_store(|store| persist::save(store, &path))?;
        tracing::info!(path = %path.display(), "state saved");
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn webhook_subscriptions_parse_from_their_flags() {
        let property = subscription(1, "contact.propertyChange:email");
        assert_eq!(property.event_type, "contact.propertyChange");
        assert_eq!(property.property_name.as_deref(), Some("email"));
        let generic = subscription(2, "object.creation@0-46");
        assert_eq!(
            (generic.event_type.as_str(), generic.object_type_id.as_deref()),
            ("object.creation", Some("0-46"))
        );
    }
}
