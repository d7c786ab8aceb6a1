//! The reconciler task: claims journal rows in per-record order, gathers what they need,
//! decides each under its sync blocks, and commits the batch, until shutdown.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use sqlx::PgPool;
use tokio_util::sync::CancellationToken;

use super::error::ReconcileError;
use super::gather::{Sources, gather, rules_of};
use super::persist::{self, Committed};
use super::row::{Outcome, RowPlan, plan_row};
use super::statistics::Statistics;
use crate::config::{Settings, SyncRule};
use crate::db::lock::PollerLock;
use crate::error_kind::{ErrorKind, guarded, report};
use crate::journal::{self, Completion, Doorbell, JournalRow, Waker};
use crate::store;

pub struct Reconciler {
    pool: PgPool,
    rules: Arc<Vec<SyncRule>>,
    sources: Arc<Sources>,
    worker: String,
    batch: i64,
    lease: Duration,
    max_attempts: u32,
    statistics: Statistics,
    /// Rung after a batch queues writes: this process's writer lanes wake at once, other
    /// replicas' on a debounced NOTIFY.
    outbox: Doorbell,
}

/// How often a standing-by replica tries to take the reconciler over.
const STANDBY: Duration = Duration::from_secs(1);

impl Reconciler {
    pub fn new(settings: &Settings, pool: PgPool, sources: Arc<Sources>, outbox: Doorbell) -> Self {
        Reconciler {
            pool,
            rules: Arc::new(settings.sync.clone()),
            sources,
            worker: format!("{}/reconciler", settings.instance.id),
            batch: i64::from(settings.reconciler.batch.get()),
            lease: settings.journal.lease,
            max_attempts: settings.journal.max_attempts.get(),
            statistics: Statistics,
            outbox,
        }
    }

    /// Runs until `shutdown`; a batch in progress finishes first. Only one replica decides
    /// at a time (a session advisory lock, taken over when its holder dies): a linked pair's
    /// two sides decided at once by two replicas would each miss the other's edit, and a
    /// same-field conflict would swap the values instead of being resolved.
    pub async fn run(self, waker: Waker, shutdown: CancellationToken) {
        tracing::info!(worker = %self.worker, "reconciler started");
        let statistics = self.statistics.keep_fresh(&self.pool, &shutdown);
        tokio::join!(self.decide(waker, &shutdown), statistics);
        tracing::info!("reconciler stopped");
    }

    /// Decides batch after batch while this replica holds the reconciler's lock. The next
    /// batch is claimed while one is decided: a claim only takes rows whose record has no
    /// earlier change unsettled, so it never takes a record of the batch being decided, and
    /// the claimed batch gathers its context only after that batch has committed.
    async fn decide(&self, mut waker: Waker, shutdown: &CancellationToken) {
        let mut lock = PollerLock::named(self.pool.clone(), "hubsync-reconciler".into());
        let mut next: Option<Claimed> = None;
        // rows of batches the database failed under, handed back once it answers again
        let mut stranded: Vec<i64> = Vec::new();
        while !shutdown.is_cancelled() {
            if !stranded.is_empty() && self.hand_back_ids(&stranded).await {
                stranded.clear();
            }
            if !lock.hold().await {
                self.hand_back(next.take()).await;
                // another replica decides; stand by and try again
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(STANDBY) => {}
                }
                continue;
            }
            let batch = match next.take() {
                Some(batch) => Ok(Some(batch)),
                None => guarded(self.claim()).await,
            };
            let failed = match batch {
                Ok(None) => {
                    waker.wait(shutdown).await;
                    None
                }
                Ok(Some(batch)) => {
                    let ids = batch.ids();
                    let (decided, claimed) =
                        tokio::join!(guarded(self.decide_batch(batch)), guarded(self.claim()));
                    match claimed {
                        Ok(claimed) => next = claimed,
                        Err(err) => warn_failed(err.as_ref()),
                    }
                    let decided = decided.err();
                    if decided.as_deref().is_some_and(outage) {
                        stranded.extend(ids);
                    }
                    decided
                }
                Err(err) => Some(err),
            };
            if let Some(err) = failed {
                warn_failed(err.as_ref());
                tokio::select! {
                    _ = shutdown.cancelled() => {}
                    _ = tokio::time::sleep(Duration::from_secs(1)) => {}
                }
            }
        }
        self.hand_back(next).await;
        lock.release().await;
    }

    /// Processes one batch; returns how many rows it claimed.
    pub async fn step(&self) -> Result<usize, ReconcileError> {
        let Some(batch) = self.claim().await? else { return Ok(0) };
        let claimed = batch.claimed;
        self.decide_batch(batch).await?;
        Ok(claimed)
    }

    /// Claims the next batch: its leaders and the later changes folded into them. `None`
    /// when nothing is due.
    async fn claim(&self) -> Result<Option<Claimed>, ReconcileError> {
        let claim = store::journal::claim_within(
            &self.pool,
            &self.worker,
            self.batch,
            self.lease,
            self.max_attempts,
        )
        .await?;
        crate::metrics::count_rescues("journal", claim.rescued, claim.dead);
        let leaders = claim.rows;
        if leaders.is_empty() {
            return Ok(None);
        }
        let followers =
            store::journal::claim_followers(&self.pool, &self.worker, &leaders, self.lease).await?;
        let claimed = leaders.len() + followers.len();
        let (rows, folded, unfolded) = fold(leaders, followers);
        let again = Duration::ZERO;
        store::journal::release(&self.pool, &self.worker, &unfolded, again, "queued_behind")
            .await?;
        Ok(Some(Claimed { rows, folded, claimed }))
    }

    /// Gathers, decides and commits a claimed batch.
    async fn decide_batch(&self, batch: Claimed) -> Result<(), ReconcileError> {
        let Claimed { rows, folded, .. } = batch;
        let mut context = match gather(&self.sources, &self.rules, &self.pool, &rows).await {
            Ok(context) => context,
            Err(err) => return self.reads_failed(&rows, &folded, &err).await,
        };
        let plans = plan_batch(&self.rules, &rows, &mut context);
        let by_id: HashMap<i64, JournalRow> = rows.into_iter().map(|r| (r.id, r)).collect();
        let batch = persist::Batch { worker: &self.worker, rows: &by_id, folded: &folded };
        let committed = persist::commit(&self.pool, batch, plans, self.max_attempts).await?;
        if committed.items > 0 {
            self.outbox.ring();
        }
        record_metrics(&committed);
        Ok(())
    }

    /// Returns a claimed batch undecided (at shutdown, or when another replica took the
    /// reconciler over), so it is due again at once rather than when its lease runs out.
    async fn hand_back(&self, batch: Option<Claimed>) {
        let Some(batch) = batch else { return };
        self.hand_back_ids(&batch.ids()).await;
    }

    /// Returns claimed rows undecided, their attempts unspent; false if the database did
    /// not answer (their lease expires if it never does).
    async fn hand_back_ids(&self, ids: &[i64]) -> bool {
        let released =
            store::journal::release(&self.pool, &self.worker, ids, Duration::ZERO, "handed_back")
                .await;
        if let Err(err) = &released {
            let error = report(err);
            tracing::warn!(%error, rows = ids.len(), "claimed rows not handed back yet");
        }
        released.is_ok()
    }

    /// A batch whose reads failed. A permanent failure fails every row for an operator;
    /// anything else (an API or the database down, a credential rejected) is no fault of
    /// the rows: they wait, their attempts unspent, and are read again later.
    async fn reads_failed(
        &self,
        rows: &[JournalRow],
        folded: &HashMap<i64, Vec<i64>>,
        err: &ReconcileError,
    ) -> Result<(), ReconcileError> {
        let message = report(err);
        let kind = err.kind();
        tracing::warn!(rows = rows.len(), error = %message, kind = kind.as_str(), "reconciler reads failed");
        let followers: Vec<i64> = folded.values().flatten().copied().collect();
        let again = Duration::from_secs(1);
        if kind == ErrorKind::Permanent {
            for row in rows {
                store::journal::fail(
                    &self.pool,
                    &self.worker,
                    row,
                    kind,
                    &message,
                    self.max_attempts,
                )
                .await?;
            }
            store::journal::release(&self.pool, &self.worker, &followers, again, "retry_scheduled")
                .await?;
            return Ok(());
        }
        let delay = err.wait_hint().unwrap_or(READ_RETRY).max(again);
        let ids: Vec<i64> = rows.iter().map(|row| row.id).chain(followers).collect();
        store::journal::postpone(
            &self.pool,
            &self.worker,
            &ids,
            delay,
            kind,
            &message,
            "read_failed",
        )
        .await?;
        Ok(())
    }
}

/// How long rows whose reads failed through no fault of theirs wait before they are read
/// again, unless the API asked for longer.
const READ_RETRY: Duration = Duration::from_secs(5);

/// Decides every row of a batch, in order, one plan per row. A row of several blocks is
/// decided under each; if any block must wait or fails, the whole row does.
pub fn plan_batch(
    rules: &[SyncRule],
    rows: &[JournalRow],
    context: &mut super::context::Context,
) -> Vec<RowPlan> {
    // merges first (those journalled as such, and ids read back under a merged record), so
    // a surviving record in the same batch finds its new link
    let (merges, others): (Vec<&JournalRow>, Vec<&JournalRow>) = rows.iter().partition(|row| {
        matches!(row.kind, journal::ChangeKind::Merge { .. })
            || super::row::merged_into(row, context).is_some()
    });
    merges.into_iter().chain(others).map(|row| plan_one(rules, row, context)).collect()
}

pub(super) fn plan_one(
    rules: &[SyncRule],
    row: &JournalRow,
    context: &mut super::context::Context,
) -> RowPlan {
    let mut plans: Vec<RowPlan> =
        rules_of(rules, row).into_iter().map(|rule| plan_row(rule, rules, row, context)).collect();
    if plans.is_empty() {
        return RowPlan {
            journal_id: row.id,
            sync_name: String::new(),
            outcome: Outcome::Complete(Completion::Skipped, "no_sync_block"),
            items: Vec::new(),
            state: Vec::new(),
            new_link: None,
            conflicts: Vec::new(),
            forget: Vec::new(),
        };
    }
    let blocking =
        plans.iter().position(|p| matches!(p.outcome, Outcome::Defer(_) | Outcome::Fail(..)));
    if let Some(index) = blocking {
        return plans.swap_remove(index);
    }
    let mut first = plans.remove(0);
    for other in plans {
        first.items.extend(other.items);
        first.conflicts.extend(other.conflicts);
        first.state.extend(other.state);
        first.forget.extend(other.forget);
    }
    first
}

/// Folds each record's later upserts into its first claimed row while they touch other
/// properties than those already folded (a webhook per property of one edit); a change to
/// a property already seen ends the fold, so every value is still decided in order.
/// Returns the rows to decide, per row the ids folded in, and the followers not folded.
fn fold(
    leaders: Vec<JournalRow>,
    followers: Vec<JournalRow>,
) -> (Vec<JournalRow>, HashMap<i64, Vec<i64>>, Vec<i64>) {
    let key = |r: &JournalRow| (r.connector.clone(), r.object_type.clone(), r.record_id.clone());
    let mut index: HashMap<(String, String, String), usize> = HashMap::new();
    for (at, row) in leaders.iter().enumerate() {
        index.insert(key(row), at);
    }
    let mut rows = leaders;
    let mut folded: HashMap<i64, Vec<i64>> = HashMap::new();
    let mut unfolded = Vec::new();
    let mut ended: std::collections::HashSet<usize> = Default::default();
    for follower in followers {
        let Some(&at) = index.get(&key(&follower)) else {
            unfolded.push(follower.id);
            continue;
        };
        let leader = &mut rows[at];
        if follower.id == leader.id {
            continue;
        }
        let overlaps = follower.properties.keys().any(|p| leader.properties.contains_key(p));
        if overlaps || ended.contains(&at) {
            ended.insert(at);
            unfolded.push(follower.id);
            continue;
        }
        leader.properties.extend(follower.properties);
        leader.occurred_at = leader.occurred_at.max(follower.occurred_at);
        if follower.source == "webhook" {
            // a webhook's one property needs the record read again
            leader.source = follower.source;
        }
        folded.entry(leader.id).or_default().push(follower.id);
    }
    (rows, folded, unfolded)
}

/// A claimed batch: the rows to decide, each with the ids of the later changes folded into
/// it, and how many rows the claim took in all.
struct Claimed {
    rows: Vec<JournalRow>,
    folded: HashMap<i64, Vec<i64>>,
    claimed: usize,
}

impl Claimed {
    /// Every row the batch holds: the rows to decide and those folded into them.
    fn ids(&self) -> Vec<i64> {
        let folded = self.folded.values().flatten().copied();
        self.rows.iter().map(|row| row.id).chain(folded).collect()
    }
}

/// A batch failed because the database did (not a bug, not a panic): its rows are no worse
/// for it and go back to the queue with their attempts unspent.
fn outage(err: &(dyn std::error::Error + Send + Sync + 'static)) -> bool {
    err.downcast_ref::<ReconcileError>().is_some_and(|err| {
        matches!(err, ReconcileError::Database(_) | ReconcileError::Journal(_))
            && err.kind() == ErrorKind::Transient
    })
}

fn warn_failed(err: &(dyn std::error::Error + 'static)) {
    tracing::warn!(error = %report(err), "reconciler batch failed; retrying");
}

fn record_metrics(committed: &Committed) {
    for ((sync, reason), count) in &committed.reasons {
        count_decisions(sync, reason, *count);
    }
    for ((sync, outcome), count) in &committed.conflicts {
        let labels = [("sync", sync.clone()), ("outcome", outcome.to_string())];
        metrics::counter!(crate::metrics::CONFLICTS, &labels).increment(*count);
    }
}

/// Counts `n` rows of sync block `sync` decided with `reason`.
pub(super) fn count_decisions(sync: &str, reason: &str, n: u64) {
    let labels = [("sync", sync.to_string()), ("decision", reason.to_string())];
    metrics::counter!(crate::metrics::DECISIONS, &labels).increment(n);
}
