//! Updates of a linked or matched pair: the fields that move to the partner, and those
//! written back to the record's own side (a matched pair's blanks and partner-id field).

use serde_json::Value;

use super::fields::Writes;
use super::identity::Identity;
use super::item;
use crate::config::SyncRule;
use crate::journal::JournalRow;
use crate::rules::{self, partner_id_field};
use crate::store::outbox::{NewItem, Operation, StateEntry};

/// The update of `partner`, if anything moves there. A pair just matched also gets the
/// record's id in the partner's id field.
pub(super) fn partner(
    rule: &SyncRule,
    row: &JournalRow,
    identity: &Identity,
    partner: Option<String>,
    theirs: Writes,
    mine: &[StateEntry],
) -> Option<NewItem> {
    let other = row.side.other();
    let mut properties = theirs.properties;
    let matched = matches!(identity, Identity::Matched(_));
    let writable = matched && rules::writes_to(rule, other);
    if let Some(field) = partner_id_field(rule, other).filter(|_| writable) {
        properties.insert(field.to_string(), Value::String(row.record_id.clone()));
    }
    if properties.is_empty() {
        return None;
    }
    let mut update = item(rule, row, other, Operation::Update, partner);
    if matched {
        // filling in a newly matched pair overwrites nothing an operator owns
        update.intent = "link";
    }
    update.properties = properties;
    update.state = [theirs.state, mine.to_vec()].concat();
    Some(update)
}

/// The update of the record's own side, if anything is written back to it. A pair just
/// matched gets the partner's id in the record's id field.
pub(super) fn own(
    rule: &SyncRule,
    row: &JournalRow,
    identity: &Identity,
    mut own: Writes,
    mine: &[StateEntry],
) -> Option<NewItem> {
    let side = row.side;
    if let Identity::Matched(record) = identity
        && let Some(field) = partner_id_field(rule, side).filter(|_| rules::writes_to(rule, side))
    {
        own.properties.insert(field.to_string(), Value::String(record.id.clone()));
    }
    if own.properties.is_empty() {
        return None;
    }
    let mut update = item(rule, row, side, Operation::Update, Some(row.record_id.clone()));
    if matches!(identity, Identity::Matched(_)) {
        update.intent = "link";
    }
    update.properties = own.properties;
    update.state = [own.state, mine.to_vec()].concat();
    Some(update)
}
