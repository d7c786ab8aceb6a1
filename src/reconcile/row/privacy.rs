//! A HubSpot privacy deletion (GDPR): the person asked to be forgotten. The block's
//! `privacy_deletion` policy, not its `delete` policy, says what happens to the partner, and
//! hubsync's own copies of both records' values are blanked when the plan commits.

use serde_json::Value;

use super::{Forget, Outcome, RowPlan, item};
use crate::config::{PrivacyPolicy, Side, SyncRule};
use crate::journal::{Completion, JournalRow};
use crate::reconcile::context::Context;
use crate::rules;
use crate::store::outbox::{Operation, StateEntry};

/// What a scrub writes where the partner's CRM requires a value.
pub const PLACEHOLDER: &str = "[deleted]";

pub(super) fn plan(rule: &SyncRule, row: &JournalRow, context: &mut Context) -> RowPlan {
    let complete = |reason| Outcome::Complete(Completion::Applied, reason);
    let skip = |reason| Outcome::Complete(Completion::Skipped, reason);
    if rule.privacy_deletion == PrivacyPolicy::Flag {
        return RowPlan::settled(row, rule, skip("privacy_flagged"));
    }
    let target = row.side.other();
    let link = context.link(&rule.name, row.side, &row.record_id).cloned();
    let partner = link.as_ref().map(|l| l.id_on(target).to_string());
    let mut plan = match &partner {
        None => RowPlan::settled(row, rule, skip("privacy_unlinked")),
        Some(_) if !rules::writes_to(rule, target) => RowPlan::settled(row, rule, skip("one_way")),
        Some(id) if context.is_busy(&rule.name, target, id) => {
            return RowPlan::settled(row, rule, Outcome::Defer("awaiting_write"));
        }
        Some(id) => {
            let (operation, reason) = match rule.privacy_deletion {
                PrivacyPolicy::Delete => (Operation::Archive, "privacy_deleted"),
                _ => (Operation::Update, "privacy_scrubbed"),
            };
            let mut plan = RowPlan::settled(row, rule, complete(reason));
            let mut write = item(rule, row, target, operation, Some(id.clone()));
            if operation == Operation::Update {
                write.properties = scrubbed(rule, target, context);
                // what hubsync wrote, so the partner's next read is known as its echo
                let now = chrono::Utc::now();
                write.state = write
                    .properties
                    .iter()
                    .map(|(field, value)| StateEntry {
                        side: target,
                        field: field.clone(),
                        value: value.clone(),
                        value_at: now,
                        ours: true,
                    })
                    .collect();
            }
            plan.items.push(write);
            context.mark_busy(&rule.name, target, id);
            plan
        }
    };
    let ids = [(row.side, Some(row.record_id.clone())), (target, partner)];
    let records = ids
        .into_iter()
        .filter_map(|(side, id)| {
            let (name, object) = (rules::connector(rule, side), rules::object(rule, side));
            Some((side, name.to_string(), object.to_string(), id?))
        })
        .collect();
    let link_id = link.map(|l| l.id);
    plan.forget.push(Forget { sync_name: rule.name.clone(), records, link_id });
    plan
}

/// Every field the block writes on `target`, blank, or the placeholder where `target`'s CRM
/// requires a value.
fn scrubbed(rule: &SyncRule, target: Side, context: &Context) -> crate::connector::Properties {
    let required = context.required.get(&(rule.name.clone(), target));
    rule.fields
        .iter()
        .filter(|mapping| rules::moves(rule, mapping, target))
        .map(|mapping| {
            let name = rules::field(mapping, target).to_string();
            let needed = required.is_some_and(|r| r.contains(&name.to_lowercase()));
            let value = if needed { Value::String(PLACEHOLDER.into()) } else { Value::Null };
            (name, value)
        })
        .collect()
}
