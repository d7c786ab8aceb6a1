//! Deletes and merges: a delete carried to the partner as the block's policy says, and a
//! merge that moves the absorbed record's link to the record it was merged into.

use super::{Outcome, RowPlan, item};
use crate::config::{DeletePolicy, Side, SyncRule};
use crate::journal::{Completion, JournalRow};
use crate::reconcile::context::Context;
use crate::rules;
use crate::store::outbox::Operation;

pub(super) fn merge(
    rule: &SyncRule,
    row: &JournalRow,
    context: &mut Context,
    into: &str,
) -> RowPlan {
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

pub(super) fn delete(rule: &SyncRule, row: &JournalRow, context: &mut Context) -> RowPlan {
    if row.is_privacy_deletion() {
        return super::privacy::plan(rule, row, context);
    }
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
