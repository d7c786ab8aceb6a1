//! Settles, as a poller or the webhook receiver journals them, the changes the reconciler
//! would only drop: a linked record read back with exactly what hubsync knows of it (the
//! echo of its own write, an unchanged or a stale read). They are journalled already
//! settled, with the reason the reconciler would give, and never claimed: about half of all
//! rows in a two-way sync.
//!
//! The verdict comes from the reconciler's own decision code on the same stored context
//! (links, record state, writes in flight). Only a decision that changes nothing settles a
//! row here; it commutes with whatever the reconciler commits meanwhile, so deciding it
//! outside the reconciler's lock is safe. Anything else (an edit, a record still unlinked,
//! one with an earlier change queued or a write in flight, a block that needs an API read
//! to decide) is journalled pending as before.

use std::collections::HashMap;
use std::sync::Arc;

use chrono::Utc;
use sqlx::PgPool;

use super::context::Context;
use super::error::ReconcileError;
use super::gather::{linked, load_busy, record_refs};
use super::row::{Outcome, RowPlan};
use super::worker::{count_decisions, plan_one};
use crate::config::{Side, SyncRule};
use crate::journal::{Arrival, ChangeKind, Completion, JournalRow, NewChange, Status};
use crate::rules;
use crate::store::{self, links, record_state as state};

/// A change settled as it is journalled: the status and the reconciler's reason.
pub type Settled = (Completion, &'static str);

/// Decides, for a page a poller is about to journal, which changes are already settled.
pub struct Presettle {
    rules: Arc<Vec<SyncRule>>,
}

impl Presettle {
    pub fn new(rules: Vec<SyncRule>) -> Self {
        Presettle { rules: Arc::new(rules) }
    }

    /// One verdict per change, in order: `Some` for a change the reconciler would drop.
    pub async fn verdicts(
        &self,
        pool: &PgPool,
        changes: &[NewChange],
    ) -> Result<Vec<Option<Settled>>, ReconcileError> {
        let mut verdicts = vec![None; changes.len()];
        let rows: Vec<(usize, JournalRow)> = changes
            .iter()
            .enumerate()
            .filter(|(_, change)| self.decidable(change))
            .map(|(at, change)| (at, row_of(at, change)))
            .collect();
        let rows = without_repeats(rows);
        if rows.is_empty() {
            return Ok(verdicts);
        }
        let mut context = Context::default();
        let refs = record_refs(&self.rules, rows.iter().map(|(_, row)| row));
        for link in links::find_many(pool, &refs).await? {
            context.add_link(link);
        }
        // a record still unlinked is matched or created: work, whatever it holds
        let rows: Vec<(usize, JournalRow)> =
            rows.into_iter().filter(|(_, row)| linked(&self.rules, row, &context)).collect();
        if rows.is_empty() {
            return Ok(verdicts);
        }
        let rows = not_queued(pool, rows).await?;
        let plain: Vec<JournalRow> = rows.iter().map(|(_, row)| row.clone()).collect();
        load_busy(pool, &self.rules, &plain, &mut context).await?;
        let link_ids: Vec<i64> = context.links.values().map(|l| l.id).collect();
        context.states = state::load_many(pool, &link_ids).await?;
        for (at, row) in rows {
            let plan = plan_one(&self.rules, &row, &mut context);
            verdicts[at] = settles(&plan);
            if let Some((_, reason)) = verdicts[at] {
                count_decisions(&plan.sync_name, reason, 1);
            }
        }
        Ok(verdicts)
    }

    /// A change the reconciler would decide from stored state alone, under blocks that
    /// need no API read: a polled record in full, or a webhook's property change (decided
    /// on that property, as the reconciler decides a linked record's, unless a filter must
    /// see the whole record). No block may map owners (an API read), and a polled HubSpot
    /// record's associations are read per record; a webhook has association events of its
    /// own.
    fn decidable(&self, change: &NewChange) -> bool {
        let polled = match change.source {
            Arrival::Poll => true,
            Arrival::Webhook => false,
            _ => return false,
        };
        if change.kind != ChangeKind::Upsert || change.properties.is_empty() {
            return false;
        }
        let reads = |rule: &&SyncRule| {
            rules::reads(rule, change.side, &change.connector, &change.object_type)
        };
        let rules: Vec<&SyncRule> = self.rules.iter().filter(reads).collect();
        !rules.is_empty()
            && rules.iter().all(|rule| {
                let owners = rules::maps_owners(rule);
                let associations =
                    polled && change.side == Side::Hubspot && !rule.associations.is_empty();
                let filtered = !polled && rule.filter.iter().any(|p| p.side == change.side);
                !owners && !associations && !filtered
            })
    }
}

/// Which changes are settled already, by `presettle`'s [`Presettle::verdicts`]. When the
/// verdicts cannot be had now, every change is pending: the reconciler then decides them
/// as it always would. Ingest calls this through its settle hook, which `app` plugs in.
pub async fn settled(
    presettle: &Presettle,
    pool: &PgPool,
    changes: &[NewChange],
) -> Vec<Option<Settled>> {
    match presettle.verdicts(pool, changes).await {
        Ok(settled) => settled,
        Err(err) => {
            let error = crate::error_kind::report(&err);
            tracing::warn!(%error, "could not settle changes as they arrive; journalling them pending");
            vec![None; changes.len()]
        }
    }
}

/// The verdict of a plan that changes nothing: no write, no state, no conflict, no link.
fn settles(plan: &RowPlan) -> Option<Settled> {
    let quiet = plan.items.is_empty()
        && plan.state.is_empty()
        && plan.conflicts.is_empty()
        && plan.new_link.is_none();
    match plan.outcome {
        Outcome::Complete(completion @ (Completion::Echo | Completion::Stale), reason)
        | Outcome::Complete(completion @ Completion::Applied, reason @ "unchanged")
            if quiet =>
        {
            Some((completion, reason))
        }
        _ => None,
    }
}

/// The change as the reconciler would claim it.
fn row_of(at: usize, change: &NewChange) -> JournalRow {
    let now = Utc::now();
    JournalRow {
        id: -(at as i64) - 1,
        side: change.side,
        connector: change.connector.clone(),
        object_type: change.object_type.clone(),
        record_id: change.record_id.clone(),
        kind: change.kind.clone(),
        properties: change.properties.clone(),
        occurred_at: change.occurred_at,
        received_at: now,
        source: change.source.as_str().to_string(),
        dedup_key: change.dedup_key.clone(),
        status: Status::Pending,
        attempts: 0,
        next_attempt_at: now,
        claimed_by: None,
        error_kind: None,
        last_error: None,
        reason: None,
    }
}

/// A record changed twice in one page is left to the reconciler, which decides in order.
fn without_repeats(rows: Vec<(usize, JournalRow)>) -> Vec<(usize, JournalRow)> {
    let mut seen: HashMap<(String, String, String), usize> = HashMap::new();
    for (_, row) in &rows {
        let key = (row.connector.clone(), row.object_type.clone(), row.record_id.clone());
        *seen.entry(key).or_default() += 1;
    }
    rows.into_iter()
        .filter(|(_, row)| {
            let key = (row.connector.clone(), row.object_type.clone(), row.record_id.clone());
            seen[&key] == 1
        })
        .collect()
}

/// Drops the rows of records with a change still queued: the reconciler decides a record's
/// changes in order, and this one comes after those.
async fn not_queued(
    pool: &PgPool,
    rows: Vec<(usize, JournalRow)>,
) -> Result<Vec<(usize, JournalRow)>, ReconcileError> {
    let connectors: Vec<&str> = rows.iter().map(|(_, r)| r.connector.as_str()).collect();
    let objects: Vec<&str> = rows.iter().map(|(_, r)| r.object_type.as_str()).collect();
    let records: Vec<&str> = rows.iter().map(|(_, r)| r.record_id.as_str()).collect();
    // a probe of the unsettled rows' per-record index for each record
    let queued = store::journal::queued(pool, &connectors, &objects, &records).await?;
    let queued: std::collections::HashSet<(String, String, String)> = queued.into_iter().collect();
    Ok(rows
        .into_iter()
        .filter(|(_, r)| {
            !queued.contains(&(r.connector.clone(), r.object_type.clone(), r.record_id.clone()))
        })
        .collect())
}
