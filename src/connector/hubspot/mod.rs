//! The HubSpot connector: a portal behind the [`Connector`] trait, over the CRM v3 (or
//! date-versioned) objects API, search, properties, owners and associations v4.

mod associations;
mod auth;
mod batch;
mod changes;
mod client;
pub mod limits;
mod reads;
pub mod request;
mod required;
pub mod response;
pub mod webhook;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use chrono_tz::Tz;
use tokio::sync::Semaphore;

use self::auth::Credentials;
use self::client::Client;
use self::limits::HubspotLimits;
pub use self::reads::CustomObject;
use self::request::Paths;
use super::credentials::{CredentialGate, Rejection};
use super::retry::RetryPolicy;
use super::{
    AssociationLink, AssociationSet, ChangeCursor, ChangePage, Clock, Connector, ConnectorError,
    CrmClock, Deleted, ItemResult, Lookup, ObjectDescription, Owner, RateBudget, ReadResult,
    RecordPage, UpdateItem, UpsertItem, system_clock,
};
use crate::config::HubspotSettings;

/// Tuning that is not part of the operator's config.
#[derive(Clone)]
pub struct HubspotOptions {
    /// How far behind now incremental reads stay, for the search index lag.
    pub search_safety_lag: Duration,
    /// Requests in flight at once, per connector.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub clock: Clock,
    /// The connector's name in the config, for metrics labels.
    pub name: String,
}

impl Default for HubspotOptions {
    fn default() -> Self {
        HubspotOptions {
            name: "hubspot".into(),
            search_safety_lag: Duration::from_secs(30),
            concurrency: 8,
            retry: RetryPolicy::default(),
            clock: system_clock(),
        }
    }
}

/// One HubSpot portal.
pub struct HubspotConnector {
    client: Client,
    lag: Duration,
}

impl HubspotConnector {
    /// Builds a connector; its limits are shared with every connector of the same app,
    /// portal and base URL in this process.
    pub fn new(
        settings: &HubspotSettings,
        options: HubspotOptions,
    ) -> Result<Self, ConnectorError> {
        let timezone: Tz = settings.account_timezone.parse().map_err(|_| {
            ConnectorError::Setup(format!("unknown time zone `{}`", settings.account_timezone))
        })?;
        let credentials = Credentials::new(&settings.auth, &settings.base_url);
        let key = format!("{}#{}", settings.base_url, auth::app_key(&settings.auth));
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(options.concurrency)
            .build()
            .map_err(|err| ConnectorError::Setup(format!("http client: {err}")))?;
        let client = Client {
            http,
            paths: Paths::new(&settings.base_url, &settings.path_version),
            credentials,
            limits: HubspotLimits::shared(&key, &settings.rate_limit, timezone, &options.name),
            permits: Arc::new(Semaphore::new(options.concurrency.max(1))),
            retry: options.retry,
            timeout: settings.request_timeout,
            gate: CredentialGate::new("hubspot", &options.name, settings.credential_probe_interval),
            crm_clock: CrmClock::new(&options.name, options.clock.clone()),
            clock: options.clock,
        };
        Ok(HubspotConnector { client, lag: options.search_safety_lag })
    }

    /// The portal's custom object types (schema discovery).
    pub async fn custom_objects(&self) -> Result<Vec<CustomObject>, ConnectorError> {
        reads::schemas(&self.client).await
    }

    /// The limits this connector spends (shared process-wide).
    pub fn limits(&self) -> &Arc<HubspotLimits> {
        &self.client.limits
    }
}

#[async_trait]
impl Connector for HubspotConnector {
    fn api(&self) -> &'static str {
        "hubspot"
    }

    fn batch_size(&self) -> usize {
        batch::BATCH_SIZE
    }

    fn refused(&self) -> Option<Rejection> {
        self.client.gate.refused()
    }

    fn clock_skew(&self) -> Option<chrono::Duration> {
        self.client.crm_clock.offset().map(|offset| -offset)
    }

    fn budget(&self) -> RateBudget {
        let (remaining, paused_until) = self.client.limits.daily_state((self.client.clock)());
        RateBudget {
            requests_per_second: self.client.limits.requests_per_second(),
            daily_remaining: Some(remaining),
            paused_until,
        }
    }

    fn now(&self) -> DateTime<Utc> {
        self.client.crm_clock.now()
    }

    async fn describe(&self, object: &str) -> Result<ObjectDescription, ConnectorError> {
        reads::describe(&self.client, object).await
    }

    async fn read_changes(
        &self,
        object: &str,
        cursor: &ChangeCursor,
        fields: &[String],
    ) -> Result<ChangePage, ConnectorError> {
        changes::read_changes(&self.client, object, cursor, fields, self.lag).await
    }

    async fn read_all(
        &self,
        object: &str,
        page: Option<&str>,
        fields: &[String],
    ) -> Result<RecordPage, ConnectorError> {
        reads::read_all(&self.client, object, page, fields).await
    }

    async fn read_deletes(
        &self,
        object: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Deleted>, ConnectorError> {
        reads::read_deletes(&self.client, object, since).await
    }

    async fn read_batch(
        &self,
        object: &str,
        lookup: &Lookup,
        keys: &[String],
        fields: &[String],
    ) -> Result<Vec<ReadResult>, ConnectorError> {
        reads::read_batch(&self.client, object, lookup, keys, fields).await
    }

    async fn upsert_batch(
        &self,
        object: &str,
        key_field: &str,
        items: &[UpsertItem],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        batch::upsert(&self.client, object, key_field, items).await
    }

    async fn update_batch(
        &self,
        object: &str,
        items: &[UpdateItem],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        batch::update(&self.client, object, items).await
    }

    async fn archive_batch(
        &self,
        object: &str,
        ids: &[String],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        batch::archive(&self.client, object, ids).await
    }

    async fn read_associations(
        &self,
        from: &str,
        to: &str,
        ids: &[String],
    ) -> Result<Vec<AssociationSet>, ConnectorError> {
        associations::read(&self.client, from, to, ids).await
    }

    async fn create_associations(
        &self,
        from: &str,
        to: &str,
        links: &[AssociationLink],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        associations::create(&self.client, from, to, links).await
    }

    async fn remove_associations(
        &self,
        from: &str,
        to: &str,
        links: &[AssociationLink],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        associations::remove(&self.client, from, to, links).await
    }

    async fn owners(&self) -> Result<Vec<Owner>, ConnectorError> {
        reads::owners(&self.client).await
    }

    async fn count(&self, object: &str) -> Result<Option<u64>, ConnectorError> {
        changes::count(&self.client, object).await
    }
}
