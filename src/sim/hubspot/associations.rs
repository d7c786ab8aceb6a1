//! Associations between records: HubSpot's default type ids, user-defined labels, and the
//! edges themselves, kept in both directions.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde::{Deserialize, Serialize};

/// `(from singular, to singular, id from→to, id to→from, label)`.
const DEFAULT_TYPES: &[(&str, &str, u32, u32, Option<&str>)] = &[
    ("contact", "company", 279, 280, None),
    ("contact", "company", 1, 2, Some("Primary")),
    ("deal", "contact", 3, 4, None),
    ("deal", "company", 341, 342, None),
    ("deal", "company", 5, 6, Some("Primary")),
    ("contact", "ticket", 15, 16, None),
    ("ticket", "company", 339, 340, None),
    ("ticket", "company", 26, 25, Some("Primary")),
    ("deal", "ticket", 27, 28, None),
    ("deal", "line_item", 19, 20, None),
    ("contact", "contact", 449, 449, None),
    ("company", "company", 450, 450, None),
    ("deal", "deal", 451, 451, None),
    ("ticket", "ticket", 452, 452, None),
    ("contact", "call", 193, 194, None),
    ("contact", "email", 197, 198, None),
    ("contact", "meeting", 199, 200, None),
    ("contact", "note", 201, 202, None),
    ("contact", "task", 203, 204, None),
    ("company", "call", 181, 182, None),
    ("company", "email", 185, 186, None),
    ("company", "meeting", 187, 188, None),
    ("company", "note", 189, 190, None),
    ("company", "task", 191, 192, None),
    ("deal", "call", 205, 206, None),
    ("deal", "email", 209, 210, None),
    ("deal", "meeting", 211, 212, None),
    ("deal", "note", 213, 214, None),
    ("deal", "task", 215, 216, None),
    ("ticket", "call", 219, 220, None),
    ("ticket", "email", 223, 224, None),
    ("ticket", "meeting", 225, 226, None),
    ("ticket", "note", 227, 228, None),
    ("ticket", "task", 229, 230, None),
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
    for (a, b, ab, ba, label) in DEFAULT_TYPES {
        let found = if (*a, *b) == (from, to) {
            Some((*ab, *ba))
        } else if (*b, *a) == (from, to) {
            Some((*ba, *ab))
        } else {
            None
        };
        if let Some((type_id, inverse_type_id)) = found {
            let label = label.map(str::to_string);
            labels.push(AssocLabel {
                category: "HUBSPOT_DEFINED".into(),
                type_id,
                label,
                inverse_type_id,
            });
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

    #[test]
    fn default_type_ids_match_hubspots_table_in_both_directions() {
        let ids = |from, to| default_labels(from, to).iter().map(|l| l.type_id).collect::<Vec<_>>();
        assert_eq!(ids("contact", "company"), vec![279, 1]);
        assert_eq!(ids("company", "contact"), vec![280, 2]);
        assert_eq!(ids("note", "contact"), vec![202]);
        assert_eq!(ids("task", "deal"), vec![216]);
        assert_eq!(ids("company", "ticket"), vec![340, 25]);
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
