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
    guard: GoneGuard,
}

/// The pause reason of a sweep that found too many linked records gone.
pub const GONE_REASON: &str = "sweep_gone_share";

/// How many linked records one sweep may find gone before it pauses instead of deleting.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct GoneGuard {
    /// The share (0..1] of the linked records that may be found gone in one sweep.
    pub max_share: f64,
    /// Below this many gone records the guard never trips.
    pub min_records: usize,
}

impl Default for GoneGuard {
    /// As `config/default.toml` sets it.
    fn default() -> Self {
        GoneGuard { max_share: 0.05, min_records: 10 }
    }
}

impl GoneGuard {
    fn trips(&self, gone: usize, linked: usize) -> bool {
        gone >= self.min_records && gone as f64 > self.max_share * linked as f64
    }
}

impl Sweep {
    pub fn new(
        spec: PollerSpec,
        api: Arc<dyn Connector>,
        pool: PgPool,
        sync_names: Vec<String>,
    ) -> Self {
        let doorbell = Doorbell::new(pool.clone());
        Sweep { spec, api, pool, doorbell, sync_names, guard: GoneGuard::default() }
    }

    /// Pauses instead of deleting when a sweep finds more linked records gone than `guard`
    /// allows.
    pub fn with_gone_guard(mut self, guard: GoneGuard) -> Self {
        self.guard = guard;
        self
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

    /// Linked records missing from the live set, confirmed gone by a read by id. A record the
    /// read cannot confirm either way is left for the next sweep; more gone than the guard
    /// allows pauses the blocks instead, and nothing is journalled.
    async fn journal_vanished(&self, live: &HashSet<String>) -> Result<u64, IngestError> {
        let hubspot = self.spec.side == Side::Hubspot;
        let linked = store::links::side_ids(&self.pool, &self.sync_names, hubspot).await?;
        let linked_count = linked.len();
        let candidates: Vec<String> = linked.into_iter().filter(|id| !live.contains(id)).collect();
        if candidates.is_empty() {
            return Ok(0);
        }
        let reads = self.api.read_batch(&self.spec.object, &Lookup::Id, &candidates, &[]).await?;
        let mut gone = Vec::new();
        let mut unconfirmed = 0;
        for (id, read) in candidates.iter().zip(reads) {
            match read {
                ReadResult::NotFound => gone.push(id),
                ReadResult::Unknown { .. } => unconfirmed += 1,
                ReadResult::Found(_) => {}
            }
        }
        if unconfirmed > 0 {
            tracing::warn!(
                unconfirmed,
                "the sweep could not confirm whether some linked records are gone; it reads them again next time"
            );
        }
        if self.guard.trips(gone.len(), linked_count) {
            self.pause(gone.len(), linked_count).await?;
            return Ok(0);
        }
        let now = Utc::now();
        let changes: Vec<NewChange> = gone
            .into_iter()
            .map(|id| self.change(id, ChangeKind::Delete, BTreeMap::new(), now))
            .collect();
        self.append(&changes).await
    }

    /// Pauses every block linking this side and object, and tells an operator, for a sweep
    /// that found `gone` of `linked` records gone.
    async fn pause(&self, gone: usize, linked: usize) -> Result<(), IngestError> {
        let (connector, object) = (&self.spec.connector, &self.spec.object);
        let detail = serde_json::json!({
            "connector": connector, "object": object, "gone": gone, "linked": linked,
            "max_gone_share": self.guard.max_share, "min_gone_records": self.guard.min_records,
        });
        let mut tx = self.pool.begin().await?;
        for sync in &self.sync_names {
            if store::paused::pause_by_hubsync(&mut *tx, sync, GONE_REASON, &detail).await? {
                let target = serde_json::json!({ "sync": sync });
                store::audit::record(&mut *tx, "hubsync", "pause", target, detail.clone()).await?;
                ::metrics::gauge!(crate::metrics::PAUSED, "sync" => sync.clone()).set(1.0);
            }
        }
        tx.commit().await?;
        ::metrics::counter!(crate::metrics::SWEEP_GONE_PAUSES, "connector" => connector.clone(),
            "object" => object.clone())
        .increment(1);
        tracing::error!(
            gone, linked, syncs = ?self.sync_names,
            "the sweep found more linked records gone than ingest.sweep_max_gone_share allows: \
             nothing was deleted and the blocks are paused; check the CRM, then `hubsync resume`"
        );
        Ok(())
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

#[cfg(test)]
mod tests {
    use super::GoneGuard;

    #[test]
    fn the_gone_guard_trips_on_a_large_share_but_not_on_a_small_sample() {
        let guard = GoneGuard { max_share: 0.05, min_records: 10 };
        assert!(!guard.trips(1, 2), "one of two is too small a sample");
        assert!(!guard.trips(9, 10));
        assert!(!guard.trips(10, 1000), "1% is within 5%");
        assert!(guard.trips(10, 100));
        assert!(guard.trips(60, 100));
    }
}
