//! Records as the REST API returns them: `attributes` (type and URL) plus field values.

use serde_json::{Map, Value, json};

use super::schema::ObjectDef;
use super::store::Record;

/// The record's REST URL under API `version` (`v59.0`).
pub fn record_url(version: &str, object: &str, id: &str) -> String {
    format!("/services/data/{version}/sobjects/{object}/{id}")
}

/// `record` with the given canonical `fields`, or every field of its object.
pub fn record(
    object: &ObjectDef,
    record: &Record,
    fields: Option<&[String]>,
    version: &str,
) -> Value {
    let mut out = Map::new();
    let attributes = json!({
        "type": object.name,
        "url": record_url(version, &object.name, record.id()),
    });
    out.insert("attributes".into(), attributes);
    match fields {
        Some(fields) => {
            for name in fields {
                out.insert(name.clone(), record.get(name).clone());
            }
        }
        None => {
            for field in &object.fields {
                out.insert(field.name.clone(), record.get(&field.name).clone());
            }
        }
    }
    Value::Object(out)
}
