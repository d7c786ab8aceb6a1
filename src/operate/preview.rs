//! Plan mode: runs the reconciler over what is waiting — pending journal rows and,
//! optionally, the sources' changes since a time, read but not journalled — and reports
//! what it would create, update, delete and hold, per sync block, writing nothing.

use std::collections::{BTreeMap, HashSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use crate::config::{Settings, Side, SyncRule};
use crate::connector::{ChangeCursor, ChangeKind as SourceKind};
use crate::journal::{Arrival, ChangeKind, JournalRow, NewChange, Status};
use crate::reconcile::ReconcileError;
use crate::reconcile::context::Context;
use crate::reconcile::gather::{Sources, gather, rules_of};
use crate::reconcile::row::{Outcome, RowPlan};
use crate::reconcile::worker::plan_batch;
use crate::rules::feeds::{PollerSpec, record_properties};
use crate::store;
use crate::store::journal::JournalFilter;
use crate::store::outbox::Operation;

/// Change-feed pages read per object at most, so a plan of a huge backlog still ends.
const MAX_PAGES: usize = 1_000;

/// What one sync block would do.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct BlockPlan {
    pub create_on_hubspot: u64,
    pub create_on_external: u64,
    pub update_on_hubspot: u64,
    pub update_on_external: u64,
    pub delete_on_hubspot: u64,
    pub delete_on_external: u64,
    pub associate: u64,
    /// Conflicts a policy settles, by winner.
    pub conflicts_won_by_hubspot: u64,
    pub conflicts_won_by_external: u64,
    /// Conflicts held for an operator (`hold`).
    pub conflicts_held: u64,
    /// Changes that would fail (a value with no mapping, no key to create with).
    pub failures: u64,
    /// Changes that move nothing: echoes, stale, unchanged, out of scope, flagged deletes.
    pub no_write: u64,
    /// Later changes of records with an earlier change planned: decided once it lands.
    pub queued_behind: u64,
}

/// The plan of every block, and what it was made from.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Preview {
    pub pending_rows: usize,
    pub source_changes: usize,
    pub blocks: BTreeMap<String, BlockPlan>,
}

/// Plans the pending journal rows of `blocks` (every block when empty) and, with `since`,
/// the sources' changes since then.
pub async fn preview(
    settings: &Settings,
    pool: &PgPool,
    sources: &Sources,
    since: Option<DateTime<Utc>>,
    blocks: &[String],
) -> Result<Preview, ReconcileError> {
    let rules: Vec<SyncRule> = settings
        .sync
        .iter()
        .filter(|r| blocks.is_empty() || blocks.contains(&r.name))
        .cloned()
        .collect();
    let filter = JournalFilter { statuses: vec![Status::Pending], ..Default::default() };
    let mut rows = store::journal::query(pool, &filter, 1_000_000).await?;
    let mut preview = Preview { pending_rows: rows.len(), ..Default::default() };
    if let Some(since) = since {
        let mut read = read_sources(settings, sources, &rules, since).await?;
        let keys: Vec<String> = read.iter().map(|r| r.dedup_key.clone()).collect();
        let journalled: HashSet<String> =
            store::journal::journalled(pool, &keys).await?.into_iter().collect();
        read.retain(|row| !journalled.contains(&row.dedup_key));
        preview.source_changes = read.len();
        rows.extend(read);
    }
    rows.retain(|row| !rules_of(&rules, row).is_empty());
    rows.sort_by_key(|row| (row.occurred_at, row.id));
    let rows = first_per_record(rows, &mut preview, &rules);
    let mut busy = HashSet::new();
    for chunk in rows.chunks(settings.reconciler.batch.get() as usize) {
        let mut context: Context = gather(sources, &rules, pool, chunk).await?;
        context.busy.extend(busy.iter().cloned());
        for plan in plan_batch(&rules, chunk, &mut context) {
            tally(&mut preview, &plan);
        }
        busy = context.busy;
    }
    Ok(preview)
}

/// Only a record's earliest change is decided now; the rest wait for its write.
fn first_per_record(
    rows: Vec<JournalRow>,
    preview: &mut Preview,
    rules: &[SyncRule],
) -> Vec<JournalRow> {
    let mut seen = HashSet::new();
    let mut first = Vec::new();
    for row in rows {
        let key = (row.side, row.connector.clone(), row.object_type.clone(), row.record_id.clone());
        if seen.insert(key) {
            first.push(row);
        } else {
            for rule in rules_of(rules, &row) {
                preview.blocks.entry(rule.name.clone()).or_default().queued_behind += 1;
            }
        }
    }
    first
}

fn tally(preview: &mut Preview, plan: &RowPlan) {
    let block = preview.blocks.entry(plan.sync_name.clone()).or_default();
    match &plan.outcome {
        Outcome::Fail(..) => block.failures += 1,
        Outcome::Defer(_) => block.queued_behind += 1,
        Outcome::Complete(..) | Outcome::Merge { .. }
            if plan.items.is_empty() && plan.conflicts.is_empty() =>
        {
            block.no_write += 1
        }
        _ => {}
    }
    if matches!(plan.outcome, Outcome::Fail(..) | Outcome::Defer(_)) {
        return;
    }
    for item in &plan.items {
        let counter = match (item.operation, item.target_side) {
            (Operation::Upsert, Side::Hubspot) => &mut block.create_on_hubspot,
            (Operation::Upsert, Side::External) => &mut block.create_on_external,
            (Operation::Update, Side::Hubspot) => &mut block.update_on_hubspot,
            (Operation::Update, Side::External) => &mut block.update_on_external,
            (Operation::Archive, Side::Hubspot) => &mut block.delete_on_hubspot,
            (Operation::Archive, Side::External) => &mut block.delete_on_external,
            (Operation::Associate, _) => &mut block.associate,
        };
        *counter += 1;
    }
    for conflict in &plan.conflicts {
        match conflict.winner {
            Some(Side::Hubspot) => block.conflicts_won_by_hubspot += 1,
            Some(Side::External) => block.conflicts_won_by_external += 1,
            None => block.conflicts_held += 1,
        }
    }
}

/// Reads the change feeds and deletes of the blocks' objects since `since`, as journal
/// rows that exist only in memory (negative ids).
async fn read_sources(
    settings: &Settings,
    sources: &Sources,
    rules: &[SyncRule],
    since: DateTime<Utc>,
) -> Result<Vec<JournalRow>, ReconcileError> {
    let mut changes: Vec<NewChange> = Vec::new();
    for spec in crate::rules::feeds::specs(settings) {
        if !rules.iter().any(|r| crate::rules::reads(r, spec.side, &spec.connector, &spec.object)) {
            continue;
        }
        changes.extend(read_spec(sources, &spec, since).await?);
    }
    let mut seen = HashSet::new();
    changes.retain(|change| seen.insert(change.dedup_key.clone()));
    Ok(changes.into_iter().enumerate().map(|(i, c)| in_memory(-(i as i64) - 1, c)).collect())
}

async fn read_spec(
    sources: &Sources,
    spec: &PollerSpec,
    since: DateTime<Utc>,
) -> Result<Vec<NewChange>, ReconcileError> {
    let api = sources.api(&spec.connector);
    let failed = ReconcileError::connector(&spec.connector);
    let mut cursor =
        ChangeCursor { modified_ms: since.timestamp_millis(), id: String::new(), resume: None };
    let mut changes = Vec::new();
    for _ in 0..MAX_PAGES {
        let page = api
            .read_changes(&spec.object, &cursor, &spec.fields)
            .await
            .map_err(ReconcileError::connector(&spec.connector))?;
        for change in &page.changes {
            let (kind, properties) = match &change.kind {
                SourceKind::Upsert => (
                    ChangeKind::Upsert,
                    change.record.as_ref().map(record_properties).unwrap_or_default(),
                ),
                SourceKind::Delete => (ChangeKind::Delete, Default::default()),
                SourceKind::Merge { into } => {
                    (ChangeKind::Merge { into: into.clone() }, Default::default())
                }
            };
            changes.push(spec.observed(
                &change.id,
                kind,
                properties,
                change.modified_at,
                Arrival::Poll,
            ));
        }
        cursor = page.next;
        if !page.more {
            break;
        }
    }
    for deleted in api.read_deletes(&spec.object, since).await.map_err(failed)? {
        let kind = ChangeKind::Delete;
        changes.push(spec.observed(
            &deleted.id,
            kind,
            Default::default(),
            deleted.deleted_at,
            Arrival::Poll,
        ));
    }
    Ok(changes)
}

fn in_memory(id: i64, change: NewChange) -> JournalRow {
    JournalRow {
        id,
        side: change.side,
        connector: change.connector,
        object_type: change.object_type,
        record_id: change.record_id,
        kind: change.kind,
        properties: change.properties,
        occurred_at: change.occurred_at,
        received_at: Utc::now(),
        source: change.source.as_str().to_string(),
        dedup_key: change.dedup_key,
        status: Status::Pending,
        attempts: 0,
        next_attempt_at: Utc::now(),
        claimed_by: None,
        error_kind: None,
        last_error: None,
        reason: None,
    }
}
