//! Connector settings: one named entry per side of a sync (HubSpot portal, Salesforce org).

use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::secret::Secret;
use super::tagged::{Tagged, TaggedBy};

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case", from = "Tagged<ConnectorKind>")]
pub enum ConnectorSettings {
    Hubspot(HubspotSettings),
    Salesforce(SalesforceSettings),
}

/// [`ConnectorSettings`] as read from config, where `kind` names the variant.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case")]
enum ConnectorKind {
    Hubspot(HubspotSettings),
    Salesforce(SalesforceSettings),
}

impl TaggedBy for ConnectorKind {
    const TAG: &'static str = "kind";
    const VARIANTS: &'static [&'static str] = &["hubspot", "salesforce"];
}

impl From<Tagged<ConnectorKind>> for ConnectorSettings {
    fn from(Tagged(kind): Tagged<ConnectorKind>) -> Self {
        match kind {
            ConnectorKind::Hubspot(settings) => ConnectorSettings::Hubspot(settings),
            ConnectorKind::Salesforce(settings) => ConnectorSettings::Salesforce(settings),
        }
    }
}

impl ConnectorSettings {
    pub fn kind(&self) -> &'static str {
        match self {
            ConnectorSettings::Hubspot(_) => "hubspot",
            ConnectorSettings::Salesforce(_) => "salesforce",
        }
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HubspotSettings {
    #[serde(default = "hubspot_base_url")]
    pub base_url: String,
    /// The CRM objects path version: `v3` or a date version such as `2026-03`.
    #[serde(default = "hubspot_path_version")]
    pub path_version: String,
    pub auth: HubspotAuth,
    /// The app id HubSpot records as `sourceId` on our writes. For reference only: echoes
    /// are recognised by the values hubsync wrote, per sync block, so a chain of blocks
    /// still carries a change hubsync wrote into one portal on to the next.
    #[serde(default)]
    pub app_id: Option<u64>,
    #[serde(default)]
    pub rate_limit: HubspotRateLimit,
    /// The account's time zone (IANA name): the daily API budget resets at its midnight.
    #[serde(default = "default_timezone")]
    pub account_timezone: String,
    #[serde(default = "default_request_timeout", with = "super::duration")]
    pub request_timeout: Duration,
    /// Incremental reads stay this far behind now: HubSpot's search index lags writes.
    #[serde(default = "default_search_safety_lag", with = "super::duration")]
    pub search_safety_lag: Duration,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// While the API refuses the credentials, how often one call tries them again.
    #[serde(default = "default_credential_probe_interval", with = "super::duration")]
    pub credential_probe_interval: Duration,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "method", rename_all = "snake_case", from = "Tagged<HubspotAuthMethod>")]
pub enum HubspotAuth {
    PrivateApp { token: Secret },
    Oauth { client_id: String, client_secret: Secret, refresh_token: Secret },
}

/// [`HubspotAuth`] as read from config, where `method` names the variant.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum HubspotAuthMethod {
    PrivateApp { token: Secret },
    Oauth { client_id: String, client_secret: Secret, refresh_token: Secret },
}

impl TaggedBy for HubspotAuthMethod {
    const TAG: &'static str = "method";
    const VARIANTS: &'static [&'static str] = &["private_app", "oauth"];
}

impl From<Tagged<HubspotAuthMethod>> for HubspotAuth {
    fn from(Tagged(method): Tagged<HubspotAuthMethod>) -> Self {
        match method {
            HubspotAuthMethod::PrivateApp { token } => HubspotAuth::PrivateApp { token },
            HubspotAuthMethod::Oauth { client_id, client_secret, refresh_token } => {
                HubspotAuth::Oauth { client_id, client_secret, refresh_token }
            }
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum HubspotTier {
    Free,
    Starter,
    Professional,
    Enterprise,
    /// A simulator started with `--profile unlimited`: no published quota to keep under, so
    /// a rehearsal measures hubsync itself. Refused for HubSpot's own API hosts; 429s and
    /// rate-limit headers are still honoured.
    Unlimited,
}

/// The numbers of the `unlimited` tier: far above what any process sends.
pub const UNLIMITED_BURST_PER_10S: u32 = 1_000_000;
pub const UNLIMITED_DAILY: u32 = 1_000_000_000;
pub const UNLIMITED_SEARCH_PER_SECOND: u32 = 100_000;

/// HubSpot's quotas: explicit numbers win over the tier's published ones.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct HubspotRateLimit {
    #[serde(default = "default_tier")]
    pub tier: HubspotTier,
    #[serde(default)]
    pub burst_per_10s: Option<u32>,
    #[serde(default)]
    pub daily: Option<u32>,
    #[serde(default)]
    pub search_per_second: Option<u32>,
}

impl Default for HubspotRateLimit {
    fn default() -> Self {
        HubspotRateLimit {
            tier: default_tier(),
            burst_per_10s: None,
            daily: None,
            search_per_second: None,
        }
    }
}

impl HubspotRateLimit {
    /// Requests per rolling 10 s window, per app.
    pub fn effective_burst_per_10s(&self) -> u32 {
        self.burst_per_10s.unwrap_or(match self.tier {
            HubspotTier::Free | HubspotTier::Starter => 100,
            HubspotTier::Professional | HubspotTier::Enterprise => 190,
            HubspotTier::Unlimited => UNLIMITED_BURST_PER_10S,
        })
    }

    /// Requests per day, per account.
    pub fn effective_daily(&self) -> u32 {
        self.daily.unwrap_or(match self.tier {
            HubspotTier::Free | HubspotTier::Starter => 250_000,
            HubspotTier::Professional => 625_000,
            HubspotTier::Enterprise => 1_000_000,
            HubspotTier::Unlimited => UNLIMITED_DAILY,
        })
    }

    /// CRM search requests per second.
    pub fn effective_search_per_second(&self) -> u32 {
        self.search_per_second.unwrap_or(match self.tier {
            HubspotTier::Unlimited => UNLIMITED_SEARCH_PER_SECOND,
            _ => 5,
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct SalesforceSettings {
    /// The org's My Domain or login host; the token response names the instance URL.
    pub login_url: String,
    #[serde(default = "salesforce_api_version")]
    pub api_version: String,
    pub auth: SalesforceAuth,
    /// hubsync stops spending at this share of the org's daily API allocation.
    #[serde(default = "default_budget_fraction")]
    pub daily_budget_fraction: f64,
    /// The `Sforce-Call-Options: client=` marker on our writes; defaults to `hubsync-<instance>`.
    #[serde(default)]
    pub client_name: Option<String>,
    #[serde(default = "default_request_timeout", with = "super::duration")]
    pub request_timeout: Duration,
    /// Each poll starts this far before its cursor, to catch transactions that committed
    /// late; the overlap is deduplicated.
    #[serde(default = "default_overlap", with = "super::duration")]
    pub overlap: Duration,
    /// Requests in flight at once.
    #[serde(default = "default_concurrency")]
    pub concurrency: usize,
    /// While the API refuses the credentials, how often one call tries them again.
    #[serde(default = "default_credential_probe_interval", with = "super::duration")]
    pub credential_probe_interval: Duration,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(tag = "method", rename_all = "snake_case", from = "Tagged<SalesforceAuthMethod>")]
pub enum SalesforceAuth {
    ClientCredentials { client_id: String, client_secret: Secret },
    JwtBearer { client_id: String, username: String, private_key: Secret, audience: Option<String> },
}

/// [`SalesforceAuth`] as read from config, where `method` names the variant.
#[derive(Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
enum SalesforceAuthMethod {
    ClientCredentials {
        client_id: String,
        client_secret: Secret,
    },
    JwtBearer {
        client_id: String,
        username: String,
        private_key: Secret,
        #[serde(default)]
        audience: Option<String>,
    },
}

impl TaggedBy for SalesforceAuthMethod {
    const TAG: &'static str = "method";
    const VARIANTS: &'static [&'static str] = &["client_credentials", "jwt_bearer"];
}

impl From<Tagged<SalesforceAuthMethod>> for SalesforceAuth {
    fn from(Tagged(method): Tagged<SalesforceAuthMethod>) -> Self {
        match method {
            SalesforceAuthMethod::ClientCredentials { client_id, client_secret } => {
                SalesforceAuth::ClientCredentials { client_id, client_secret }
            }
            SalesforceAuthMethod::JwtBearer { client_id, username, private_key, audience } => {
                SalesforceAuth::JwtBearer { client_id, username, private_key, audience }
            }
        }
    }
}

fn hubspot_base_url() -> String {
    "https://api.hubapi.com".into()
}

fn hubspot_path_version() -> String {
    "v3".into()
}

fn salesforce_api_version() -> String {
    "v60.0".into()
}

fn default_timezone() -> String {
    "UTC".into()
}

fn default_tier() -> HubspotTier {
    HubspotTier::Professional
}

fn default_budget_fraction() -> f64 {
    0.8
}

fn default_request_timeout() -> Duration {
    Duration::from_secs(30)
}

fn default_search_safety_lag() -> Duration {
    Duration::from_secs(30)
}

fn default_overlap() -> Duration {
    Duration::from_secs(60)
}

fn default_concurrency() -> usize {
    8
}

fn default_credential_probe_interval() -> Duration {
    crate::connector::credentials::DEFAULT_PROBE_INTERVAL
}
