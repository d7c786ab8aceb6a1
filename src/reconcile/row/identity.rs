//! Who a row's record is on the other side: linked, matched by key to a free record there,
//! or new; and what a matched record holds, as the pair's starting state.

use serde_json::Value;

use crate::config::{Side, SyncRule};
use crate::connector::Record;
use crate::journal::JournalRow;
use crate::reconcile::context::Context;
use crate::rules;
use crate::rules::transform::is_blank;
use crate::store::links::Link;
use crate::store::record_state::Known;
use crate::store::record_state::PairState;

/// Who the record is on the other side.
pub(super) enum Identity {
    Linked(Link),
    Matched(Record),
    New,
}

impl Identity {
    /// The record's partner on `other`, where known.
    pub(super) fn partner(&self, other: Side) -> Option<String> {
        match self {
            Identity::Linked(link) => Some(link.id_on(other).to_string()),
            Identity::Matched(record) => Some(record.id.clone()),
            Identity::New => None,
        }
    }
}

/// Linked, matched to a free record on the other side, or new; `None` when the match is
/// busy with a write of its own.
pub(super) fn identify(rule: &SyncRule, row: &JournalRow, context: &Context) -> Option<Identity> {
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
pub(super) fn seeded(rule: &SyncRule, side: Side, record: &Record) -> PairState {
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
