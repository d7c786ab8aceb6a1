//! Connectors: one side of a sync (a HubSpot portal, a Salesforce org) behind one trait, so
//! ingest, the reconciler and the writer never see either API's quirks.

pub mod clock;
pub mod credentials;
pub mod error;
pub mod hubspot;
pub mod retry;
pub mod salesforce;
mod types;

use async_trait::async_trait;
use chrono::{DateTime, Utc};

pub use clock::CrmClock;
pub use error::ConnectorError;
pub use types::*;

/// A clock the connector reads "now" from: the system clock, or a simulator's in tests.
pub type Clock = std::sync::Arc<dyn Fn() -> DateTime<Utc> + Send + Sync>;

/// The system clock.
pub fn system_clock() -> Clock {
    std::sync::Arc::new(Utc::now)
}

/// Builds the connector the config entry `name` describes, with default tuning; `instance`
/// names this hubsync in Salesforce's echo marker when the entry sets no `client_name`.
pub fn from_settings(
    name: &str,
    settings: &crate::config::ConnectorSettings,
    instance: &str,
) -> Result<std::sync::Arc<dyn Connector>, ConnectorError> {
    use crate::config::ConnectorSettings;
    Ok(match settings {
        ConnectorSettings::Hubspot(settings) => {
            let options = hubspot::HubspotOptions {
                search_safety_lag: settings.search_safety_lag,
                concurrency: settings.concurrency,
                name: name.to_string(),
                ..Default::default()
            };
            std::sync::Arc::new(hubspot::HubspotConnector::new(settings, options)?)
        }
        ConnectorSettings::Salesforce(salesforce) => {
            let options = salesforce::SalesforceOptions {
                instance: instance.to_string(),
                name: name.to_string(),
                overlap: salesforce.overlap,
                concurrency: salesforce.concurrency,
                ..Default::default()
            };
            std::sync::Arc::new(salesforce::SalesforceConnector::new(salesforce, options)?)
        }
    })
}

/// One side of a sync. Object names are the API's own (`contacts`, `Contact`); field names
/// likewise. Batch calls accept any number of items and split them into the API's batch
/// size; results come back one per item, in input order, and a bad item never fails its
/// batch-mates.
#[async_trait]
pub trait Connector: Send + Sync {
    /// `hubspot` or `salesforce`, for logs and metrics.
    fn api(&self) -> &'static str;

    /// Records per write call.
    fn batch_size(&self) -> usize;

    /// What the connector may spend now.
    fn budget(&self) -> RateBudget;

    /// Now on the CRM's clock (see [`CrmClock`]): what its record timestamps are compared
    /// with, such as when a write of ours landed there.
    fn now(&self) -> DateTime<Utc>;

    /// The object's fields: types, options, read-only, required and unique flags.
    async fn describe(&self, object: &str) -> Result<ObjectDescription, ConnectorError>;

    /// One page of changes after `cursor`, with `fields` on each upserted record.
    async fn read_changes(
        &self,
        object: &str,
        cursor: &ChangeCursor,
        fields: &[String],
    ) -> Result<ChangePage, ConnectorError>;

    /// One page of every live record (a full backfill); `page` is the previous `next`.
    async fn read_all(
        &self,
        object: &str,
        page: Option<&str>,
        fields: &[String],
    ) -> Result<RecordPage, ConnectorError>;

    /// Records deleted since `since`: the safety net under the change feed.
    async fn read_deletes(
        &self,
        object: &str,
        since: DateTime<Utc>,
    ) -> Result<Vec<Deleted>, ConnectorError>;

    /// Records by id or unique key, one result per key. `NotFound` by id needs the API's
    /// proof for that exact id; an answer that proves neither way is `Unknown`.
    async fn read_batch(
        &self,
        object: &str,
        lookup: &Lookup,
        keys: &[String],
        fields: &[String],
    ) -> Result<Vec<ReadResult>, ConnectorError>;

    /// Creates or updates each item by its value of the unique field `key_field`.
    async fn upsert_batch(
        &self,
        object: &str,
        key_field: &str,
        items: &[UpsertItem],
    ) -> Result<Vec<ItemResult>, ConnectorError>;

    /// Updates records by id.
    async fn update_batch(
        &self,
        object: &str,
        items: &[UpdateItem],
    ) -> Result<Vec<ItemResult>, ConnectorError>;

    /// Deletes (archives) records by id.
    async fn archive_batch(
        &self,
        object: &str,
        ids: &[String],
    ) -> Result<Vec<ItemResult>, ConnectorError>;

    /// The `to` records each `from` record is linked to.
    async fn read_associations(
        &self,
        from: &str,
        to: &str,
        ids: &[String],
    ) -> Result<Vec<AssociationSet>, ConnectorError>;

    /// Links records; one result per link.
    async fn create_associations(
        &self,
        from: &str,
        to: &str,
        links: &[AssociationLink],
    ) -> Result<Vec<ItemResult>, ConnectorError>;

    /// Unlinks records; one result per link.
    async fn remove_associations(
        &self,
        from: &str,
        to: &str,
        links: &[AssociationLink],
    ) -> Result<Vec<ItemResult>, ConnectorError>;

    /// Everyone records can be assigned to.
    async fn owners(&self) -> Result<Vec<Owner>, ConnectorError>;

    /// How many live records the object has, where the API can say cheaply; for progress
    /// and ETAs, never for correctness.
    async fn count(&self, object: &str) -> Result<Option<u64>, ConnectorError>;

    /// Why the API refuses this connector's credentials now, if it does: work for it waits
    /// and the daemon is not ready.
    fn refused(&self) -> Option<credentials::Rejection> {
        None
    }

    /// This host's clock minus the CRM's, once an answer has shown the CRM's (`Date`).
    fn clock_skew(&self) -> Option<chrono::Duration> {
        None
    }
}
