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
        let latest: Vec<(String, Option<i64>)> = sqlx::query_as(KNOWN_SQL)
            .bind(&self.spec.connector)
            .bind(&self.spec.object)
            .bind(&ids)
            .bind(&self.sync_names)
            .bind(self.spec.side == Side::Hubspot)
            .fetch_all(&self.pool)
            .await?;
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
        let linked: Vec<String> = sqlx::query_scalar(LINKED_SQL)
            .bind(&self.sync_names)
            .bind(self.spec.side == Side::Hubspot)
            .fetch_all(&self.pool)
            .await?;
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
        let appended = journal::append(&self.pool, changes).await?;
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

/// Each record of `$3` that the journal or a link of the sync blocks `$4` already knows,
/// with the id of its last journal row when that row is a delete of an unlinked record (a
/// record back from the dead). Found by index probes, one per id, not a scan of the
/// object's rows.
const KNOWN_SQL: &str = "
with ids (record_id) as (select distinct unnest($3::text[])),
latest as (
    select i.record_id, j.id, j.kind from ids i
    cross join lateral (
        select id, kind from hubsync.journal
        where connector = $1 and object_type = $2 and record_id = i.record_id
        order by occurred_at desc, id desc
        limit 1) j),
linked as (
    select i.record_id from ids i
    where ($5 and exists (select 1 from hubsync.links k
                          where k.sync_name = any($4) and k.hubspot_id = i.record_id))
       or (not $5 and exists (select 1 from hubsync.links k
                              where k.sync_name = any($4) and k.external_id = i.record_id)))
select l.record_id, case when l.kind = 'delete' and k.record_id is null then l.id end
from latest l left join linked k on k.record_id = l.record_id
union
select record_id, null from linked";

/// Every id this side's links name.
const LINKED_SQL: &str = "
select case when $2 then hubspot_id else external_id end from hubsync.links
where sync_name = any($1)";
