//! Making and removing association edges: checking type ids and records, Primary implying
//! the unlabeled type, and the association-change events on both records.

use serde::Deserialize;
use serde_json::{Value, json};

use super::associations::AssocLabel;
use super::error::{ApiError, ApiResult};
use super::events::ChangeKind;
use super::store::Store;
use super::types::ObjectType;
use super::write::{WriteCtx, note};

#[derive(Debug, Clone, Deserialize)]
pub struct IdRef {
    #[serde(deserialize_with = "IdRef::text")]
    pub id: String,
}

impl IdRef {
    /// Ids arrive as strings, though some clients send numbers.
    pub fn text<'de, D: serde::Deserializer<'de>>(d: D) -> Result<String, D::Error> {
        match Value::deserialize(d)? {
            Value::String(s) => Ok(s),
            other => Ok(other.to_string()),
        }
    }
}

#[derive(Debug, Clone, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct TypeSpec {
    pub association_category: String,
    pub association_type_id: u32,
}

/// An association in a create body.
#[derive(Debug, Clone, Deserialize)]
pub struct AssocInput {
    pub to: IdRef,
    #[serde(default)]
    pub types: Vec<TypeSpec>,
}

/// A checked association to make: target type, target id, association type.
pub type Link = (ObjectType, u64, AssocLabel);

pub(super) fn labels_between(store: &Store, from: &ObjectType, to: &ObjectType) -> Vec<AssocLabel> {
    store.associations.labels((&from.type_id, &from.singular), (&to.type_id, &to.singular))
}

pub(super) fn invalid_type(type_id: u32) -> ApiError {
    ApiError::validation(format!("{type_id} is not a valid association type id"))
        .with_context(json!({"INVALID_ASSOCIATION_TYPE_ID": [type_id.to_string()]}))
}

pub(super) fn find_label(
    store: &Store,
    from: &ObjectType,
    to: &ObjectType,
    spec: &TypeSpec,
) -> ApiResult<AssocLabel> {
    labels_between(store, from, to)
        .into_iter()
        .find(|l| l.type_id == spec.association_type_id && l.category == spec.association_category)
        .ok_or_else(|| invalid_type(spec.association_type_id))
}

pub(super) fn existing(store: &Store, object: &ObjectType, raw: &str) -> ApiResult<u64> {
    raw.parse::<u64>()
        .ok()
        .and_then(|id| store.record(&object.type_id, id))
        .filter(|r| !r.archived())
        .map(|r| r.id)
        .ok_or_else(|| ApiError::validation(format!("No {} with id {raw} exists", object.singular)))
}

/// Checks a create body's associations: the target type follows from the type id.
pub fn check_inputs(
    store: &Store,
    from: &ObjectType,
    inputs: &[AssocInput],
) -> ApiResult<Vec<Link>> {
    let mut links = Vec::new();
    for input in inputs {
        for spec in &input.types {
            let (target, label) = store
                .types
                .all()
                .find_map(|t| find_label(store, from, t, spec).ok().map(|l| (t.clone(), l)))
                .ok_or_else(|| invalid_type(spec.association_type_id))?;
            let to_id = existing(store, &target, &input.to.id)?;
            links.push((target, to_id, label));
        }
    }
    Ok(links)
}

pub fn link_all(store: &mut Store, from: &ObjectType, id: u64, links: &[Link], ctx: &WriteCtx) {
    for (target, to_id, label) in links {
        associate(store, (from, id), (target, *to_id), label, ctx);
    }
}

fn association_type(from: &ObjectType, to: &ObjectType) -> String {
    format!("{}_TO_{}", from.upper(), to.upper())
}

/// Adds an association type (a Primary also adds the unlabeled one) and notes the change
/// on both records.
pub fn associate(
    store: &mut Store,
    from: (&ObjectType, u64),
    to: (&ObjectType, u64),
    label: &AssocLabel,
    ctx: &WriteCtx,
) {
    let mut labels = vec![label.clone()];
    if label.label.as_deref() == Some("Primary")
        && let Some(plain) =
            labels_between(store, from.0, to.0).into_iter().find(|l| l.label.is_none())
    {
        labels.push(plain);
    }
    for label in labels {
        if store.associations.add((&from.0.type_id, from.1), (&to.0.type_id, to.1), &label) {
            let primary = label.label.as_deref() == Some("Primary");
            note_both(store, from, to, false, primary, ctx);
        }
    }
}

fn note_both(
    store: &mut Store,
    from: (&ObjectType, u64),
    to: (&ObjectType, u64),
    removed: bool,
    primary: bool,
    ctx: &WriteCtx,
) {
    for (a, b) in [(from, to), (to, from)] {
        let kind = ChangeKind::AssociationChange {
            association_type: association_type(a.0, b.0),
            to_id: b.1,
            removed,
            primary,
        };
        note(store, a.0, a.1, kind, ctx);
    }
}

pub fn disassociate(
    store: &mut Store,
    from: (&ObjectType, u64),
    to: (&ObjectType, u64),
    only: Option<&[AssocLabel]>,
    ctx: &WriteCtx,
) {
    let removed = store.associations.remove((&from.0.type_id, from.1), (&to.0.type_id, to.1), only);
    if !removed.is_empty() {
        let primary = removed.iter().any(|(_, id)| [1, 2, 5, 6, 25, 26].contains(id));
        note_both(store, from, to, true, primary, ctx);
    }
}

pub(super) fn pair(store: &Store, from: &str, to: &str) -> ApiResult<(ObjectType, ObjectType)> {
    Ok((store.object_type(from)?, store.object_type(to)?))
}
