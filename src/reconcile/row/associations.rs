//! Association pseudo-fields: the first associated record of each association rule,
//! carried as a lookup, decided against record state like a field, and written as
//! associate items once the record's own writes are queued.

use serde_json::Value;

use super::fields::Fields;
use super::item;
use crate::config::{AssociationRule, Side, SyncRule};
use crate::journal::JournalRow;
use crate::reconcile::context::{Context, Observed};
use crate::reconcile::decide::same;
use crate::reconcile::gather::value_of;
use crate::rules::transform::{as_text, is_blank};
use crate::rules::{self, association_field};
use crate::store::outbox::{AssociationTarget, NewItem, Operation, StateEntry};
use crate::store::record_state::Known;

/// What an observed association value means.
enum News {
    /// Nothing to carry: no news, stale, or a removal of nothing.
    Nothing,
    /// Another association of the record is still being written: the row waits for it.
    Wait,
    /// A new association, or a removal of a known one.
    Carry,
}

impl Fields<'_> {
    /// Association pseudo-fields: the first associated record, carried as a lookup.
    pub(super) fn associations(
        &mut self,
        rules: &[SyncRule],
        row: &JournalRow,
        values: &Observed,
        context: &Context,
    ) {
        let rule = self.rule;
        for association in &rule.associations {
            if !rules.iter().any(|r| r.name == association.to) {
                continue;
            }
            let Some(value) = self.association_value(association, row, values, context) else {
                continue;
            };
            match self.association_news(association, row, &value, context) {
                News::Nothing => continue,
                News::Wait => {
                    self.wait = true;
                    return;
                }
                News::Carry => self.carry_association(association, row, value),
            }
        }
    }

    /// The associated record's id as this side shows it: HubSpot's read association, or
    /// the external record's lookup field. `None` when the row says nothing of it.
    fn association_value(
        &self,
        association: &AssociationRule,
        row: &JournalRow,
        values: &Observed,
        context: &Context,
    ) -> Option<Value> {
        match self.side {
            Side::Hubspot => {
                let key = (self.rule.name.clone(), association.to.clone(), row.record_id.clone());
                context.associations.get(&key).map(|v| v.clone().map_or(Value::Null, Value::String))
            }
            Side::External => value_of(values, &association.external_field).map(|(v, _)| v.clone()),
        }
    }

    fn association_news(
        &self,
        association: &AssociationRule,
        row: &JournalRow,
        value: &Value,
        context: &Context,
    ) -> News {
        let name = association_field(&association.to);
        let mine = self.pair.get(&(self.side, name));
        if mine.is_some_and(|known| same(&known.value, value)) {
            return News::Nothing;
        }
        // a read older than what this side last held (a poll taken before our own write
        // landed, say) is stale: the lookup it shows is not an edit, least of all a removal
        if mine.is_some_and(|known| row.occurred_at < known.set_at) {
            return News::Nothing;
        }
        // an association still being written is what the record will hold: the same
        // one again is no news, another (or none) must wait until it has landed
        let key =
            (self.rule.name.clone(), self.side, row.record_id.clone(), association.to.clone());
        if let Some(writing) = context.busy_associations.get(&key) {
            if writing.iter().all(|id| *id == as_text(value)) && !is_blank(value) {
                return News::Nothing;
            }
            return News::Wait;
        }
        // a blank is a removal, carried only when an association was known before
        if is_blank(value) && mine.is_none_or(|known| is_blank(&known.value)) {
            return News::Nothing;
        }
        News::Carry
    }

    /// Remembers the association on this side and, where the pair writes the other side,
    /// carries it there with what it replaces.
    fn carry_association(&mut self, association: &AssociationRule, row: &JournalRow, value: Value) {
        let name = association_field(&association.to);
        let replaces = self
            .pair
            .get(&(self.side.other(), name.clone()))
            .filter(|known| !is_blank(&known.value))
            .map(|known| as_text(&known.value));
        let at = row.occurred_at;
        let known = Known { value: value.clone(), value_at: at, set_at: at, ..Known::default() };
        self.pair.insert((self.side, name.clone()), known);
        if !rules::writes_to(self.rule, self.side.other()) {
            return;
        }
        let target = AssociationTarget {
            to_sync: association.to.clone(),
            to_source_id: if is_blank(&value) { String::new() } else { as_text(&value) },
            replaces,
            external_field: association.external_field.clone(),
            hubspot_type_id: association.hubspot_type_id,
        };
        let state = StateEntry { side: self.side, field: name, value, value_at: at, ours: false };
        self.associations.push((target, state));
    }
}

/// One associate item per carried association, towards the partner.
pub(super) fn items(
    rule: &SyncRule,
    row: &JournalRow,
    partner: &Option<String>,
    associations: Vec<(AssociationTarget, StateEntry)>,
) -> Vec<NewItem> {
    let other = row.side.other();
    let mut items = Vec::new();
    for (target, entry) in associations {
        let mut associate = item(rule, row, other, Operation::Associate, partner.clone());
        if let Ok(Value::Object(map)) = serde_json::to_value(&target) {
            associate.properties = map.into_iter().collect();
        }
        associate.state = vec![entry];
        items.push(associate);
    }
    items
}
