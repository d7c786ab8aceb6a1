//! Deciding one journal row under one sync block: identity (linked, matched or new), the
//! per-field decisions against record state, conflicts, and the write intents that follow.
//! Pure over the batch's [`Context`], which it updates so later rows see earlier decisions.

mod associations;
mod conflict;
mod create;
mod delete;
mod fields;
mod identity;
mod link;
mod privacy;
mod update;
mod upsert;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::context::Context;
use crate::config::{ConflictPolicy, Side, SyncRule};
use crate::connector::Properties;
use crate::error_kind::ErrorKind;
use crate::journal::{ChangeKind, Completion, JournalRow};
use crate::rules;
use crate::store::outbox::{NewItem, Operation};
use crate::store::record_state::Known;

/// What becomes of the row.
#[derive(Debug, Clone, PartialEq)]
pub enum Outcome {
    Complete(Completion, &'static str),
    Fail(ErrorKind, String),
    /// Hand the row back for later: a write of the same record is in flight.
    Defer(&'static str),
    /// A merge: the link of `merged` moves to `into`, on `side`.
    Merge {
        side: Side,
        merged: String,
        into: String,
    },
}

/// A same-field conflict, with both values and how it was settled.
#[derive(Debug, Clone, PartialEq)]
pub struct ConflictRecord {
    pub hubspot_id: String,
    pub external_id: Option<String>,
    pub hubspot_field: String,
    pub external_field: String,
    pub hubspot_value: Value,
    pub external_value: Value,
    pub hubspot_as_external: Option<Value>,
    pub external_as_hubspot: Option<Value>,
    pub hubspot_at: DateTime<Utc>,
    pub external_at: DateTime<Utc>,
    pub policy: ConflictPolicy,
    /// `None` while held for an operator.
    pub winner: Option<Side>,
}

/// A pair matched by key: `(hubspot_id, external_id, state to save with the link)`.
pub type NewLink = (String, String, Vec<(Side, String, Known)>);

/// Everything one row decided, for the batch's transaction.
#[derive(Debug, Clone, PartialEq)]
pub struct RowPlan {
    pub journal_id: i64,
    pub sync_name: String,
    pub outcome: Outcome,
    pub items: Vec<NewItem>,
    /// State to save now for an existing link (nothing is being written).
    pub state: Vec<(i64, Side, String, Known)>,
    /// A pair matched by key, to link now: `(hubspot_id, external_id)`, with its state.
    pub new_link: Option<NewLink>,
    pub conflicts: Vec<ConflictRecord>,
    /// A privacy deletion: the pairs whose values hubsync forgets when the plan commits.
    pub forget: Vec<Forget>,
}

/// The records of a pair whose values hubsync's copies (journal, outbox, conflicts, link
/// state) lose. The link stays: a scrubbed partner must not come back as a new record, and
/// a deleted one's link goes when its delete lands.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Forget {
    pub sync_name: String,
    /// `(side, connector, object, id)` of each record, where known.
    pub records: Vec<(Side, String, String, String)>,
    /// The pair's link, whose record state is forgotten.
    pub link_id: Option<i64>,
}

impl RowPlan {
    fn settled(row: &JournalRow, rule: &SyncRule, outcome: Outcome) -> RowPlan {
        RowPlan {
            journal_id: row.id,
            sync_name: rule.name.clone(),
            outcome,
            items: Vec::new(),
            state: Vec::new(),
            new_link: None,
            conflicts: Vec::new(),
            forget: Vec::new(),
        }
    }
}

/// Decides `row` under `rule`.
pub fn plan_row(
    rule: &SyncRule,
    rules: &[SyncRule],
    row: &JournalRow,
    context: &mut Context,
) -> RowPlan {
    // a record read back under another id was absorbed by a merge: whatever the row says,
    // the id is gone and its link belongs to the merged record
    if let Some(into) = merged_into(row, context) {
        return delete::merge(rule, row, context, &into);
    }
    match &row.kind {
        ChangeKind::Delete if read_back(row, context).is_some() => RowPlan::settled(
            row,
            rule,
            Outcome::Complete(Completion::Skipped, "delete_not_confirmed"),
        ),
        ChangeKind::Delete => delete::delete(rule, row, context),
        ChangeKind::Merge { into } => delete::merge(rule, row, context, into),
        _ => upsert::upsert(rule, rules, row, context),
    }
}

/// The live record a hydrated row's id resolves to, if it was read back and found.
fn read_back<'c>(row: &JournalRow, context: &'c Context) -> Option<&'c crate::connector::Record> {
    if context.records.is_empty() {
        return None; // nothing in the batch was read back (polled rows are whole)
    }
    context.records.get(&super::gather::source_ref(row))?.as_ref()
}

/// The merged record a row's id now resolves to, when a merge absorbed it (HubSpot resolves
/// a merged-away id to the merged record, which keeps its own id).
pub fn merged_into(row: &JournalRow, context: &Context) -> Option<String> {
    read_back(row, context).filter(|record| record.id != row.record_id).map(|r| r.id.clone())
}

/// A bare outbox item of the row's block towards `target`.
fn item(
    rule: &SyncRule,
    row: &JournalRow,
    target: Side,
    operation: Operation,
    target_id: Option<String>,
) -> NewItem {
    let intent = match operation {
        Operation::Upsert => "create",
        Operation::Update => "update",
        Operation::Archive => "archive",
        Operation::Associate => "associate",
    };
    let priority = match operation {
        Operation::Associate => rules::priority::ASSOCIATIONS,
        _ => rules::priority(rule),
    };
    NewItem {
        sync_name: rule.name.clone(),
        target_side: target,
        connector: rules::connector(rule, target).to_string(),
        object_type: rules::object(rule, target).to_string(),
        operation,
        intent,
        priority,
        target_id,
        unique_property: None,
        unique_value: None,
        source_id: row.record_id.clone(),
        properties: Properties::new(),
        state: Vec::new(),
        journal_id: Some(row.id),
    }
}
