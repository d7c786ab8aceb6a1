//! The record state a decided row saves: now, for a linked pair whose row writes nothing,
//! and with the new link, for a pair just matched by key.

use super::fields::Fields;
use super::identity::Identity;
use super::{NewLink, RowPlan};
use crate::config::{Side, SyncRule};
use crate::connector::Record;
use crate::journal::JournalRow;
use crate::reconcile::context::Context;
use crate::store::record_state::Known;

/// Saves the pair's state in `plan`: what the row's own side holds, unless writes carry it.
pub(super) fn save_state(
    plan: &mut RowPlan,
    (rule, row): (&SyncRule, &JournalRow),
    identity: &Identity,
    fields: &Fields<'_>,
    carried: bool,
    context: &mut Context,
) {
    let side = row.side;
    let now: Vec<(Side, String, Known)> = if carried {
        Vec::new()
    } else {
        fields.mine.iter().map(|(field, known)| (side, field.clone(), known.clone())).collect()
    };
    match identity {
        Identity::Linked(link) => {
            plan.state = now.into_iter().map(|(s, f, k)| (link.id, s, f, k)).collect();
            context.states.insert(link.id, fields.pair.clone());
        }
        Identity::Matched(record) => {
            plan.new_link = Some(new_link(rule, row, record, fields, now, context));
        }
        Identity::New => {}
    }
}

/// The link of a pair just matched by key, with the partner's state and what the row's
/// side holds now. Both records are busy until it commits.
fn new_link(
    rule: &SyncRule,
    row: &JournalRow,
    record: &Record,
    fields: &Fields<'_>,
    now: Vec<(Side, String, Known)>,
    context: &mut Context,
) -> NewLink {
    let (side, other) = (row.side, row.side.other());
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
    (h, e, state)
}
