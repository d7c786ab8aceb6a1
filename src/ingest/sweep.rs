//! Drift repair: a periodic sweep compares the full id set of one (connector, object) with
//! what hubsync knows — the journal and the links — and journals what was missed: records
//! never seen, and linked records that no longer exist. A record only counts as gone once a
//! read by id confirms it, so a record created during the sweep is never taken for deleted.

use std::collections::{BTreeMap, HashSet};
use std::sync::Arc;

use chrono::Utc;
use sqlx::PgPool;

use super::error::IngestError;
use super::poller::announce;
use crate::config::Side;
use crate::connector::{Connector, Lookup, ReadResult, Record};
use crate::journal::{self, Arrival, ChangeKind, Doorbell, NewChange};
use crate::rules::feeds::{PollerSpec, record_properties};
use crate::store;

/// What a sweep found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct SweepOutcome {
    pub live: usize,
    /// Live records hubsync had never journalled.
    pub missed: u64,
    /// Linked records confirmed gone, journalled as deletes.
    pub vanished: u64,
}

pub struct Sweep {
    spec: PollerSpec,
    api: Arc<dyn Connector>,
    pool: PgPool,
    doorbell: Doorbell,
    /// The `[[sync]]` blocks whose links name records of this side and object.
    sync_names: Vec<String>,
}

impl Sweep {
    pub fn new(
        spec: PollerSpec,
        api: Arc<dyn Connector>,
        pool: PgPool,
        sync_names: Vec<String>,
    ) -> Self {
        let doorbell = Doorbell::new(pool.clone());
        Sweep { spec, api, pool, doorbell, sync_names }
    }

    /// Rings this doorbell after journalling drift, e.g. the daemon's, which stops on
    /// shutdown, rather than one of its own.
    pub fn with_doorbell(mut self, doorbell: Doorbell) -> Self {
        self.doorbell = doorbell;
        self
    }

    /// Reads every live record once and journals the drift.
    #[tracing::instrument(skip(self), fields(connector = %self.spec.connector, object = %self.spec.object))]
    pub async fn run_once(&self) -> Result<SweepOutcome, IngestError> {
        let mut live = HashSet::new();
        let mut missed = 0;
        let mut page_token: Option<String> = None;
        loop {
            let page = self
                .api
                .read_all(&self.spec.object, page_token.as_deref(), &self.spec.fields)
                .await?;
            live.extend(page.records.iter().map(|r| r.id.clone()));
            missed += self.journal_unknown(&page.records).await?;
            match page.next {
                Some(next) => page_token = Some(next),
                None => break,
            }
        }
        let vanished = self.journal_vanished(&live).await?;
        let outcome = SweepOutcome { live: live.len(), missed, vanished };
        if missed + vanished > 0 {
            tracing::warn!(
                missed,
                vanished,
                "drift repaired: the sweep journalled changes the feed missed"
            );
        }
        Ok(outcome)
    }

    /// Journals the records of a page that neither the journal nor the links know, and, as
    /// restores, records whose last journalled change is a delete but which are live again.
    async fn journal_unknown(&self, records: &[Record]) -> Result<u64, IngestError> {
        let ids: Vec<String> = records.iter().map(|r| r.id.clone()).collect();
        let (connector, object, syncs) =
            (&self.spec.connector, &self.spec.object, &self.sync_names);
        let hubspot = self.spec.side == Side::Hubspot;
        let latest =
            store::journal::known(&self.pool, connector, object, &ids, syncs, hubspot).await?;
        let latest: BTreeMap<String, Option<i64>> = latest.into_iter().collect();
        let mut changes = Vec::new();
        for record in records {
            let properties = || record_properties(record);
            match latest.get(&record.id) {
                None => changes.push(self.change(
                    &record.id,
                    ChangeKind::Upsert,
                    properties(),
                    record.modified_at,
                )),
                Some(Some(delete_row)) => {
                    let mut change = self.change(
                        &record.id,
                        ChangeKind::Restore,
                        properties(),
                        record.modified_at,
                    );
                    let (connector, object) = (&self.spec.connector, &self.spec.object);
                    let id = &record.id;
                    change.dedup_key =
                        format!("sweep:{connector}:{object}:{id}:restore:{delete_row}");
                    changes.push(change);
                }
                Some(None) => {}
            }
        }
        self.append(&changes).await
    }

    /// Linked records missing from the live set, confirmed gone by a read by id.
    async fn journal_vanished(&self, live: &HashSet<String>) -> Result<u64, IngestError> {
        let hubspot = self.spec.side == Side::Hubspot;
        let linked = store::links::side_ids(&self.pool, &self.sync_names, hubspot).await?;
        let candidates: Vec<String> = linked.into_iter().filter(|id| !live.contains(id)).collect();
        if candidates.is_empty() {
            return Ok(0);
        }
        let reads = self.api.read_batch(&self.spec.object, &Lookup::Id, &candidates, &[]).await?;
        let now = Utc::now();
        let changes: Vec<NewChange> = candidates
            .iter()
            .zip(reads)
            .filter(|(_, read)| matches!(read, ReadResult::NotFound))
            .map(|(id, _)| self.change(id, ChangeKind::Delete, BTreeMap::new(), now))
            .collect();
        self.append(&changes).await
    }

    async fn append(&self, changes: &[NewChange]) -> Result<u64, IngestError> {
        let appended = store::journal::append(&self.pool, changes).await?;
        announce(&self.spec, &self.doorbell, appended, Arrival::Sweep);
        Ok(appended)
    }

    fn change(
        &self,
        id: &str,
        kind: ChangeKind,
        properties: BTreeMap<String, journal::PropertyChange>,
        at: chrono::DateTime<Utc>,
    ) -> NewChange {
        let mut change = self.spec.observed(id, kind, properties, at, Arrival::Sweep);
        if change.kind == ChangeKind::Delete {
            // a vanished record is journalled once a day at most while it stays gone
            let day = at.format("%Y-%m-%d");
            let (connector, object) = (&self.spec.connector, &self.spec.object);
            change.dedup_key = format!("sweep:{connector}:{object}:{id}:delete:{day}");
        }
        change
    }
}

impl Sweep {
    /// Sweeps every `interval` while this replica holds the sweep's lock, until `shutdown`.
    pub async fn run(
        self,
        interval: std::time::Duration,
        shutdown: tokio_util::sync::CancellationToken,
    ) {
        let name = format!("hubsync-sweep:{}:{}", self.spec.connector, self.spec.object);
        let mut lock = crate::db::lock::PollerLock::named(self.pool.clone(), name);
        loop {
            tokio::select! {
                _ = shutdown.cancelled() => break,
                _ = tokio::time::sleep(interval) => {}
            }
            if !lock.hold().await {
                continue;
            }
            tokio::select! {
                _ = shutdown.cancelled() => break,
                swept = self.run_once() => if let Err(err) = swept {
                    tracing::warn!(error = %crate::error_kind::report(&err), "drift sweep failed; will retry");
                },
            }
        }
        lock.release().await;
    }
}
