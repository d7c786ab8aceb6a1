//! The per-field work of an upsert: each mapped field decided against record state, and
//! the values that move collected per target side with the state they leave.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::ConflictRecord;
use crate::config::{ConflictPolicy, FieldMapping, Side, SyncRule};
use crate::connector::Properties;
use crate::reconcile::context::Observed;
use crate::reconcile::decide::{Decision, Observed as Seen, decide};
use crate::reconcile::gather::value_of;
use crate::rules::transform::{Mapped, OwnerMap, Towards, TransformError, apply, is_blank};
use crate::rules::{self, is_constant, moves};
use crate::store::outbox::{AssociationTarget, StateEntry};
use crate::store::record_state::Known;
use crate::store::record_state::PairState;

/// Writes collected for one side: fields and the state they leave.
#[derive(Default)]
pub(super) struct Writes {
    pub(super) properties: Properties,
    pub(super) state: Vec<StateEntry>,
}

/// The per-field work of an upsert.
pub(super) struct Fields<'a> {
    pub(super) rule: &'a SyncRule,
    pub(super) side: Side,
    pub(super) owners: &'a OwnerMap,
    pub(super) pair: PairState,
    /// The observed side's own values, saved with the writes (or now, if none).
    pub(super) mine: Vec<(String, Known)>,
    pub(super) writes: BTreeMap<Side, Writes>,
    pub(super) conflicts: Vec<ConflictRecord>,
    pub(super) associations: Vec<(AssociationTarget, StateEntry)>,
    /// The pair was just matched: a blank on one side is filled from the other.
    pub(super) matched: bool,
    pub(super) held: bool,
    pub(super) echo: bool,
    pub(super) stale: bool,
    /// An association of the record is still being written: a new association decision
    /// waits for it, or a removal decided now would not know what it removes.
    pub(super) wait: bool,
}

fn towards(side: Side) -> Towards {
    match side {
        Side::Hubspot => Towards::Hubspot,
        Side::External => Towards::External,
    }
}

/// A value in `to`'s terms, or `None` where the transform cannot say (unmapped, error).
pub(super) fn translate(
    mapping: &FieldMapping,
    value: &Value,
    to: Side,
    owners: &OwnerMap,
) -> Option<Value> {
    if is_constant(mapping) {
        return None;
    }
    match apply(mapping.transform.as_ref(), value, towards(to), owners) {
        Ok(Mapped::Value(value)) => Some(value),
        _ => None,
    }
}

impl<'a> Fields<'a> {
    pub(super) fn new(
        rule: &'a SyncRule,
        side: Side,
        owners: &'a OwnerMap,
        pair: PairState,
    ) -> Self {
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

    pub(super) fn decide_all(&mut self, values: &Observed, creating: bool) -> Result<(), String> {
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
        let mine = self.pair.get(&(side, rules::field(mapping, side).to_string())).cloned();
        let theirs_native =
            self.pair.get(&(other, rules::field(mapping, other).to_string())).cloned();
        if self.matched && is_blank(&seen.value) {
            return self.fill_in(mapping, theirs_native);
        }
        let decision =
            self.decision(mapping, seen, creating, mine.as_ref(), theirs_native.as_ref());
        self.apply(mapping, seen, decision, mine, theirs_native)
    }

    /// At matching, a blank never beats a value: the partner's value fills it in.
    fn fill_in(
        &mut self,
        mapping: &FieldMapping,
        theirs_native: Option<Known>,
    ) -> Result<(), String> {
        let side = self.side;
        let filled = theirs_native.filter(|t| !is_blank(&t.value));
        if let Some(theirs) = filled.filter(|_| moves(self.rule, mapping, side))
            && let Some(value) = self.convert(mapping, &theirs.value, side)?
        {
            self.write(side, rules::field(mapping, side), value, theirs.value_at);
        }
        Ok(())
    }

    /// What the observed value means against what is known of both sides.
    fn decision(
        &self,
        mapping: &FieldMapping,
        seen: &Seen,
        creating: bool,
        mine: Option<&Known>,
        theirs_native: Option<&Known>,
    ) -> Decision {
        let theirs = theirs_native.and_then(|known| {
            let value = translate(mapping, &known.value, self.side, self.owners)?;
            Some(Known { value, ..known.clone() })
        });
        let partner_blank = theirs_native.is_none_or(|t| is_blank(&t.value));
        if creating || (self.matched && partner_blank) {
            // a new record, or a field its new partner lacks: the value fills it in
            Decision::Move
        } else {
            decide(self.policy(mapping), seen, mine, theirs.as_ref())
        }
    }

    fn apply(
        &mut self,
        mapping: &FieldMapping,
        seen: &Seen,
        decision: Decision,
        mine: Option<Known>,
        theirs_native: Option<Known>,
    ) -> Result<(), String> {
        let name = rules::field(mapping, self.side);
        match decision {
            Decision::Unchanged => {}
            Decision::Echo => self.echo = true,
            Decision::Stale => self.stale = true,
            Decision::AlreadyThere => self.remember(name, seen),
            Decision::Move => self.move_value(mapping, seen)?,
            Decision::Conflict { winner, write_to } => {
                self.settle_conflict(mapping, seen, mine, theirs_native, (winner, write_to))?
            }
            Decision::Hold => self.hold(mapping, seen, mine, theirs_native),
        }
        Ok(())
    }

    /// A new value: remembered on its side, and written to the other where it may move.
    fn move_value(&mut self, mapping: &FieldMapping, seen: &Seen) -> Result<(), String> {
        let other = self.side.other();
        self.remember(rules::field(mapping, self.side), seen);
        if moves(self.rule, mapping, other)
            && let Some(value) = self.convert(mapping, &seen.value, other)?
        {
            self.write(other, rules::field(mapping, other), value, seen.at);
        }
        Ok(())
    }

    /// The field's conflict policy: its own, else the block's.
    pub(super) fn policy(&self, mapping: &FieldMapping) -> ConflictPolicy {
        mapping.conflict.unwrap_or(self.rule.conflict)
    }

    /// Converts a value for `to`; `Ok(None)` when the rule says to leave the field alone.
    pub(super) fn convert(
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

    pub(super) fn remember(&mut self, name: &str, seen: &Seen) {
        let known = Known {
            value: seen.value.clone(),
            value_at: seen.at,
            set_at: seen.at,
            ..Known::default()
        };
        self.pair.insert((self.side, name.to_string()), known.clone());
        self.mine.push((name.to_string(), known));
    }

    pub(super) fn write(&mut self, target: Side, field: &str, value: Value, at: DateTime<Utc>) {
        let writes = self.writes.entry(target).or_default();
        writes.properties.insert(field.to_string(), value.clone());
        let entry =
            StateEntry { side: target, field: field.to_string(), value, value_at: at, ours: true };
        writes.state.push(entry);
    }
}

fn field_error(mapping: &FieldMapping, side: Side, err: &TransformError) -> String {
    let name = rules::field(mapping, side);
    format!("field {name}: {err}")
}
