//! Deciding one journal row under one sync block: identity (linked, matched or new), the
//! per-field decisions against record state, conflicts, and the write intents that follow.
//! Pure over the batch's [`Context`], which it updates so later rows see earlier decisions.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::context::{Context, Observed};
use super::decide::{Decision, Known, Observed as Seen, decide, same};
use super::gather::{needs_hydration, observed, value_of};
use super::links::Link;
use super::state::PairState;
use crate::config::{ConflictPolicy, DeletePolicy, FieldMapping, Side, SyncRule};
use crate::connector::{Properties, Record};
use crate::error_kind::ErrorKind;
use crate::journal::{ChangeKind, Completion, JournalRow};
use crate::rules::filter::in_scope;
use crate::rules::transform::{
    Mapped, OwnerMap, Towards, TransformError, apply, as_text, is_blank,
};
use crate::rules::{self, association_field, create_key, is_constant, moves, partner_id_field};
use crate::writer::outbox::{AssociationTarget, NewItem, Operation, StateEntry};

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
        return merge(rule, row, context, &into);
    }
    match &row.kind {
        ChangeKind::Delete if read_back(row, context).is_some() => RowPlan::settled(
            row,
            rule,
            Outcome::Complete(Completion::Skipped, "delete_not_confirmed"),
        ),
        ChangeKind::Delete => delete(rule, row, context),
        ChangeKind::Merge { into } => merge(rule, row, context, into),
        _ => upsert(rule, rules, row, context),
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

fn merge(rule: &SyncRule, row: &JournalRow, context: &mut Context, into: &str) -> RowPlan {
    redirect(context, rule, row.side, &row.record_id, into);
    let merge =
        Outcome::Merge { side: row.side, merged: row.record_id.clone(), into: into.to_string() };
    RowPlan::settled(row, rule, merge)
}

/// Moves a merged record's link to the survivor in the batch's view, as the commit will.
fn redirect(context: &mut Context, rule: &SyncRule, side: Side, merged: &str, into: &str) {
    if context.link(&rule.name, side, into).is_some() {
        return;
    }
    let Some(mut link) = context.link(&rule.name, side, merged).cloned() else { return };
    context.links.remove(&(rule.name.clone(), side, merged.to_string()));
    match side {
        Side::Hubspot => link.hubspot_id = into.to_string(),
        Side::External => link.external_id = into.to_string(),
    }
    context.add_link(link);
}

fn delete(rule: &SyncRule, row: &JournalRow, context: &mut Context) -> RowPlan {
    let skip = |reason| RowPlan::settled(row, rule, Outcome::Complete(Completion::Skipped, reason));
    let Some(link) = context.link(&rule.name, row.side, &row.record_id).cloned() else {
        return skip("delete_unlinked");
    };
    let target = row.side.other();
    match rule.delete {
        DeletePolicy::Ignore => return skip("delete_ignored"),
        DeletePolicy::Flag => return skip("delete_flagged"),
        DeletePolicy::Propagate if !rules::writes_to(rule, target) => return skip("one_way"),
        DeletePolicy::Propagate => {}
    }
    if context.is_busy(&rule.name, target, link.id_on(target)) {
        return RowPlan::settled(row, rule, Outcome::Defer("awaiting_write"));
    }
    let mut plan = RowPlan::settled(row, rule, Outcome::Complete(Completion::Applied, "queued"));
    plan.items.push(item(rule, row, target, Operation::Archive, Some(link.id_on(target).into())));
    mark_busy(context, rule, row, target, link.id_on(target));
    plan
}

fn mark_busy(context: &mut Context, rule: &SyncRule, row: &JournalRow, target: Side, id: &str) {
    context.mark_busy(&rule.name, row.side, &row.record_id);
    context.mark_busy(&rule.name, target, id);
}

/// Who the record is on the other side.
enum Identity {
    Linked(Link),
    Matched(Record),
    New,
}

impl Identity {
    /// The record's partner on `other`, where known.
    fn partner(&self, other: Side) -> Option<String> {
        match self {
            Identity::Linked(link) => Some(link.id_on(other).to_string()),
            Identity::Matched(record) => Some(record.id.clone()),
            Identity::New => None,
        }
    }
}

/// Writes collected for one side: fields and the state they leave.
#[derive(Default)]
struct Writes {
    properties: Properties,
    state: Vec<StateEntry>,
}

/// The per-field work of an upsert.
struct Fields<'a> {
    rule: &'a SyncRule,
    side: Side,
    owners: &'a OwnerMap,
    pair: PairState,
    /// The observed side's own values, saved with the writes (or now, if none).
    mine: Vec<(String, Known)>,
    writes: BTreeMap<Side, Writes>,
    conflicts: Vec<ConflictRecord>,
    associations: Vec<(AssociationTarget, StateEntry)>,
    /// The pair was just matched: a blank on one side is filled from the other.
    matched: bool,
    held: bool,
    echo: bool,
    stale: bool,
    /// An association of the record is still being written: a new association decision
    /// waits for it, or a removal decided now would not know what it removes.
    wait: bool,
}

fn upsert(rule: &SyncRule, rules: &[SyncRule], row: &JournalRow, context: &mut Context) -> RowPlan {
    let settle = |c, reason| RowPlan::settled(row, rule, Outcome::Complete(c, reason));
    let (side, id) = (row.side, row.record_id.as_str());
    let source = (side, row.connector.clone(), row.object_type.clone(), id.to_string());
    if needs_hydration(row) && matches!(context.records.get(&source), Some(None)) {
        return settle(Completion::Skipped, "gone");
    }
    let values = observed(row, context);
    let plain: Properties = values.iter().map(|(k, (v, _))| (k.clone(), v.clone())).collect();
    if !in_scope(&rule.filter, side, &plain) {
        return settle(Completion::Skipped, "out_of_scope");
    }
    if busy(rule, row, &values, context) {
        return RowPlan::settled(row, rule, Outcome::Defer("awaiting_write"));
    }
    let identity = identify(rule, row, context);
    let identity = match identity {
        Some(identity) => identity,
        None => return RowPlan::settled(row, rule, Outcome::Defer("awaiting_write")),
    };
    let pair = match &identity {
        Identity::Linked(link) => context.states.remove(&link.id).unwrap_or_default(),
        Identity::Matched(record) => seeded(rule, side.other(), record),
        Identity::New => PairState::new(),
    };
    // shared, not copied: the owner map is the same for every row of the block
    let owners = context.owners.get(&rule.name).cloned().unwrap_or_default();
    let mut fields = Fields::new(rule, side, owners.as_ref(), pair);
    fields.matched = matches!(identity, Identity::Matched(_));
    let creating = matches!(identity, Identity::New);
    if let Err(err) = fields.decide_all(&values, creating) {
        return RowPlan::settled(row, rule, Outcome::Fail(ErrorKind::Permanent, err));
    }
    fields.associations(rules, row, &values, context);
    if fields.wait {
        return RowPlan::settled(row, rule, Outcome::Defer("awaiting_write"));
    }
    finish(rule, row, identity, fields, &plain, context)
}

fn busy(rule: &SyncRule, row: &JournalRow, values: &Observed, context: &Context) -> bool {
    if context.is_busy(&rule.name, row.side, &row.record_id) {
        return true;
    }
    let Some(field) = partner_id_field(rule, row.side) else { return false };
    let Some((value, _)) = value_of(values, field) else { return false };
    context.busy_keys.contains(&(rule.name.clone(), row.side, as_text(value)))
}

/// Linked, matched to a free record on the other side, or new; `None` when the match is
/// busy with a write of its own.
fn identify(rule: &SyncRule, row: &JournalRow, context: &Context) -> Option<Identity> {
    if let Some(link) = context.link(&rule.name, row.side, &row.record_id) {
        return Some(Identity::Linked(link.clone()));
    }
    let key = (rule.name.clone(), row.side, row.record_id.clone());
    let Some(partner) = context.partners.get(&key) else { return Some(Identity::New) };
    let other = row.side.other();
    if context.is_busy(&rule.name, other, &partner.id) {
        return None;
    }
    if context.link(&rule.name, other, &partner.id).is_some() {
        return Some(Identity::New);
    }
    Some(Identity::Matched(partner.clone()))
}

/// What a matched record holds, as if hubsync had just read it: the other side's view.
fn seeded(rule: &SyncRule, side: Side, record: &Record) -> PairState {
    let mut pair = PairState::new();
    for mapping in &rule.fields {
        let name = rules::field(mapping, side);
        if let Some(value) = rules::get(&record.properties, name) {
            let at = record.modified_at;
            let value = if is_blank(value) { Value::Null } else { value.clone() };
            let known = Known { value, value_at: at, set_at: at, ..Known::default() };
            pair.insert((side, name.to_string()), known);
        }
    }
    pair
}

fn towards(side: Side) -> Towards {
    match side {
        Side::Hubspot => Towards::Hubspot,
        Side::External => Towards::External,
    }
}

/// A value in `to`'s terms, or `None` where the transform cannot say (unmapped, error).
fn translate(mapping: &FieldMapping, value: &Value, to: Side, owners: &OwnerMap) -> Option<Value> {
    if is_constant(mapping) {
        return None;
    }
    match apply(mapping.transform.as_ref(), value, towards(to), owners) {
        Ok(Mapped::Value(value)) => Some(value),
        _ => None,
    }
}

impl<'a> Fields<'a> {
    fn new(rule: &'a SyncRule, side: Side, owners: &'a OwnerMap, pair: PairState) -> Self {
        Fields {
            rule,
            side,
            owners,
            pair,
            mine: Vec::new(),
            writes: BTreeMap::new(),
            conflicts: Vec::new(),
            associations: Vec::new(),
            matched: false,
            held: false,
            echo: false,
            stale: false,
            wait: false,
        }
    }

    fn decide_all(&mut self, values: &Observed, creating: bool) -> Result<(), String> {
        for mapping in &self.rule.fields {
            let name = rules::field(mapping, self.side);
            if is_constant(mapping) {
                // a constant is written when the record is created, never moved after
                if creating {
                    self.write_constant(mapping)?;
                }
                continue;
            }
            let (value, at) = match value_of(values, name) {
                Some((value, at)) => (value.clone(), *at),
                // a field the record lacks is blank, for filling in from its new partner
                None if self.matched => (Value::Null, Utc::now()),
                None => continue,
            };
            let seen = Seen { side: self.side, value, at };
            self.decide_one(mapping, &seen, creating)?;
        }
        Ok(())
    }

    fn write_constant(&mut self, mapping: &FieldMapping) -> Result<(), String> {
        let other = self.side.other();
        if !moves(self.rule, mapping, other) {
            return Ok(());
        }
        let value = self.convert(mapping, &Value::Null, other)?;
        if let Some(value) = value {
            self.write(other, rules::field(mapping, other), value, Utc::now());
        }
        Ok(())
    }

    fn decide_one(
        &mut self,
        mapping: &FieldMapping,
        seen: &Seen,
        creating: bool,
    ) -> Result<(), String> {
        let (side, other) = (self.side, self.side.other());
        let (name, their_name) = (rules::field(mapping, side), rules::field(mapping, other));
        let mine = self.pair.get(&(side, name.to_string())).cloned();
        let theirs_native = self.pair.get(&(other, their_name.to_string())).cloned();
        let theirs = theirs_native.as_ref().and_then(|known| {
            let value = translate(mapping, &known.value, side, self.owners)?;
            Some(Known { value, ..known.clone() })
        });
        let policy = mapping.conflict.unwrap_or(self.rule.conflict);
        if self.matched && is_blank(&seen.value) {
            // at matching, a blank never beats a value: the partner's value fills it in
            let filled = theirs_native.filter(|t| !is_blank(&t.value));
            if let Some(theirs) = filled.filter(|_| moves(self.rule, mapping, side))
                && let Some(value) = self.convert(mapping, &theirs.value, side)?
            {
                self.write(side, name, value, theirs.value_at);
            }
            return Ok(());
        }
        let partner_blank = theirs_native.as_ref().is_none_or(|t| is_blank(&t.value));
        let decision = if creating || (self.matched && partner_blank) {
            // a new record, or a field its new partner lacks: the value fills it in
            Decision::Move
        } else {
            decide(policy, seen, mine.as_ref(), theirs.as_ref())
        };
        match decision {
            Decision::Unchanged => {}
            Decision::Echo => self.echo = true,
            Decision::Stale => self.stale = true,
            Decision::AlreadyThere => self.remember(name, seen),
            Decision::Move => {
                self.remember(name, seen);
                if moves(self.rule, mapping, other)
                    && let Some(value) = self.convert(mapping, &seen.value, other)?
                {
                    self.write(other, their_name, value, seen.at);
                }
            }
            Decision::Conflict { winner, write_to } => {
                // an edit our own write overwrote no longer stands on its side
                if mine.as_ref().is_none_or(|m| seen.at >= m.set_at) {
                    self.remember(name, seen);
                }
                let theirs_native = self.their_value(mapping, theirs_native, mine.as_ref());
                self.conflict(mapping, seen, &theirs_native, policy, Some(winner));
                for target in write_to {
                    self.write_winner(mapping, seen, &theirs_native, winner, target)?;
                }
            }
            Decision::Hold => {
                self.remember(name, seen);
                let theirs_native = self.their_value(mapping, theirs_native, mine.as_ref());
                self.conflict(mapping, seen, &theirs_native, policy, None);
                self.held = true;
            }
        }
        Ok(())
    }

    /// The other side's value in a conflict: what is known of it, else the value hubsync
    /// wrote to this side from it.
    fn their_value(
        &self,
        mapping: &FieldMapping,
        theirs: Option<Known>,
        mine: Option<&Known>,
    ) -> Known {
        if let Some(theirs) = theirs {
            return theirs;
        }
        let written = mine.cloned().unwrap_or_default();
        let value = translate(mapping, &written.value, self.side.other(), self.owners);
        Known { value: value.unwrap_or(written.value.clone()), ..written }
    }

    /// Converts a value for `to`; `Ok(None)` when the rule says to leave the field alone.
    fn convert(
        &self,
        mapping: &FieldMapping,
        value: &Value,
        to: Side,
    ) -> Result<Option<Value>, String> {
        match apply(mapping.transform.as_ref(), value, towards(to), self.owners) {
            Ok(Mapped::Value(value)) => Ok(Some(value)),
            Ok(Mapped::SkipField) => Ok(None),
            Err(err) => Err(field_error(mapping, self.side, &err)),
        }
    }

    /// Writes the winning value of a conflict to `target`.
    fn write_winner(
        &mut self,
        mapping: &FieldMapping,
        seen: &Seen,
        theirs: &Known,
        winner: Side,
        target: Side,
    ) -> Result<(), String> {
        if !moves(self.rule, mapping, target) {
            return Ok(());
        }
        let (value, at) = if winner == self.side {
            (seen.value.clone(), seen.at)
        } else {
            (theirs.value.clone(), theirs.value_at)
        };
        // the winner's own side gets its value back through a round trip, typed for its API
        let value = if target == winner {
            let across = self.convert(mapping, &value, winner.other())?;
            match across {
                Some(across) => self.convert(mapping, &across, target)?,
                None => None,
            }
        } else {
            self.convert(mapping, &value, target)?
        };
        if let Some(value) = value {
            self.write(target, rules::field(mapping, target), value, at);
        }
        Ok(())
    }

    fn remember(&mut self, name: &str, seen: &Seen) {
        let known = Known {
            value: seen.value.clone(),
            value_at: seen.at,
            set_at: seen.at,
            ..Known::default()
        };
        self.pair.insert((self.side, name.to_string()), known.clone());
        self.mine.push((name.to_string(), known));
    }

    fn write(&mut self, target: Side, field: &str, value: Value, at: DateTime<Utc>) {
        let writes = self.writes.entry(target).or_default();
        writes.properties.insert(field.to_string(), value.clone());
        let entry =
            StateEntry { side: target, field: field.to_string(), value, value_at: at, ours: true };
        writes.state.push(entry);
    }

    fn conflict(
        &mut self,
        mapping: &FieldMapping,
        seen: &Seen,
        theirs: &Known,
        policy: ConflictPolicy,
        winner: Option<Side>,
    ) {
        let (hubspot, external) = match self.side {
            Side::Hubspot => ((&seen.value, seen.at), (&theirs.value, theirs.value_at)),
            Side::External => ((&theirs.value, theirs.value_at), (&seen.value, seen.at)),
        };
        self.conflicts.push(ConflictRecord {
            hubspot_id: String::new(),
            external_id: None,
            hubspot_field: mapping.hubspot.clone(),
            external_field: mapping.external.clone(),
            hubspot_value: hubspot.0.clone(),
            external_value: external.0.clone(),
            hubspot_as_external: translate(mapping, hubspot.0, Side::External, self.owners),
            external_as_hubspot: translate(mapping, external.0, Side::Hubspot, self.owners),
            hubspot_at: hubspot.1,
            external_at: external.1,
            policy,
            winner,
        });
    }

    /// Association pseudo-fields: the first associated record, carried as a lookup.
    fn associations(
        &mut self,
        rules: &[SyncRule],
        row: &JournalRow,
        values: &Observed,
        context: &Context,
    ) {
        for association in &self.rule.associations {
            if !rules.iter().any(|r| r.name == association.to) {
                continue;
            }
            let value = match self.side {
                Side::Hubspot => {
                    let key =
                        (self.rule.name.clone(), association.to.clone(), row.record_id.clone());
                    context
                        .associations
                        .get(&key)
                        .map(|v| v.clone().map_or(Value::Null, Value::String))
                }
                Side::External => {
                    value_of(values, &association.external_field).map(|(v, _)| v.clone())
                }
            };
            let Some(value) = value else { continue };
            let name = association_field(&association.to);
            let mine = self.pair.get(&(self.side, name.clone()));
            if mine.is_some_and(|known| same(&known.value, &value)) {
                continue;
            }
            // a read older than what this side last held (a poll taken before our own write
            // landed, say) is stale: the lookup it shows is not an edit, least of all a removal
            if mine.is_some_and(|known| row.occurred_at < known.set_at) {
                continue;
            }
            // an association still being written is what the record will hold: the same
            // one again is no news, another (or none) must wait until it has landed
            let key =
                (self.rule.name.clone(), self.side, row.record_id.clone(), association.to.clone());
            if let Some(writing) = context.busy_associations.get(&key) {
                if writing.iter().all(|id| *id == as_text(&value)) && !is_blank(&value) {
                    continue;
                }
                self.wait = true;
                return;
            }
            // a blank is a removal, carried only when an association was known before
            if is_blank(&value) && mine.is_none_or(|known| is_blank(&known.value)) {
                continue;
            }
            let replaces = self
                .pair
                .get(&(self.side.other(), name.clone()))
                .filter(|known| !is_blank(&known.value))
                .map(|known| as_text(&known.value));
            let seen = Seen { side: self.side, value: value.clone(), at: row.occurred_at };
            let known = Known {
                value: value.clone(),
                value_at: seen.at,
                set_at: seen.at,
                ..Known::default()
            };
            self.pair.insert((self.side, name.clone()), known);
            if !rules::writes_to(self.rule, self.side.other()) {
                continue;
            }
            let target = AssociationTarget {
                to_sync: association.to.clone(),
                to_source_id: if is_blank(&value) { String::new() } else { as_text(&value) },
                replaces,
                external_field: association.external_field.clone(),
                hubspot_type_id: association.hubspot_type_id,
            };
            let state =
                StateEntry { side: self.side, field: name, value, value_at: seen.at, ours: false };
            self.associations.push((target, state));
        }
    }
}

fn field_error(mapping: &FieldMapping, side: Side, err: &TransformError) -> String {
    let name = rules::field(mapping, side);
    format!("field {name}: {err}")
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

/// Turns the field decisions into the row's plan: items for each side, conflicts with
/// both record ids, state to save now, and the row's outcome.
fn finish(
    rule: &SyncRule,
    row: &JournalRow,
    identity: Identity,
    mut fields: Fields<'_>,
    source: &Properties,
    context: &mut Context,
) -> RowPlan {
    let (side, other) = (row.side, row.side.other());
    let partner = identity.partner(other);
    let mut plan = RowPlan::settled(row, rule, Outcome::Complete(Completion::Applied, "in_sync"));
    let mine: Vec<StateEntry> = fields
        .mine
        .iter()
        .map(|(field, known)| StateEntry {
            side,
            field: field.clone(),
            value: known.value.clone(),
            value_at: known.value_at,
            ours: false,
        })
        .collect();
    let theirs = fields.writes.remove(&other).unwrap_or_default();
    match &identity {
        Identity::New if !rules::writes_to(rule, other) => {
            plan.outcome = Outcome::Complete(Completion::Skipped, "one_way");
            return plan;
        }
        Identity::New => {
            let Some((field, value)) = create_key(rule, other, &row.record_id, source) else {
                let message = format!(
                    "sync block {}: no key to create the record on the {} side with; set \
                     keys.hubspot_unique_property, keys.external_id_field or keys.shared",
                    rule.name,
                    other.as_str()
                );
                plan.outcome = Outcome::Fail(ErrorKind::NeedsOperator, message);
                return plan;
            };
            let mut create = item(rule, row, other, Operation::Upsert, None);
            create.unique_property = Some(field);
            create.unique_value = Some(value);
            create.properties = theirs.properties;
            create.state = [theirs.state, mine.clone()].concat();
            plan.items.push(create);
        }
        Identity::Linked(_) | Identity::Matched(_) => {
            let mut properties = theirs.properties;
            let matched = matches!(identity, Identity::Matched(_));
            let writable = matched && rules::writes_to(rule, other);
            if let Some(field) = partner_id_field(rule, other).filter(|_| writable) {
                properties.insert(field.to_string(), Value::String(row.record_id.clone()));
            }
            if !properties.is_empty() {
                let mut update = item(rule, row, other, Operation::Update, partner.clone());
                if matched {
                    // filling in a newly matched pair overwrites nothing an operator owns
                    update.intent = "link";
                }
                update.properties = properties;
                update.state = [theirs.state, mine.clone()].concat();
                plan.items.push(update);
            }
        }
    }
    let mut own = fields.writes.remove(&side).unwrap_or_default();
    if let Identity::Matched(record) = &identity
        && let Some(field) = partner_id_field(rule, side).filter(|_| rules::writes_to(rule, side))
    {
        own.properties.insert(field.to_string(), Value::String(record.id.clone()));
    }
    if !own.properties.is_empty() {
        let mut update = item(rule, row, side, Operation::Update, Some(row.record_id.clone()));
        if matches!(identity, Identity::Matched(_)) {
            update.intent = "link";
        }
        update.properties = own.properties;
        update.state = [own.state, mine.clone()].concat();
        plan.items.push(update);
    }
    let carried = !plan.items.is_empty();
    if carried {
        context.mark_busy(&rule.name, side, &row.record_id);
        if let Some(partner) = &partner {
            context.mark_busy(&rule.name, other, partner);
        }
    }
    for (target, entry) in std::mem::take(&mut fields.associations) {
        let mut associate = item(rule, row, other, Operation::Associate, partner.clone());
        if let Ok(Value::Object(map)) = serde_json::to_value(&target) {
            associate.properties = map.into_iter().collect();
        }
        associate.state = vec![entry];
        plan.items.push(associate);
    }
    let (hubspot_id, external_id) = match side {
        Side::Hubspot => (row.record_id.clone(), partner.clone()),
        Side::External => (partner.clone().unwrap_or_default(), Some(row.record_id.clone())),
    };
    for mut conflict in std::mem::take(&mut fields.conflicts) {
        conflict.hubspot_id = hubspot_id.clone();
        conflict.external_id = external_id.clone();
        plan.conflicts.push(conflict);
    }
    let now: Vec<(Side, String, Known)> = if carried {
        Vec::new()
    } else {
        fields.mine.iter().map(|(field, known)| (side, field.clone(), known.clone())).collect()
    };
    match &identity {
        Identity::Linked(link) => {
            plan.state = now.into_iter().map(|(s, f, k)| (link.id, s, f, k)).collect();
            context.states.insert(link.id, fields.pair.clone());
        }
        Identity::Matched(record) => {
            let mut state: Vec<(Side, String, Known)> = fields
                .pair
                .iter()
                .filter(|((s, _), _)| *s == other)
                .map(|((s, f), k)| (*s, f.clone(), k.clone()))
                .collect();
            state.extend(now);
            let (h, e) = match side {
                Side::Hubspot => (row.record_id.clone(), record.id.clone()),
                Side::External => (record.id.clone(), row.record_id.clone()),
            };
            context.mark_busy(&rule.name, side, &row.record_id);
            context.mark_busy(&rule.name, other, &record.id);
            plan.new_link = Some((h, e, state));
        }
        Identity::New => {}
    }
    plan.outcome = outcome(&plan, &fields, matches!(identity, Identity::Matched(_)));
    plan
}

fn outcome(plan: &RowPlan, fields: &Fields<'_>, matched: bool) -> Outcome {
    let (completion, reason) = if fields.held {
        (Completion::Conflict, "conflict_held")
    } else if !plan.items.is_empty() {
        (Completion::Applied, "queued")
    } else if matched {
        (Completion::Applied, "linked")
    } else if !fields.mine.is_empty() {
        (Completion::Applied, "in_sync")
    } else if fields.echo {
        (Completion::Echo, "echo")
    } else if fields.stale {
        (Completion::Stale, "stale")
    } else {
        (Completion::Applied, "unchanged")
    };
    Outcome::Complete(completion, reason)
}
