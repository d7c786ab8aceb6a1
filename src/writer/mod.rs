//! The batch writer: claims outbox items with leases, groups them by target, object and
//! operation into full batches, sends them through the connectors (records, then
//! associations, then engagements), and settles each item by its own result.

pub mod guard;
pub mod send;
pub mod settle;

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use futures_util::StreamExt;
use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use crate::config::{Settings, Side, SyncRule};
use crate::connector::Connector;
use crate::error_kind::{ErrorKind, guarded, report};
use crate::journal::Waker;
use crate::store::links::{self, Link};
use crate::store::outbox::{self, Operation, OutboxItem};
use send::Settlement;
use settle::Settled;

/// A round that claimed at least this many items (one HubSpot batch) had a backlog.
const FULL_BATCH: usize = 100;

/// Rounds in flight at once, each with its own wake-up listener (see [`Writer::run`]). The
/// professional-profile bench used 83% of HubSpot's limit with one lane, 92-97% with two
/// and 96-98% with three.
pub const LANES: usize = 3;

pub struct Writer {
    pool: PgPool,
    rules: Arc<Vec<SyncRule>>,
    connectors: Arc<std::collections::BTreeMap<String, Arc<dyn Connector>>>,
    guard: guard::Guard,
    worker: String,
    claim: i64,
    lease: Duration,
    concurrency: usize,
    fill_wait: Duration,
    max_attempts: u32,
    link_wait: Duration,
}

impl Writer {
    pub fn new(
        settings: &Settings,
        pool: PgPool,
        connectors: std::collections::BTreeMap<String, Arc<dyn Connector>>,
    ) -> Self {
        let writer = &settings.writer;
        Writer {
            pool,
            rules: Arc::new(settings.sync.clone()),
            connectors: Arc::new(connectors),
            guard: guard::Guard::new(writer.blast_radius.clone()),
            worker: format!("{}/writer", settings.instance.id),
            claim: i64::from(writer.claim.get()),
            lease: writer.lease,
            concurrency: writer.concurrency.get() as usize,
            fill_wait: writer.fill_wait,
            max_attempts: writer.max_attempts.get(),
            link_wait: writer.link_wait,
        }
    }

    /// Runs until `shutdown`, one lane per waker; the rounds in flight are settled first.
    /// Several lanes keep the API busy: while one settles its round and claims the next, the
    /// others are sending. With one lane, a rate-limited connector sat idle for the settling
    /// and claiming of every round, a sixth of its budget. Lanes claim different items, and
    /// a record never has two writes queued at once, so they cannot reorder a record's writes.
    pub async fn run(self, wakers: Vec<Waker>, shutdown: CancellationToken) {
        tracing::info!(worker = %self.worker, lanes = wakers.len(), "writer started");
        let lanes = wakers.into_iter().map(|waker| self.lane(waker, &shutdown));
        futures_util::future::join_all(lanes).await;
        tracing::info!("writer stopped");
    }

    /// Claims, sends and settles rounds until `shutdown`.
    async fn lane(&self, mut waker: Waker, shutdown: &CancellationToken) {
        let mut full = false;
        while !shutdown.is_cancelled() {
            if !full {
                // let a batch fill rather than send many small ones
                tokio::select! {
                    _ = shutdown.cancelled() => break,
                    _ = tokio::time::sleep(self.fill_wait) => {}
                }
            }
            match guarded(self.step()).await {
                Ok(0) => {
                    full = false;
                    waker.wait(shutdown).await;
                }
                // waiting only pays when the last round could not fill one API batch; a
                // backlog keeps the writer sending without pause
                Ok(claimed) => full = claimed >= FULL_BATCH,
                Err(err) => {
                    full = false;
                    tracing::warn!(error = %report(err.as_ref()), "writer round failed; retrying");
                    tokio::select! {
                        _ = shutdown.cancelled() => {}
                        _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                    }
                }
            }
        }
    }

    /// One round: claim, send, settle. Returns how many items were claimed.
    pub async fn step(&self) -> Result<usize, sqlx::Error> {
        let claim =
            outbox::claim(&self.pool, &self.worker, self.claim, self.lease, self.max_attempts)
                .await?;
        crate::metrics::count_rescues("outbox", claim.rescued, claim.dead);
        let items = claim.items;
        let claimed = items.len();
        if claimed == 0 {
            return Ok(0);
        }
        let chunks = self.chunks(items);
        let links = self.association_links(&chunks).await?;
        crate::failpoint::hit("writer::before_api").await;
        let rounds = futures_util::stream::iter(chunks)
            .map(|chunk| self.send_chunk(chunk, &links))
            .buffer_unordered(self.concurrency)
            .collect::<Vec<_>>()
            .await;
        let mut results = Vec::with_capacity(claimed);
        for round in rounds {
            results.extend(round?);
        }
        record_metrics(&results);
        if results.iter().any(|(_, s)| matches!(s, Settlement::Done { .. })) {
            crate::failpoint::hit("writer::after_api_ok_before_commit").await;
        }
        // when our writes landed, on each target's own clock: what later edits there are
        // compared with
        let landed = |item: &OutboxItem| {
            self.connectors.get(&item.connector).map_or_else(chrono::Utc::now, |api| api.now())
        };
        let settled =
            settle::settle(&self.pool, &self.worker, results, self.max_attempts, &landed).await?;
        log_round(&settled);
        Ok(claimed)
    }

    /// Groups by connector call, then splits into the connector's batch size.
    fn chunks(&self, items: Vec<OutboxItem>) -> Vec<Vec<OutboxItem>> {
        let mut chunks = Vec::new();
        for mut group in settle::groups(items) {
            let size = self.connectors.get(&group[0].connector).map_or(100, |api| api.batch_size());
            while group.len() > size {
                let rest = group.split_off(size);
                chunks.push(std::mem::replace(&mut group, rest));
            }
            chunks.push(group);
        }
        chunks
    }

    /// The links association items resolve through, loaded once per round.
    async fn association_links(
        &self,
        chunks: &[Vec<OutboxItem>],
    ) -> Result<HashMap<(String, Side, String), Link>, sqlx::Error> {
        let mut refs = Vec::new();
        for item in chunks.iter().flatten().filter(|i| i.operation == Operation::Associate) {
            let source = item.target_side.other();
            if let Some(id) = &item.source_id {
                refs.push((item.sync_name.clone(), source, id.clone()));
            }
            if let Some(target) = item.association().filter(|t| !t.is_removal()) {
                refs.push((target.to_sync, source, target.to_source_id));
            }
        }
        if refs.is_empty() {
            return Ok(HashMap::new());
        }
        let mut found = HashMap::new();
        for link in links::find_many(&self.pool, &refs).await? {
            for side in [Side::Hubspot, Side::External] {
                found.insert(
                    (link.sync_name.clone(), side, link.id_on(side).to_string()),
                    link.clone(),
                );
            }
        }
        Ok(found)
    }

    async fn send_chunk(
        &self,
        chunk: Vec<OutboxItem>,
        links: &HashMap<(String, Side, String), Link>,
    ) -> Result<Vec<(OutboxItem, Settlement)>, sqlx::Error> {
        let Some(api) = self.connectors.get(&chunk[0].connector).cloned() else {
            let message = format!("no connector named {}", chunk[0].connector);
            return Ok(chunk
                .into_iter()
                .map(|i| (i, Settlement::Failed { message: message.clone() }))
                .collect());
        };
        if !self.guard.allows(&self.pool, &api, &chunk).await? {
            let paused = Settlement::Retry {
                kind: ErrorKind::NeedsOperator,
                wait: Some(Duration::ZERO),
                message: "paused by the blast-radius guard".into(),
                spend: false,
            };
            return Ok(chunk.into_iter().map(|i| (i, paused.clone())).collect());
        }
        count_batch(&chunk[0]);
        if chunk[0].operation != Operation::Associate {
            let settlements = send::send_records(&api, &chunk).await;
            return Ok(chunk.into_iter().zip(settlements).collect());
        }
        let mut results = Vec::new();
        let mut ready = Vec::new();
        for item in &chunk {
            match send::resolve(item, &self.rules, links, self.link_wait) {
                Ok(resolved) => ready.push((item, resolved)),
                Err(settlement) => results.push((item.clone(), settlement)),
            }
        }
        let settlements = send::send_associations(&api, &ready).await;
        for ((item, _), settlement) in ready.into_iter().zip(settlements) {
            results.push((item.clone(), settlement));
        }
        Ok(results)
    }
}

/// One batch sent (or about to be) for the chunk whose first item is `item`.
fn count_batch(item: &OutboxItem) {
    let labels =
        [("target", item.target_side.as_str().to_string()), ("object", item.object_type.clone())];
    metrics::counter!(crate::metrics::WRITE_BATCHES, &labels).increment(1);
}

fn record_metrics(results: &[(OutboxItem, Settlement)]) {
    let now = chrono::Utc::now();
    for (item, settlement) in results {
        let outcome = match settlement {
            Settlement::Done { .. } => "done",
            Settlement::Retry { .. } => "retry",
            Settlement::Failed { .. } => "failed",
        };
        let labels = [
            ("target", item.target_side.as_str().to_string()),
            ("object", item.object_type.clone()),
            ("operation", item.operation.as_str().to_string()),
            ("outcome", outcome.to_string()),
        ];
        metrics::counter!(crate::metrics::WRITES, &labels).increment(1);
        if let (Settlement::Done { .. }, Some(at)) = (settlement, item.occurred_at) {
            let lag = (now - at).num_milliseconds().max(0) as f64 / 1000.0;
            let target = item.target_side.as_str();
            metrics::histogram!(crate::metrics::SYNC_LAG, "target" => target).record(lag);
        }
    }
}

fn log_round(settled: &Settled) {
    if settled.failed + settled.dead > 0 {
        tracing::warn!(
            done = settled.done,
            retried = settled.retried,
            failed = settled.failed,
            dead = settled.dead,
            "writer round had failures; see `hubsync journal ls --status failed`"
        );
    } else {
        tracing::debug!(done = settled.done, retried = settled.retried, "writer round settled");
    }
}
