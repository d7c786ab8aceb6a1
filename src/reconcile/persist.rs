//! Commits a batch's decisions in one transaction: merges, new links, record state,
//! conflicts, outbox items and the journal rows' outcomes.

use std::collections::HashMap;
use std::time::Duration;

use sqlx::PgPool;

use super::error::ReconcileError;
use super::row::{ConflictRecord, Forget, Outcome, RowPlan};
use crate::config::Side;
use crate::journal::{Completion, JournalRow};
use crate::store;
use crate::store::conflicts::{self, NewConflict};
use crate::store::outbox::{self, NewItem};
use crate::store::{links, record_state as state};

/// How long a row waiting for a write in flight waits before it is tried again.
const DEFER: Duration = Duration::from_millis(300);

/// What a committed batch did, for metrics and tests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Committed {
    pub items: usize,
    pub deferred: usize,
    pub failed: usize,
    /// `(sync, reason)` → rows.
    pub reasons: HashMap<(String, &'static str), u64>,
    /// `(sync, outcome)` → same-field conflicts recorded; the outcome is the winning side,
    /// or `held` when an operator must decide.
    pub conflicts: HashMap<(String, &'static str), u64>,
}

/// The claimed rows a batch decided.
pub struct Batch<'a> {
    pub worker: &'a str,
    /// The rows decided, by id.
    pub rows: &'a HashMap<i64, JournalRow>,
    /// Later changes of the same record folded into a decided row, by that row's id: they
    /// share its outcome.
    pub folded: &'a HashMap<i64, Vec<i64>>,
}

/// Commits one plan per row.
pub async fn commit(
    pool: &PgPool,
    batch: Batch<'_>,
    mut plans: Vec<RowPlan>,
    max_attempts: u32,
) -> Result<Committed, ReconcileError> {
    let Batch { worker, rows, folded } = batch;
    let mut tx = pool.begin().await?;
    for plan in plans.iter_mut() {
        settle_merge(&mut tx, plan).await?;
        link_match(&mut tx, plan).await?;
    }
    let state: Vec<_> = plans.iter().flat_map(|p| p.state.iter().cloned()).collect();
    state::save_many(&mut *tx, &state).await?;
    let mut conflicts: HashMap<(String, &'static str), u64> = HashMap::new();
    for plan in plans.iter().filter(|p| !matches!(p.outcome, Outcome::Defer(_))) {
        for conflict in &plan.conflicts {
            insert_conflict(&mut tx, &plan.sync_name, plan.journal_id, conflict).await?;
            let outcome = conflict.winner.map_or("held", Side::as_str);
            *conflicts.entry((plan.sync_name.clone(), outcome)).or_default() += 1;
        }
    }
    let items: Vec<NewItem> = plans
        .iter()
        .filter(|p| !matches!(p.outcome, Outcome::Defer(_) | Outcome::Fail(..)))
        .flat_map(|p| p.items.iter().cloned())
        .collect();
    for plan in plans.iter().filter(|p| !matches!(p.outcome, Outcome::Defer(_))) {
        for forget in &plan.forget {
            forget_pair(&mut tx, forget).await?;
        }
    }
    outbox::insert_many(&mut tx, &items).await?;
    let committed = settle_rows(&mut tx, worker, rows, &plans, max_attempts).await?;
    settle_folded(&mut tx, worker, folded, &plans).await?;
    tx.commit().await?;
    Ok(Committed { items: items.len(), conflicts, ..committed })
}

/// A privacy deletion: both records' values leave hubsync's copies (journal, outbox,
/// conflicts, the pair's record state), before the plan's own write is queued.
async fn forget_pair(tx: &mut sqlx::PgConnection, forget: &Forget) -> Result<(), ReconcileError> {
    for (side, connector, object, id) in &forget.records {
        store::journal::forget_values(&mut *tx, *side, connector, object, id).await?;
        outbox::forget_values(&mut *tx, &forget.sync_name, *side, id).await?;
        conflicts::forget_values(&mut *tx, &forget.sync_name, *side, id).await?;
    }
    if let Some(link_id) = forget.link_id {
        state::forget(&mut *tx, link_id).await?;
    }
    Ok(())
}

/// A merge moves the merged record's link to the survivor; if both were linked, an
/// operator must decide which external record stays.
async fn settle_merge(
    tx: &mut sqlx::PgConnection,
    plan: &mut RowPlan,
) -> Result<(), ReconcileError> {
    let Outcome::Merge { side, merged, into } = &plan.outcome else { return Ok(()) };
    let moved = links::redirect(&mut *tx, &plan.sync_name, *side, merged, into).await?;
    plan.outcome = if moved.is_some() {
        Outcome::Complete(Completion::Applied, "merge_relinked")
    } else if links::find(&mut *tx, &plan.sync_name, *side, merged).await?.is_some() {
        Outcome::Complete(Completion::Conflict, "merge_both_linked")
    } else {
        Outcome::Complete(Completion::Skipped, "merge_unlinked")
    };
    Ok(())
}

/// Links a matched pair; if another replica linked either record meanwhile, the row waits.
async fn link_match(tx: &mut sqlx::PgConnection, plan: &mut RowPlan) -> Result<(), ReconcileError> {
    let Some((hubspot_id, external_id, state)) = plan.new_link.take() else { return Ok(()) };
    if matches!(plan.outcome, Outcome::Defer(_) | Outcome::Fail(..)) {
        return Ok(());
    }
    match links::link(&mut *tx, &plan.sync_name, &hubspot_id, &external_id).await? {
        Some(link) => {
            plan.state.extend(state.into_iter().map(|(s, f, k)| (link.id, s, f, k)));
        }
        None => {
            plan.outcome = Outcome::Defer("link_taken");
            plan.items.clear();
        }
    }
    Ok(())
}

async fn insert_conflict(
    tx: &mut sqlx::PgConnection,
    sync_name: &str,
    journal_id: i64,
    conflict: &ConflictRecord,
) -> Result<(), ReconcileError> {
    let text = |v: &serde_json::Value| crate::rules::transform::as_text(v);
    let status = if conflict.winner.is_some() { "auto" } else { "open" };
    let record = NewConflict {
        sync_name,
        hubspot_id: &conflict.hubspot_id,
        external_id: conflict.external_id.as_deref(),
        hubspot_field: &conflict.hubspot_field,
        external_field: &conflict.external_field,
        hubspot_value: text(&conflict.hubspot_value),
        external_value: text(&conflict.external_value),
        hubspot_as_external: conflict.hubspot_as_external.as_ref().map(text),
        external_as_hubspot: conflict.external_as_hubspot.as_ref().map(text),
        hubspot_at: conflict.hubspot_at,
        external_at: conflict.external_at,
        policy: policy_name(conflict.policy),
        winner: conflict.winner.map(Side::as_str),
        status,
        journal_id,
    };
    conflicts::insert(&mut *tx, &record).await?;
    Ok(())
}

/// Rows folded into a decided row share its outcome; if it must wait or failed, they are
/// handed back to be decided again after it.
async fn settle_folded(
    tx: &mut sqlx::PgConnection,
    worker: &str,
    folded: &HashMap<i64, Vec<i64>>,
    plans: &[RowPlan],
) -> Result<(), ReconcileError> {
    let mut done: Vec<(i64, Completion, &str)> = Vec::new();
    let mut released: Vec<i64> = Vec::new();
    for plan in plans {
        let Some(ids) = folded.get(&plan.journal_id) else { continue };
        match &plan.outcome {
            Outcome::Complete(completion, reason) => {
                done.extend(ids.iter().map(|id| (*id, *completion, *reason)));
            }
            _ => released.extend(ids),
        }
    }
    store::journal::complete_many(&mut *tx, worker, &done).await?;
    store::journal::release(&mut *tx, worker, &released, DEFER, "awaiting_write").await?;
    Ok(())
}

async fn settle_rows(
    tx: &mut sqlx::PgConnection,
    worker: &str,
    rows: &HashMap<i64, JournalRow>,
    plans: &[RowPlan],
    max_attempts: u32,
) -> Result<Committed, ReconcileError> {
    let mut committed = Committed::default();
    let mut done: Vec<(i64, Completion, &str)> = Vec::new();
    let mut deferred: Vec<i64> = Vec::new();
    for plan in plans {
        match &plan.outcome {
            Outcome::Complete(completion, reason) => {
                done.push((plan.journal_id, *completion, reason));
                *committed.reasons.entry((plan.sync_name.clone(), reason)).or_default() += 1;
            }
            Outcome::Defer(_) => deferred.push(plan.journal_id),
            Outcome::Fail(kind, message) => {
                committed.failed += 1;
                *committed.reasons.entry((plan.sync_name.clone(), "failed")).or_default() += 1;
                if let Some(row) = rows.get(&plan.journal_id) {
                    store::journal::fail(&mut *tx, worker, row, *kind, message, max_attempts)
                        .await?;
                }
            }
            Outcome::Merge { .. } => unreachable!("merges are settled before the rows"),
        }
    }
    store::journal::complete_many(&mut *tx, worker, &done).await?;
    store::journal::release(&mut *tx, worker, &deferred, DEFER, "awaiting_write").await?;
    committed.deferred = deferred.len();
    Ok(committed)
}

/// The policy as the config spells it, e.g. `newest_wins`.
pub fn policy_name(policy: crate::config::ConflictPolicy) -> String {
    let value = serde_json::to_value(policy).unwrap_or_default();
    value.as_str().unwrap_or_default().to_string()
}
