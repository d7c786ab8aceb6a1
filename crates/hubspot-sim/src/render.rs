//! Records as HubSpot's JSON shows them: `SimplePublicObject` with string ids, ISO
//! timestamps with milliseconds, requested properties (null when empty), history and the
//! v3 `associations` block.

use serde_json::{Map, Value, json};

use super::associations::{AssocLabel, EdgeType};
use super::properties::iso_ms;
use super::store::{HistoryEntry, Record, Store};
use super::types::ObjectType;

/// Which properties a read asks for.
#[derive(Debug, Clone, Default)]
pub struct Projection {
    /// `None`: the type's defaults.
    pub properties: Option<Vec<String>>,
    pub with_history: Vec<String>,
    /// Object types whose associations to list (v3 `associations` block).
    pub associations: Vec<ObjectType>,
}

impl Projection {
    /// Parses comma-separated query values.
    pub fn from_query(properties: Option<&str>, history: Option<&str>) -> Self {
        Projection {
            properties: properties.map(split_list),
            with_history: history.map(split_list).unwrap_or_default(),
            associations: Vec::new(),
        }
    }
}

pub fn split_list(text: &str) -> Vec<String> {
    text.split(',').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect()
}

/// The object envelope around a record, with the chosen properties.
pub fn object(record: &Record, properties: Map<String, Value>) -> Value {
    let mut body = json!({
        "id": record.id.to_string(),
        "properties": properties,
        "createdAt": iso_ms(record.created_at),
        "updatedAt": iso_ms(record.updated_at),
        "archived": record.archived(),
    });
    if let Some(at) = record.archived_at {
        body["archivedAt"] = json!(iso_ms(at));
    }
    body
}

/// A record as a read returns it.
pub fn read(object_type: &ObjectType, record: &Record, projection: &Projection) -> Value {
    let mut properties = Map::new();
    let wanted = projection.properties.as_ref().unwrap_or(&object_type.default_properties);
    for name in wanted.iter().map(String::as_str).chain(object_type.always_returned()) {
        let value = record.get(name).map_or(Value::Null, |v| json!(v));
        properties.insert(name.to_string(), value);
    }
    let mut body = object(record, properties);
    if !projection.with_history.is_empty() {
        body["propertiesWithHistory"] = history(record, &projection.with_history);
    }
    body
}

/// A record as a write returns it: every property it has.
pub fn written(record: &Record) -> Value {
    let properties = record.properties.iter().map(|(k, v)| (k.clone(), json!(v))).collect();
    object(record, properties)
}

fn history(record: &Record, names: &[String]) -> Value {
    let mut all = Map::new();
    for name in names {
        let entries = record.history.get(name).map(Vec::as_slice).unwrap_or_default();
        all.insert(name.clone(), Value::Array(entries.iter().map(history_entry).collect()));
    }
    Value::Object(all)
}

fn history_entry(entry: &HistoryEntry) -> Value {
    let mut item = json!({
        "value": entry.value,
        "timestamp": iso_ms(entry.timestamp),
        "sourceType": entry.source_type,
    });
    if let Some(id) = &entry.source_id {
        item["sourceId"] = json!(id);
    }
    if let Some(user) = entry.updated_by_user_id {
        item["updatedByUserId"] = json!(user);
    }
    item
}

/// The v3 `associations` block: by plural type name, each `{results: [{id, type}]}`.
pub fn associations_block(store: &Store, from: &ObjectType, id: u64, to: &[ObjectType]) -> Value {
    let mut block = Map::new();
    for target in to {
        let edges = store.associations.of((&from.type_id, id), &target.type_id);
        if edges.is_empty() {
            continue;
        }
        let labels = store
            .associations
            .labels((&from.type_id, &from.singular), (&target.type_id, &target.singular));
        let results: Vec<Value> = edges
            .iter()
            .flat_map(|(to_id, types)| {
                types.iter().map(|t| json!({"id": to_id.to_string(), "type": type_name(from, target, t, &labels)}))
            })
            .collect();
        block.insert(target.name.clone(), json!({"results": results}));
    }
    Value::Object(block)
}

/// `contact_to_company` for the primary (or only) type, `…_unlabeled` next to a primary,
/// and the label's snake-case for user labels.
fn type_name(from: &ObjectType, to: &ObjectType, edge: &EdgeType, labels: &[AssocLabel]) -> String {
    let base = format!("{}_to_{}", from.singular, to.singular);
    let has_primary = labels.iter().any(|l| l.label.as_deref() == Some("Primary"));
    match labels.iter().find(|l| l.type_id == edge.1).and_then(|l| l.label.clone()) {
        Some(label) if label == "Primary" => base,
        Some(label) => label.to_lowercase().replace(' ', "_"),
        None if has_primary => format!("{base}_unlabeled"),
        None => base,
    }
}

/// `associationTypes` entries of the v4 API.
pub fn v4_types(types: &[EdgeType], labels: &[AssocLabel]) -> Vec<Value> {
    types
        .iter()
        .map(|(category, type_id)| {
            let label = labels.iter().find(|l| l.type_id == *type_id).and_then(|l| l.label.clone());
            json!({"category": category, "typeId": type_id, "label": label})
        })
        .collect()
}
