//! Same-field conflicts: both sides changed a field since they last agreed. Each is
//! recorded with both values; the policy's winner is written, or the field is held.

use serde_json::Value;

use super::ConflictRecord;
use super::fields::{Fields, translate};
use crate::config::{ConflictPolicy, FieldMapping, Side};
use crate::journal::JournalRow;
use crate::reconcile::decide::Observed as Seen;
use crate::rules::{self, moves};
use crate::store::record_state::Known;

impl Fields<'_> {
    /// A conflict the policy settled: `winner`'s value is written to each side of `write_to`.
    pub(super) fn settle_conflict(
        &mut self,
        mapping: &FieldMapping,
        seen: &Seen,
        mine: Option<Known>,
        theirs_native: Option<Known>,
        (winner, write_to): (Side, Vec<Side>),
    ) -> Result<(), String> {
        // an edit our own write overwrote no longer stands on its side
        if mine.as_ref().is_none_or(|m| seen.at >= m.set_at) {
            self.remember(rules::field(mapping, self.side), seen);
        }
        let theirs_native = self.their_value(mapping, theirs_native, mine.as_ref());
        self.conflict(mapping, seen, &theirs_native, self.policy(mapping), Some(winner));
        for target in write_to {
            self.write_winner(mapping, seen, &theirs_native, winner, target)?;
        }
        Ok(())
    }

    /// A conflict held for an operator: nothing moves until one picks.
    pub(super) fn hold(
        &mut self,
        mapping: &FieldMapping,
        seen: &Seen,
        mine: Option<Known>,
        theirs_native: Option<Known>,
    ) {
        self.remember(rules::field(mapping, self.side), seen);
        let theirs_native = self.their_value(mapping, theirs_native, mine.as_ref());
        self.conflict(mapping, seen, &theirs_native, self.policy(mapping), None);
        self.held = true;
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
        let value = self.winner_value(mapping, &value, winner, target)?;
        if let Some(value) = value {
            self.write(target, rules::field(mapping, target), value, at);
        }
        Ok(())
    }

    /// The winning value typed for `target`: the winner's own side gets it back through a
    /// round trip, typed for its API.
    fn winner_value(
        &self,
        mapping: &FieldMapping,
        value: &Value,
        winner: Side,
        target: Side,
    ) -> Result<Option<Value>, String> {
        if target != winner {
            return self.convert(mapping, value, target);
        }
        match self.convert(mapping, value, winner.other())? {
            Some(across) => self.convert(mapping, &across, target),
            None => Ok(None),
        }
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
}

/// The row's conflicts, each with both records' ids.
pub(super) fn with_ids(
    row: &JournalRow,
    partner: &Option<String>,
    conflicts: Vec<ConflictRecord>,
) -> Vec<ConflictRecord> {
    let (hubspot_id, external_id) = match row.side {
        Side::Hubspot => (row.record_id.clone(), partner.clone()),
        Side::External => (partner.clone().unwrap_or_default(), Some(row.record_id.clone())),
    };
    let mut with_ids = Vec::new();
    for mut conflict in conflicts {
        conflict.hubspot_id = hubspot_id.clone();
        conflict.external_id = external_id.clone();
        with_ids.push(conflict);
    }
    with_ids
}
