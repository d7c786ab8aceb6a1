//! The Salesforce connector: an org behind the [`Connector`] trait, over the REST API
//! (sObject Collections, SOQL `query`/`queryAll`, describe, `getDeleted`).

pub mod auth;
pub mod budget;
mod changes;
mod client;
mod collections;
mod reads;
pub mod request;
mod sobject;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use serde_json::Value;
use tokio::sync::Semaphore;

use self::auth::Sessions;
use self::budget::Budget;
use self::changes::Delivered;
use self::client::Client;
use super::credentials::{CredentialGate, Rejection};
use super::retry::RetryPolicy;
use super::{
    AssociationLink, AssociationSet, ChangeCursor, ChangePage, Clock, Connector, ConnectorError,
    CrmClock, Deleted, ItemResult, Lookup, ObjectDescription, Owner, RateBudget, ReadResult,
    RecordPage, UpdateItem, UpsertItem, system_clock,
};
use crate::config::SalesforceSettings;

/// Tuning that is not part of the operator's config.
#[derive(Clone)]
pub struct SalesforceOptions {
    /// How far before the cursor each poll starts, to catch late commits.
    pub overlap: Duration,
    /// Requests in flight at once, per connector.
    pub concurrency: usize,
    pub retry: RetryPolicy,
    pub clock: Clock,
    /// Names this hubsync in the echo marker when the config gives no `client_name`.
    pub instance: String,
    /// The connector's name in the config, the `name` label of its metrics.
    pub name: String,
}

impl Default for SalesforceOptions {
    fn default() -> Self {
        SalesforceOptions {
            overlap: Duration::from_secs(60),
            concurrency: 8,
            retry: RetryPolicy::default(),
            clock: system_clock(),
            instance: "default".into(),
            name: "salesforce".into(),
        }
    }
}

/// One Salesforce org.
pub struct SalesforceConnector {
    client: Client,
    delivered: Delivered,
    overlap: Duration,
}

impl SalesforceConnector {
    pub fn new(
        settings: &SalesforceSettings,
        options: SalesforceOptions,
    ) -> Result<Self, ConnectorError> {
        let http = reqwest::Client::builder()
            .pool_max_idle_per_host(options.concurrency)
            .build()
            .map_err(|err| ConnectorError::Setup(format!("http client: {err}")))?;
        let marker =
            settings.client_name.clone().unwrap_or(format!("hubsync-{}", options.instance));
        let client = Client {
            http,
            version: settings.api_version.clone(),
            sessions: Sessions::new(&settings.login_url, settings.auth.clone()),
            budget: Budget::new(settings.daily_budget_fraction, &options.name),
            permits: Arc::new(Semaphore::new(options.concurrency.max(1))),
            retry: options.retry,
            timeout: settings.request_timeout,
            call_options: format!("client={marker}"),
            gate: CredentialGate::new(
                "salesforce",
                &options.name,
                settings.credential_probe_interval,
            ),
            crm_clock: CrmClock::new(&options.name, options.clock.clone()),
            clock: options.clock,
        };
        Ok(SalesforceConnector {
            client,
            delivered: Delivered::default(),
            overlap: options.overlap,
        })
    }

    /// Sets (or clears) lookup fields: links are grouped by label, since each label names
    /// its own lookup field; unlabelled links use the first writable lookup to `to`.
    async fn set_lookups(
        &self,
        from: &str,
        to: &str,
        links: &[AssociationLink],
        remove: bool,
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        let mut groups: Vec<(Option<&str>, Vec<usize>)> = Vec::new();
        for (index, link) in links.iter().enumerate() {
            let label = link.label.as_deref();
            match groups.iter_mut().find(|(l, _)| *l == label) {
                Some((_, indexes)) => indexes.push(index),
                None => groups.push((label, vec![index])),
            }
        }
        let mut results: Vec<Option<ItemResult>> = vec![None; links.len()];
        for (label, indexes) in groups {
            let field = reads::lookup_field(&self.client, from, to, label).await?;
            let chosen: Vec<AssociationLink> = indexes.iter().map(|i| links[*i].clone()).collect();
            let items: Vec<UpdateItem> = reads::lookup_updates(&field, &chosen, remove)
                .into_iter()
                .map(|(id, properties)| UpdateItem {
                    id,
                    properties: object_properties(properties),
                })
                .collect();
            let written = collections::update(&self.client, from, &items).await?;
            for (index, result) in indexes.into_iter().zip(written) {
                results[index] = Some(result);
            }
        }
        Ok(results.into_iter().map(|r| r.expect("every link was sent")).collect())
    }
}

fn object_properties(value: Value) -> super::Properties {
    match value {
        Value::Object(map) => map.into_iter().collect(),
        _ => super::Properties::new(),
    }
}

#[async_trait]
impl Connector for SalesforceConnector {
    fn api(&self) -> &'static str {
        "salesforce"
    }

    fn batch_size(&self) -> usize {
        request::COLLECTION_SIZE
    }

    fn refused(&self) -> Option<Rejection> {
        self.client.gate.refused()
    }

    fn clock_skew(&self) -> Option<chrono::Duration> {
        self.client.crm_clock.offset().map(|offset| -offset)
    }

    /// Salesforce has no per-second quota, only the daily allocation.
    fn budget(&self) -> RateBudget {
        let (daily_remaining, paused_until) = self.client.budget.state((self.client.clock)());
        RateBudget { requests_per_second: f64::INFINITY, daily_remaining, paused_until }
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
        let delivered = &self.delivered;
        changes::read_changes(&self.client, delivered, object, cursor, fields, self.overlap).await
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
        collections::upsert(&self.client, object, key_field, items).await
    }

    async fn update_batch(
        &self,
        object: &str,
        items: &[UpdateItem],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        collections::update(&self.client, object, items).await
    }

    async fn archive_batch(
        &self,
        _object: &str,
        ids: &[String],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        collections::delete(&self.client, ids).await
    }

    async fn read_associations(
        &self,
        from: &str,
        to: &str,
        ids: &[String],
    ) -> Result<Vec<AssociationSet>, ConnectorError> {
        reads::read_associations(&self.client, from, to, ids).await
    }

    async fn create_associations(
        &self,
        from: &str,
        to: &str,
        links: &[AssociationLink],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        self.set_lookups(from, to, links, false).await
    }

    async fn remove_associations(
        &self,
        from: &str,
        to: &str,
        links: &[AssociationLink],
    ) -> Result<Vec<ItemResult>, ConnectorError> {
        self.set_lookups(from, to, links, true).await
    }

    async fn owners(&self) -> Result<Vec<Owner>, ConnectorError> {
        reads::owners(&self.client).await
    }

    async fn count(&self, object: &str) -> Result<Option<u64>, ConnectorError> {
        reads::count(&self.client, object).await
    }
}
