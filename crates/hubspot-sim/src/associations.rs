//! Associations between records: HubSpot's default type ids, user-defined labels, and the
//! edges themselves, kept in both directions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// `(from singular, to singular, id from→to, id to→from, label from→to, label to→from)`.
/// Same-type pairs with two ids (parent/child companies) hold both directions in one row.
type DefaultType =
    (&'static str, &'static str, u32, u32, Option<&'static str>, Option<&'static str>);

/// HubSpot-defined association types, per the fact sheet's default table.
const DEFAULT_TYPES: &[DefaultType] = &[
    ("contact", "company", 279, 280, None, None),
    ("contact", "company", 1, 2, Some("Primary"), Some("Primary")),
    ("deal", "contact", 3, 4, None, None),
    ("deal", "company", 341, 342, None, None),
    ("deal", "company", 5, 6, Some("Primary"), Some("Primary")),
    ("contact", "ticket", 15, 16, None, None),
    ("ticket", "company", 339, 340, None, None),
    ("ticket", "company", 26, 25, Some("Primary"), Some("Primary")),
    ("deal", "ticket", 27, 28, None, None),
    ("deal", "line_item", 19, 20, None, None),
    ("contact", "contact", 449, 449, None, None),
    ("company", "company", 450, 450, None, None),
    ("company", "company", 13, 14, Some("Child Company"), Some("Parent Company")),
    ("deal", "deal", 451, 451, None, None),
    ("ticket", "ticket", 452, 452, None, None),
    ("contact", "call", 193, 194, None, None),
    ("contact", "email", 197, 198, None, None),
    ("contact", "meeting", 199, 200, None, None),
    ("contact", "note", 201, 202, None, None),
    ("contact", "task", 203, 204, None, None),
    ("company", "call", 181, 182, None, None),
    ("company", "email", 185, 186, None, None),
    ("company", "meeting", 187, 188, None, None),
    ("company", "note", 189, 190, None, None),
    ("company", "task", 191, 192, None, None),
    ("deal", "call", 205, 206, None, None),
    ("deal", "email", 209, 210, None, None),
    ("deal", "meeting", 211, 212, None, None),
    ("deal", "note", 213, 214, None, None),
    ("deal", "task", 215, 216, None, None),
    ("ticket", "call", 219, 220, None, None),
    ("ticket", "email", 223, 224, None, None),
    ("ticket", "meeting", 225, 226, None, None),
    ("ticket", "note", 227, 228, None, None),
    ("ticket", "task", 229, 230, None, None),
    ("contact", "communication", 82, 81, None, None),
    ("ticket", "communication", 84, 83, None, None),
    ("deal", "communication", 86, 85, None, None),
    ("company", "communication", 88, 87, None, None),
    ("contact", "postal_mail", 454, 453, None, None),
    ("ticket", "postal_mail", 456, 455, None, None),
    ("deal", "postal_mail", 458, 457, None, None),
    ("company", "postal_mail", 460, 459, None, None),
];

/// An association type between two object types, as the labels endpoint lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct AssocLabel {
    pub category: String,
    pub type_id: u32,
    pub label: Option<String>,
    /// The type id of the same association seen from the other side.
    pub inverse_type_id: u32,
}

/// A label defined through the API (or a custom object's association definition).
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct DefinedLabel {
    pub from_type: String,
    pub to_type: String,
    pub label: AssocLabel,
    pub name: Option<String>,
}

/// One association type on an edge: `(category, type id)`.
pub type EdgeType = (String, u32);

/// All edges, in both directions, plus user-defined labels.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct Associations {
    /// `"{fromTypeId}:{fromId}"` → to type id → to id → association types.
    edges: HashMap<String, BTreeMap<String, BTreeMap<u64, BTreeSet<EdgeType>>>>,
    defined: Vec<DefinedLabel>,
    next_type_id: u32,
}

fn key(type_id: &str, id: u64) -> String {
    format!("{type_id}:{id}")
}

/// HubSpot-defined association types between two standard types (by singular name).
pub fn default_labels(from: &str, to: &str) -> Vec<AssocLabel> {
    let mut labels = Vec::new();
    let mut push = |type_id: u32, inverse_type_id: u32, label: Option<&str>| {
        labels.push(AssocLabel {
            category: "HUBSPOT_DEFINED".into(),
            type_id,
            label: label.map(str::to_string),
            inverse_type_id,
        });
    };
    for (a, b, ab, ba, label, inverse_label) in DEFAULT_TYPES {
        if (*a, *b) == (from, to) {
            push(*ab, *ba, *label);
        }
        // A same-type row already matched above; its reverse is new only with its own id.
        if (*b, *a) == (from, to) && (a != b || ab != ba) {
            push(*ba, *ab, *inverse_label);
        }
    }
    labels.sort_by_key(|l| l.label.is_some());
    labels
}

impl Associations {
    /// Every association type between two object types: defaults first, then defined ones.
    pub fn labels(&self, from: (&str, &str), to: (&str, &str)) -> Vec<AssocLabel> {
        let mut labels = default_labels(from.1, to.1);
        let defined = self.defined.iter().filter(|d| d.from_type == from.0 && d.to_type == to.0);
        labels.extend(defined.map(|d| d.label.clone()));
        labels
    }

    /// Defines a new association type (both directions) and returns it.
    pub fn define(
        &mut self,
        from: &str,
        to: &str,
        label: Option<String>,
        inverse_label: Option<String>,
        name: Option<String>,
        category: &str,
    ) -> AssocLabel {
        self.next_type_id = self.next_type_id.max(1000) + 1;
        let type_id = self.next_type_id;
        let same = from == to && inverse_label.is_none();
        let inverse_type_id = if same { type_id } else { self.next_type_id + 1 };
        if !same {
            self.next_type_id += 1;
        }
        let forward = AssocLabel {
            category: category.into(),
            type_id,
            label: label.clone(),
            inverse_type_id,
        };
        let back = AssocLabel {
            category: category.into(),
            type_id: inverse_type_id,
            label: inverse_label.or(label),
            inverse_type_id: type_id,
        };
        self.defined.push(DefinedLabel {
            from_type: from.into(),
            to_type: to.into(),
            label: forward.clone(),
            name: name.clone(),
        });
        if !same || from != to {
            self.defined.push(DefinedLabel {
                from_type: to.into(),
                to_type: from.into(),
                label: back,
                name,
            });
        }
        forward
    }

    /// Association types defined from one object type (for schema answers).
    pub fn defined_from(&self, type_id: &str) -> impl Iterator<Item = &DefinedLabel> {
        self.defined.iter().filter(move |d| d.from_type == type_id)
    }

    /// Renames a defined label; false if no such type id.
    pub fn relabel(&mut self, from: &str, to: &str, type_id: u32, label: String) -> bool {
        let found = self
            .defined
            .iter_mut()
            .find(|d| d.from_type == from && d.to_type == to && d.label.type_id == type_id);
        found.map(|d| d.label.label = Some(label)).is_some()
    }

    /// Removes a defined label in both directions; false if no such type id.
    pub fn undefine(&mut self, from: &str, to: &str, type_id: u32) -> bool {
        let Some(inverse) = self
            .defined
            .iter()
            .find(|d| d.from_type == from && d.to_type == to && d.label.type_id == type_id)
            .map(|d| d.label.inverse_type_id)
        else {
            return false;
        };
        self.defined.retain(|d| {
            !((d.from_type == from && d.to_type == to && d.label.type_id == type_id)
                || (d.from_type == to && d.to_type == from && d.label.type_id == inverse))
        });
        true
    }

    /// Adds one association type between two records, in both directions. Returns whether
    /// it is new.
    pub fn add(&mut self, from: (&str, u64), to: (&str, u64), label: &AssocLabel) -> bool {
        let category = label.category.clone();
        let forward = self.edge_types(from, to).insert((category.clone(), label.type_id));
        self.edge_types(to, from).insert((category, label.inverse_type_id));
        forward
    }

    /// Removes the given association types (all when `only` is `None`) between two records,
    /// in both directions. Returns the types removed from the `from` side.
    pub fn remove(
        &mut self,
        from: (&str, u64),
        to: (&str, u64),
        only: Option<&[AssocLabel]>,
    ) -> Vec<EdgeType> {
        let removed = self.take(from, to, only.map(|l| l.iter().map(|l| l.type_id).collect()));
        let inverse = only.map(|l| l.iter().map(|l| l.inverse_type_id).collect());
        self.take(to, from, inverse);
        removed
    }

    fn take(
        &mut self,
        from: (&str, u64),
        to: (&str, u64),
        only: Option<Vec<u32>>,
    ) -> Vec<EdgeType> {
        let Some(by_type) = self.edges.get_mut(&key(from.0, from.1)) else { return Vec::new() };
        let Some(targets) = by_type.get_mut(to.0) else { return Vec::new() };
        let Some(types) = targets.get_mut(&to.1) else { return Vec::new() };
        let removed: Vec<EdgeType> = match only {
            None => std::mem::take(types).into_iter().collect(),
            Some(ids) => {
                let gone: Vec<EdgeType> =
                    types.iter().filter(|t| ids.contains(&t.1)).cloned().collect();
                types.retain(|t| !ids.contains(&t.1));
                gone
            }
        };
        if types.is_empty() {
            targets.remove(&to.1);
        }
        removed
    }

    fn edge_types(&mut self, from: (&str, u64), to: (&str, u64)) -> &mut BTreeSet<EdgeType> {
        self.edges
            .entry(key(from.0, from.1))
            .or_default()
            .entry(to.0.to_string())
            .or_default()
            .entry(to.1)
            .or_default()
    }

    /// The records of `to_type` associated with a record, in id order, with their types.
    pub fn of(&self, from: (&str, u64), to_type: &str) -> Vec<(u64, Vec<EdgeType>)> {
        self.edges
            .get(&key(from.0, from.1))
            .and_then(|by_type| by_type.get(to_type))
            .map(|targets| {
                targets.iter().map(|(id, t)| (*id, t.iter().cloned().collect())).collect()
            })
            .unwrap_or_default()
    }

    /// Every association of a record, by target type.
    pub fn all_of(&self, from: (&str, u64)) -> Vec<(String, u64, Vec<EdgeType>)> {
        let Some(by_type) = self.edges.get(&key(from.0, from.1)) else { return Vec::new() };
        let mut all = Vec::new();
        for (to_type, targets) in by_type {
            for (id, types) in targets {
                all.push((to_type.clone(), *id, types.iter().cloned().collect()));
            }
        }
        all
    }

    /// Forgets every association of a record (GDPR delete, merged-away records).
    pub fn forget(&mut self, from: (&str, u64)) -> Vec<(String, u64, Vec<EdgeType>)> {
        let all = self.all_of(from);
        for (to_type, to_id, _) in &all {
            self.take((to_type, *to_id), from, None);
        }
        self.edges.remove(&key(from.0, from.1));
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The fact sheet's default type table (§6), one `(from, to, id, inverse id)` per row.
    const FACT_SHEET: &[(&str, &str, u32, u32)] = &[
        ("contact", "company", 1, 2),
        ("contact", "company", 279, 280),
        ("deal", "contact", 3, 4),
        ("deal", "company", 5, 6),
        ("deal", "company", 341, 342),
        ("contact", "ticket", 15, 16),
        ("company", "ticket", 25, 26),
        ("ticket", "company", 339, 340),
        ("deal", "ticket", 27, 28),
        ("company", "company", 13, 14),
        ("contact", "contact", 449, 449),
        ("company", "company", 450, 450),
        ("deal", "deal", 451, 451),
        ("ticket", "ticket", 452, 452),
        ("contact", "call", 193, 194),
        ("contact", "email", 197, 198),
        ("contact", "meeting", 199, 200),
        ("contact", "note", 201, 202),
        ("contact", "task", 203, 204),
        ("company", "call", 181, 182),
        ("company", "email", 185, 186),
        ("company", "meeting", 187, 188),
        ("company", "note", 189, 190),
        ("company", "task", 191, 192),
        ("deal", "call", 205, 206),
        ("deal", "email", 209, 210),
        ("deal", "meeting", 211, 212),
        ("deal", "note", 213, 214),
        ("deal", "task", 215, 216),
        ("ticket", "call", 219, 220),
        ("ticket", "email", 223, 224),
        ("ticket", "meeting", 225, 226),
        ("ticket", "note", 227, 228),
        ("ticket", "task", 229, 230),
        ("contact", "communication", 82, 81),
        ("ticket", "communication", 84, 83),
        ("deal", "communication", 86, 85),
        ("company", "communication", 88, 87),
        ("contact", "postal_mail", 454, 453),
        ("ticket", "postal_mail", 456, 455),
        ("deal", "postal_mail", 458, 457),
        ("company", "postal_mail", 460, 459),
    ];

    fn has(from: &str, to: &str, type_id: u32, inverse_type_id: u32) -> bool {
        let labels = default_labels(from, to);
        labels.iter().any(|l| (l.type_id, l.inverse_type_id) == (type_id, inverse_type_id))
    }

    #[test]
    fn default_type_ids_match_the_fact_sheet_row_by_row_in_both_directions() {
        for (from, to, id, inverse) in FACT_SHEET {
            assert!(has(from, to, *id, *inverse), "{from} → {to} is {id}");
            assert!(has(to, from, *inverse, *id), "{to} → {from} is {inverse}");
        }
    }

    #[test]
    fn same_type_pairs_list_each_direction_once_with_the_unlabeled_type_first() {
        let ids = |from, to| default_labels(from, to).iter().map(|l| l.type_id).collect::<Vec<_>>();
        assert_eq!(ids("company", "company"), vec![450, 13, 14]);
        assert_eq!(ids("contact", "contact"), vec![449]);
        assert_eq!(ids("contact", "company"), vec![279, 1]);
        assert_eq!(ids("company", "ticket"), vec![340, 25]);
        let labels = default_labels("company", "company");
        let label = |id: u32| labels.iter().find(|l| l.type_id == id).unwrap().label.clone();
        assert_eq!(
            (label(13), label(14)),
            (Some("Child Company".into()), Some("Parent Company".into()))
        );
    }

    #[test]
    fn an_edge_is_visible_from_both_ends_with_the_inverse_type() {
        let mut assoc = Associations::default();
        let label = default_labels("contact", "company").remove(0);
        assert!(assoc.add(("0-1", 7), ("0-2", 9), &label));
        assert_eq!(assoc.of(("0-2", 9), "0-1"), vec![(7, vec![("HUBSPOT_DEFINED".into(), 280)])]);
        assoc.remove(("0-2", 9), ("0-1", 7), None);
        assert!(assoc.of(("0-1", 7), "0-2").is_empty());
    }
}
