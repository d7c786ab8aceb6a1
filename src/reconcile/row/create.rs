//! Creating a new record's partner: upserted on the other side by the key that holds the
//! source id, so that a retried create cannot duplicate.

use super::fields::Writes;
use super::{Outcome, item};
use crate::config::{Side, SyncRule};
use crate::connector::Properties;
use crate::error_kind::ErrorKind;
use crate::journal::{Completion, JournalRow};
use crate::rules::{self, create_key};
use crate::store::outbox::{NewItem, Operation, StateEntry};

/// The create of the partner of the new record `row` shows, carrying `theirs` and the
/// record's own state; or the outcome that stops the row: a one-way block, or no key.
pub(super) fn create(
    rule: &SyncRule,
    row: &JournalRow,
    theirs: Writes,
    mine: &[StateEntry],
    source: &Properties,
) -> Result<NewItem, Outcome> {
    let other = row.side.other();
    if !rules::writes_to(rule, other) {
        return Err(Outcome::Complete(Completion::Skipped, "one_way"));
    }
    let Some((field, value)) = create_key(rule, other, &row.record_id, source) else {
        return Err(Outcome::Fail(ErrorKind::NeedsOperator, no_key(rule, other)));
    };
    let mut create = item(rule, row, other, Operation::Upsert, None);
    create.unique_property = Some(field);
    create.unique_value = Some(value);
    create.properties = theirs.properties;
    create.state = [theirs.state, mine.to_vec()].concat();
    Ok(create)
}

fn no_key(rule: &SyncRule, other: Side) -> String {
    format!(
        "sync block {}: no key to create the record on the {} side with; set \
         keys.hubspot_unique_property, keys.external_id_field or keys.shared",
        rule.name,
        other.as_str()
    )
}
