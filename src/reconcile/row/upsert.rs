//! An upsert: who the record is on the other side, its fields decided against record
//! state, and the row's plan assembled from what moves, in a fixed order of effects.

use super::fields::Fields;
use super::identity::{Identity, identify, seeded};
use super::{Outcome, RowPlan, associations, conflict, create, link, update};
use crate::config::{Side, SyncRule};
use crate::connector::Properties;
use crate::error_kind::ErrorKind;
use crate::journal::{Completion, JournalRow};
use crate::reconcile::context::{Context, Observed};
use crate::reconcile::gather::{needs_hydration, observed, value_of};
use crate::rules::filter::in_scope;
use crate::rules::partner_id_field;
use crate::rules::transform::as_text;
use crate::store::outbox::StateEntry;
use crate::store::record_state::PairState;

pub(super) fn upsert(
    rule: &SyncRule,
    rules: &[SyncRule],
    row: &JournalRow,
    context: &mut Context,
) -> RowPlan {
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
    let Some(identity) = identify(rule, row, context) else {
        return RowPlan::settled(row, rule, Outcome::Defer("awaiting_write"));
    };
    let pair = pair_state(rule, side, &identity, context);
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

/// The pair's state to decide against: stored for a linked pair, what the partner holds for
/// a matched one, nothing for a new record.
fn pair_state(
    rule: &SyncRule,
    side: Side,
    identity: &Identity,
    context: &mut Context,
) -> PairState {
    match identity {
        Identity::Linked(link) => context.states.remove(&link.id).unwrap_or_default(),
        Identity::Matched(record) => seeded(rule, side.other(), record),
        Identity::New => PairState::new(),
    }
}

fn busy(rule: &SyncRule, row: &JournalRow, values: &Observed, context: &Context) -> bool {
    if context.is_busy(&rule.name, row.side, &row.record_id) {
        return true;
    }
    let Some(field) = partner_id_field(rule, row.side) else { return false };
    let Some((value, _)) = value_of(values, field) else { return false };
    context.busy_keys.contains(&(rule.name.clone(), row.side, as_text(value)))
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
    let mine = own_state(&fields);
    let theirs = fields.writes.remove(&other).unwrap_or_default();
    match &identity {
        Identity::New => match create::create(rule, row, theirs, &mine, source) {
            Ok(create) => plan.items.push(create),
            Err(outcome) => {
                plan.outcome = outcome;
                return plan;
            }
        },
        Identity::Linked(_) | Identity::Matched(_) => {
            let update = update::partner(rule, row, &identity, partner.clone(), theirs, &mine);
            plan.items.extend(update);
        }
    }
    let own = fields.writes.remove(&side).unwrap_or_default();
    plan.items.extend(update::own(rule, row, &identity, own, &mine));
    let carried = !plan.items.is_empty();
    if carried {
        context.mark_busy(&rule.name, side, &row.record_id);
        if let Some(partner) = &partner {
            context.mark_busy(&rule.name, other, partner);
        }
    }
    let carried_associations = std::mem::take(&mut fields.associations);
    plan.items.extend(associations::items(rule, row, &partner, carried_associations));
    plan.conflicts = conflict::with_ids(row, &partner, std::mem::take(&mut fields.conflicts));
    link::save_state(&mut plan, (rule, row), &identity, &fields, carried, context);
    plan.outcome = outcome(&plan, &fields, matches!(identity, Identity::Matched(_)));
    plan
}

/// The observed side's own values, as state saved with the writes.
fn own_state(fields: &Fields<'_>) -> Vec<StateEntry> {
    fields
        .mine
        .iter()
        .map(|(field, known)| StateEntry {
            side: fields.side,
            field: field.clone(),
            value: known.value.clone(),
            value_at: known.value_at,
            ours: false,
        })
        .collect()
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
