//! Start-up validation of the sync rules against the live schemas of both sides (through
//! describe): unknown fields, type mismatches, value-map values that are not valid options,
//! read-only or create-only targets, and keys that are not unique.

use std::collections::BTreeMap;
use std::sync::Arc;

use crate::config::{Side, SyncRule, Transform};
use crate::connector::{
    Connector, ConnectorError, FieldKind, FieldProblem, MappedField, ObjectDescription,
};

use super::{self as rules, moves};

/// Why the rules could not be validated, or what is wrong with them.
#[derive(Debug, thiserror::Error)]
pub enum SchemaError {
    #[error("cannot describe {object} on {connector}")]
    Unreachable {
        connector: String,
        object: String,
        #[source]
        source: ConnectorError,
    },
    #[error("the sync rules do not match the live schemas:\n{}", .0.join("\n"))]
    Mismatch(Vec<String>),
}

/// Describes every synced object once and checks each block against it.
pub async fn validate(
    rules: &[SyncRule],
    connectors: &BTreeMap<String, Arc<dyn Connector>>,
) -> Result<(), SchemaError> {
    let mut described: BTreeMap<(String, String), ObjectDescription> = BTreeMap::new();
    let mut problems = Vec::new();
    for rule in rules {
        for side in [Side::Hubspot, Side::External] {
            let (name, object) = (rules::connector(rule, side), rules::object(rule, side));
            let key = (name.to_string(), object.to_string());
            if !described.contains_key(&key) {
                let Some(api) = connectors.get(name) else { continue };
                let description =
                    api.describe(object).await.map_err(|source| SchemaError::Unreachable {
                        connector: name.into(),
                        object: object.into(),
                        source,
                    })?;
                described.insert(key.clone(), description);
            }
            problems.extend(check_side(rule, side, &described[&key]));
        }
    }
    problems.dedup();
    if problems.is_empty() { Ok(()) } else { Err(SchemaError::Mismatch(problems)) }
}

/// Every problem of one block on one side, each naming the block, the field and the reason.
pub fn check_side(rule: &SyncRule, side: Side, object: &ObjectDescription) -> Vec<String> {
    let mut problems = Vec::new();
    let mut report = |field: &str, reason: String| {
        problems.push(format!(
            "  - sync block {}: {} field {} on {}: {reason}",
            rule.name,
            side.as_str(),
            field,
            object.name
        ));
    };
    for mapping in &rule.fields {
        let mapped = MappedField {
            name: rules::field(mapping, side).to_string(),
            written: moves(rule, mapping, side),
            kind: expected_kind(mapping.transform.as_ref()),
            values: value_map_values(mapping.transform.as_ref(), side),
        };
        for problem in object.check(&mapped) {
            // a date is written as midnight, which a date-time field takes too
            let date_into_datetime = mapped.kind == Some(FieldKind::Date)
                && problem == (FieldProblem::Kind { actual: FieldKind::DateTime });
            if !date_into_datetime {
                report(&mapped.name, describe(&problem, &mapped, object));
            }
        }
    }
    if let Some(key) = rules::partner_id_field(rule, side) {
        match object.field(key) {
            None => report(key, "no such field (it is the block's key)".into()),
            Some(field) if !field.unique => report(
                key,
                "is not unique (HubSpot: hasUniqueValue; Salesforce: External ID), so records \
                 cannot be upserted by it"
                    .into(),
            ),
            Some(_) => {}
        }
    }
    if side == Side::External {
        for association in &rule.associations {
            if object.field(&association.external_field).is_none() {
                report(&association.external_field, "no such field (association lookup)".into());
            }
        }
    }
    problems
}

fn describe(problem: &FieldProblem, mapped: &MappedField, object: &ObjectDescription) -> String {
    match problem {
        FieldProblem::Missing => "no such field".into(),
        FieldProblem::ReadOnly => "is read-only, but the rules write it".into(),
        FieldProblem::NotUpdateable => "can be set on create only (not updateable), but the rules \
                                        update it on existing records"
            .into(),
        FieldProblem::Kind { actual } => {
            let expected = mapped.kind.as_ref().map_or("another".into(), |k| format!("{k:?}"));
            let api_type = object.field(&mapped.name).map_or("", |f| f.api_type.as_str());
            format!(
                "the transform needs a {expected} field, but describe says {actual:?} (`{api_type}`)"
            )
        }
        FieldProblem::UnknownOption(value) => {
            let options = object.field(&mapped.name).into_iter().flat_map(|f| &f.options);
            let active: Vec<&str> =
                options.filter(|o| o.active).map(|o| o.value.as_str()).collect();
            format!(
                "value map sends `{value}`, which is not one of its options ({})",
                active.join(", ")
            )
        }
    }
}

/// The field type a transform needs.
fn expected_kind(transform: Option<&Transform>) -> Option<FieldKind> {
    match transform? {
        Transform::Number => Some(FieldKind::Number),
        Transform::Bool => Some(FieldKind::Bool),
        Transform::Date => Some(FieldKind::Date),
        Transform::Datetime => Some(FieldKind::DateTime),
        Transform::MultiSelect => Some(FieldKind::MultiEnumeration),
        _ => None,
    }
}

fn value_map_values(transform: Option<&Transform>, side: Side) -> Vec<String> {
    let Some(Transform::ValueMap { values, default, .. }) = transform else { return Vec::new() };
    values
        .iter()
        .chain(default)
        .map(|pair| match side {
            Side::Hubspot => pair.hubspot.clone(),
            Side::External => pair.external.clone(),
        })
        .collect()
}
