//! A webhook change that is no newer than what hubsync already knows of its field, with a
//! different value. HubSpot stamps events in milliseconds and delivers them in any order,
//! so two edits in one millisecond arrive as a tie that the event alone cannot break: the
//! record is read again, and what it holds now decides.

use serde_json::Value;

use super::context::{Context, Observed};
use crate::config::SyncRule;
use crate::journal::JournalRow;
use crate::rules::transform::{as_text, is_blank};

/// The row carries a value some field's known state has already overtaken or tied with.
pub(super) fn row_is_overtaken(rules: &[&SyncRule], row: &JournalRow, context: &Context) -> bool {
    rules.iter().any(|rule| {
        let Some(link) = context.link(&rule.name, row.side, &row.record_id) else { return false };
        let Some(pair) = context.states.get(&link.id) else { return false };
        row.properties.iter().any(|(name, change)| {
            let Some(known) = pair.get(&(row.side, name.clone())) else { return false };
            let at = change.timestamp.unwrap_or(row.occurred_at);
            let value = change.value.clone().map_or(Value::Null, Value::String);
            at <= known.value_at && !same_text(&value, &known.value)
        })
    })
}

/// Where the record read again holds another value for a field the row carries, and was
/// modified no earlier than that change, the row's value is not current: the record's wins.
pub(super) fn prefer_current(observed: &mut Observed, row: &JournalRow, record_at: Observed) {
    for (name, change) in &row.properties {
        let at = change.timestamp.unwrap_or(row.occurred_at);
        let Some((current, modified)) = record_at.get(name) else { continue };
        let row_value = change.value.clone().map_or(Value::Null, Value::String);
        if *modified >= at && !same_text(current, &row_value) {
            observed.insert(name.clone(), (current.clone(), *modified));
        }
    }
}

fn same_text(a: &Value, b: &Value) -> bool {
    (is_blank(a) && is_blank(b)) || as_text(a) == as_text(b)
}
