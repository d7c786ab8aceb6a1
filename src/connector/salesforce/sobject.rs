//! Salesforce rows as records: `Id`, `SystemModstamp` and the requested fields.

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::connector::{Properties, Record, parse_time};

pub fn modstamp(row: &Value) -> Option<DateTime<Utc>> {
    row["SystemModstamp"].as_str().and_then(parse_time)
}

/// A query or retrieve row as a [`Record`] (without the `attributes` block).
pub fn record(row: &Value) -> Option<Record> {
    let id = row["Id"].as_str()?.to_string();
    let properties: Properties = row
        .as_object()?
        .iter()
        .filter(|(name, _)| name.as_str() != "attributes")
        .map(|(name, value)| (name.clone(), value.clone()))
        .collect();
    Some(Record {
        id,
        modified_at: modstamp(row).unwrap_or(DateTime::<Utc>::UNIX_EPOCH),
        archived: row["IsDeleted"].as_bool().unwrap_or(false),
        properties,
    })
}
