//! The typed settings hubsync runs with, parsed once from the config layers.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::num::NonZeroU32;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::connector::ConnectorSettings;
use super::sync::SyncRule;

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct Settings {
    pub instance: InstanceSettings,
    pub database: DatabaseSettings,
    pub admin: AdminSettings,
    pub http: HttpSettings,
    pub shutdown: ShutdownSettings,
    pub journal: JournalSettings,
    pub ingest: IngestSettings,
    pub reconciler: ReconcilerSettings,
    pub writer: WriterSettings,
    #[serde(default)]
    pub webhooks: WebhookSettings,
    #[serde(default)]
    pub connectors: BTreeMap<String, ConnectorSettings>,
    #[serde(default)]
    pub sync: Vec<SyncRule>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct InstanceSettings {
    /// Names this replica in leases, logs and the echo marker of its writes.
    pub id: String,
}

/// `Debug` and `Serialize` print the URL with its password redacted.
#[derive(Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseSettings {
    /// Printed with its password redacted.
    #[serde(serialize_with = "redact_password")]
    pub url: String,
    pub max_connections: NonZeroU32,
    #[serde(with = "super::duration")]
    pub acquire_timeout: Duration,
    #[serde(with = "super::duration")]
    pub statement_timeout: Duration,
    #[serde(with = "super::duration")]
    pub lock_timeout: Duration,
    pub application_name: String,
    pub migrate_on_start: bool,
    pub startup_attempts: NonZeroU32,
    #[serde(with = "super::duration")]
    pub startup_retry_delay: Duration,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminSettings {
    #[serde(with = "super::socket_addr")]
    pub listen: SocketAddr,
    /// `/healthz`, `/readyz` and `/metrics` answer without a token.
    pub open_probes: bool,
    /// Largest request body the admin API accepts, in bytes.
    pub max_body_bytes: NonZeroU32,
    /// `/readyz` answers 503 `clock_skew` while this host's clock and a CRM's differ by more.
    #[serde(with = "super::duration")]
    pub max_clock_skew: Duration,
    /// Bearer tokens for `/api/…`; none means the API refuses every request.
    #[serde(default)]
    pub tokens: Vec<AdminToken>,
}

/// Limits every HTTP listener (admin, webhooks) applies to its clients, so that slow or
/// many clients cannot hold it.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HttpSettings {
    /// A client that has not sent its request headers within this is disconnected.
    #[serde(with = "super::duration")]
    pub header_read_timeout: Duration,
    /// A request body that has not fully arrived within this gets 408.
    #[serde(with = "super::duration")]
    pub body_read_timeout: Duration,
    /// Connections each listener serves at once; more wait to be accepted.
    pub max_connections: NonZeroU32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct AdminToken {
    /// Who holds the token; recorded as the actor in the audit trail.
    pub name: String,
    pub scope: TokenScope,
    pub token: super::Secret,
}

/// `read` sees status, journal and metrics; `operate` may also retry, skip, resolve, pause.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum TokenScope {
    Read,
    Operate,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct IngestSettings {
    /// Each poller (one per connector and object in the sync rules) reads changes this often;
    /// it keeps reading without pause while the source has more.
    #[serde(with = "super::duration")]
    pub poll_interval: Duration,
    /// How often the drift sweep compares each side's full id set with what hubsync knows.
    #[serde(with = "super::duration")]
    pub sweep_interval: Duration,
    /// A sweep that finds more than this share (0..1] of an object's linked records gone
    /// deletes nothing: it pauses the blocks linking them and tells an operator.
    pub sweep_max_gone_share: f64,
    /// Below this many records found gone, the share guard never trips.
    pub sweep_min_gone_records: u32,
}

/// Push receivers on the daemon's HTTP server.
#[derive(Debug, Clone, Default, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookSettings {
    /// A listener serving only the webhook receivers, so the admin API can stay on
    /// localhost. Unset: the receivers are served on the admin listener.
    #[serde(
        default,
        with = "super::socket_addr::optional",
        skip_serializing_if = "Option::is_none"
    )]
    pub listen: Option<SocketAddr>,
    /// `POST /webhooks/hubspot`; off unless configured.
    #[serde(default)]
    pub hubspot: Option<HubspotWebhookSettings>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HubspotWebhookSettings {
    /// The HubSpot connector whose portal sends these events.
    #[serde(default = "default_hubspot")]
    pub connector: String,
    /// The exact URL HubSpot calls (scheme, host, path, query). Signatures are checked
    /// against it, never against the Host header a proxy may rewrite.
    pub public_url: String,
    /// The app's client secret, which signs every request.
    pub client_secret: super::Secret,
    /// The previous secret, still accepted while a rotation is under way.
    #[serde(default)]
    pub previous_client_secret: Option<super::Secret>,
    /// Accept v1 signatures (older apps; no timestamp, so no replay window).
    #[serde(default)]
    pub accept_v1: bool,
    /// Larger bodies get 413. HubSpot sends at most 100 events per request, and a text
    /// property holds up to 65,536 characters: 8 MiB takes a full batch of them.
    #[serde(default = "default_webhook_body")]
    pub max_body_bytes: NonZeroU32,
}

fn default_hubspot() -> String {
    "hubspot".into()
}

fn default_webhook_body() -> NonZeroU32 {
    NonZeroU32::new(8 << 20).expect("non-zero")
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct JournalSettings {
    /// A change that keeps failing transiently is dead-lettered after this many attempts.
    pub max_attempts: NonZeroU32,
    /// How long a consumer holds claimed rows before another replica may take them.
    #[serde(with = "super::duration")]
    pub lease: Duration,
    /// Consumers look for work at least this often, even without a notification.
    #[serde(with = "super::duration")]
    pub poll_interval: Duration,
    /// Settled rows (applied, echo, stale, skipped) older than this are pruned.
    #[serde(with = "super::duration")]
    pub retention: Duration,
    /// How often the pruner runs.
    #[serde(with = "super::duration")]
    pub prune_interval: Duration,
    /// Rows deleted per pruning statement.
    pub prune_batch: NonZeroU32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ReconcilerSettings {
    /// Journal rows claimed and decided together.
    pub batch: NonZeroU32,
    /// Check the sync rules against the live schemas (describe) before syncing.
    pub validate_schemas: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct WriterSettings {
    /// How long the writer waits for a batch to fill before sending a partial one.
    #[serde(with = "super::duration")]
    pub fill_wait: Duration,
    /// Outbox items claimed per round.
    pub claim: NonZeroU32,
    /// Batches in flight at once, across connectors.
    pub concurrency: NonZeroU32,
    /// How long claimed items are held before another replica may take them.
    #[serde(with = "super::duration")]
    pub lease: Duration,
    /// A write that keeps failing transiently is dead after this many attempts.
    pub max_attempts: NonZeroU32,
    /// An association waits this long for both of its records to be linked.
    #[serde(with = "super::duration")]
    pub link_wait: Duration,
    pub blast_radius: BlastRadiusSettings,
}

/// Pauses a sync block whose writes would delete or overwrite too much of an object.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct BlastRadiusSettings {
    pub enabled: bool,
    /// The share of the target object's records (0..1) that may be deleted or overwritten
    /// within `window`.
    pub max_share: f64,
    #[serde(with = "super::duration")]
    pub window: Duration,
    /// Below this many deletes and overwrites in the window, the guard never trips.
    pub min_records: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct ShutdownSettings {
    /// How long running work may take to finish after SIGTERM before it is abandoned.
    #[serde(with = "super::duration")]
    pub grace_period: Duration,
}

impl std::fmt::Debug for DatabaseSettings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatabaseSettings")
            .field("url", &without_password(&self.url))
            .field("max_connections", &self.max_connections)
            .field("acquire_timeout", &self.acquire_timeout)
            .field("statement_timeout", &self.statement_timeout)
            .field("lock_timeout", &self.lock_timeout)
            .field("application_name", &self.application_name)
            .field("migrate_on_start", &self.migrate_on_start)
            .field("startup_attempts", &self.startup_attempts)
            .field("startup_retry_delay", &self.startup_retry_delay)
            .finish()
    }
}

fn redact_password<S: serde::Serializer>(url: &str, serializer: S) -> Result<S::Ok, S::Error> {
    serializer.serialize_str(&without_password(url))
}

/// The URL with `[redacted]` for its password, if it has one.
fn without_password(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("[redacted]"));
            parsed.to_string()
        }
        Ok(_) => url.to_string(),
        Err(_) => "[unparseable url redacted]".to_string(),
    }
}
