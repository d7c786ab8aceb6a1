//! Reading HubSpot answers: records, and batch results (200 or 207) matched back to their
//! inputs as one result per item.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::connector::{ConnectorError, ItemResult, Properties, Record, RetryReason, parse_time};

/// The ids merged into `record` (`hs_merged_object_ids`, `;`-separated), its own left out.
pub fn merged_ids(record: &Record) -> Vec<String> {
    let ids = record.properties.get("hs_merged_object_ids").and_then(text).unwrap_or_default();
    ids.split(';')
        .map(str::trim)
        .filter(|id| !id.is_empty() && *id != record.id)
        .map(String::from)
        .collect()
}

/// A `SimplePublicObject` as a [`Record`]; `modified` names the last-modified property.
pub fn record(mut value: Value, modified: &str) -> Option<Record> {
    let id = text(&value["id"])?;
    let properties: Properties = match value["properties"].take() {
        Value::Object(map) => map.into_iter().collect(),
        _ => Properties::default(),
    };
    let modified_at = properties
        .get(modified)
        .and_then(Value::as_str)
        .and_then(parse_time)
        .or_else(|| value["updatedAt"].as_str().and_then(parse_time))
        .unwrap_or(DateTime::<Utc>::UNIX_EPOCH);
    let archived = value["archived"].as_bool().unwrap_or(false);
    Some(Record { id, properties, modified_at, archived })
}

/// A response's `results`, taken out of its body. An answer without a `results` array (an
/// empty or foreign body) says nothing, and is an error to retry, never an empty page.
pub fn results(mut body: Value) -> Result<Vec<Value>, ConnectorError> {
    match body["results"].take() {
        Value::Array(results) => Ok(results),
        _ => Err(ConnectorError::unreadable("hubspot", 200, "no `results` array")),
    }
}

/// The ids a batch item error names in its context (`ids`, or `id`).
pub fn error_ids(error: &Value) -> Vec<String> {
    let context = &error["context"];
    let ids = context["ids"].as_array().or_else(|| context["id"].as_array());
    ids.into_iter().flatten().filter_map(text).collect()
}

/// A JSON string or number as text (HubSpot prints ids both ways).
pub fn text(value: &Value) -> Option<String> {
    match value {
        Value::String(s) => Some(s.clone()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
}

/// One batch item error as a per-item result.
pub fn item_error(error: &Value) -> ItemResult {
    let category = error["category"].as_str().unwrap_or("ERROR");
    let message = error["message"].as_str().unwrap_or_default().to_string();
    if category == "OBJECT_NOT_FOUND" {
        return ItemResult::NotFound;
    }
    let reason = match category {
        "RATE_LIMITS" => Some(RetryReason::RateLimited),
        "LOCKED" => Some(RetryReason::Lock),
        "INTERNAL_ERROR" => Some(RetryReason::ServerError),
        _ => None,
    };
    if let Some(reason) = reason {
        // stored as the item's last error: the category, never the API's text, which can
        // quote the record's values
        return ItemResult::Retryable { reason, wait: None, message: category.to_string() };
    }
    let detail = &error["errors"][0];
    let code = detail["code"].as_str().unwrap_or(category);
    let field = detail["context"]["propertyName"][0]
        .as_str()
        .or_else(|| error["context"]["propertyName"][0].as_str())
        .map(str::to_string);
    ItemResult::permanent(code, message, field)
}

/// Which input an error item belongs to: its `objectWriteTraceId`, else its `id`.
fn error_index(error: &Value, by_key: &HashMap<String, usize>) -> Option<usize> {
    let context = &error["context"];
    if let Some(trace) = context["objectWriteTraceId"][0].as_str() {
        return trace.parse().ok();
    }
    let id = context["id"][0].as_str().or_else(|| context["ids"][0].as_str())?;
    by_key.get(id).or_else(|| by_key.get(&id.to_lowercase())).copied()
}

/// Maps a batch answer onto its inputs. `indexes` are the inputs' positions in the caller's
/// list and `keys` how results name them (the unique value, or the id); `key_of` reads that
/// key from a result.
pub fn map_batch(
    body: &Value,
    indexes: &[usize],
    keys: &[String],
    key_of: impl Fn(&Value) -> Option<String>,
) -> Vec<(usize, ItemResult)> {
    let by_key: HashMap<String, usize> = keys
        .iter()
        .zip(indexes)
        .flat_map(|(key, index)| [(key.clone(), *index), (key.to_lowercase(), *index)])
        .collect();
    let mut found: HashMap<usize, ItemResult> = HashMap::new();
    for result in body["results"].as_array().into_iter().flatten() {
        let Some(index) = key_of(result)
            .and_then(|key| by_key.get(&key).or_else(|| by_key.get(&key.to_lowercase())).copied())
        else {
            continue;
        };
        let id = text(&result["id"]).unwrap_or_default();
        found.insert(index, ItemResult::Success { id, created: result["new"].as_bool() });
    }
    for error in body["errors"].as_array().into_iter().flatten() {
        if let Some(index) = error_index(error, &by_key) {
            found.entry(index).or_insert_with(|| item_error(error));
        }
    }
    indexes
        .iter()
        .map(|index| {
            let result = found.remove(index).unwrap_or_else(|| ItemResult::Retryable {
                reason: RetryReason::ServerError,
                wait: None,
                message: "HubSpot returned no result for this input".into(),
            });
            (*index, result)
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_207_maps_each_input_to_its_own_result() {
        let body = json!({
            "status": "COMPLETE",
            "results": [{"id": "11", "new": true, "properties": {"ext": "a"}}],
            "numErrors": 1,
            "errors": [{
                "status": "error", "category": "VALIDATION_ERROR",
                "message": "Property values were not valid",
                "context": {"objectWriteTraceId": ["4"]},
                "errors": [{"code": "INVALID_INTEGER", "context": {"propertyName": ["age"]}}]
            }]
        });
        let keys = ["a".to_string(), "b".to_string()];
        let mapped = map_batch(&body, &[3, 4], &keys, |r| text(&r["properties"]["ext"]));
        assert_eq!(mapped[0], (3, ItemResult::Success { id: "11".into(), created: Some(true) }));
        assert_eq!(
            mapped[1],
            (
                4,
                ItemResult::Permanent {
                    code: "INVALID_INTEGER".into(),
                    message: "Property values were not valid".into(),
                    field: Some("age".into())
                }
            )
        );
    }

    #[test]
    fn a_locked_item_retries_as_a_lock_and_an_internal_error_as_a_server_error() {
        let item = |category: &str| {
            json!({"status": "error", "category": category,
                                           "message": "m", "context": {"id": ["1"]}})
        };
        let reason = |category: &str| match item_error(&item(category)) {
            ItemResult::Retryable { reason, .. } => reason,
            other => panic!("{category}: expected a retry, got {other:?}"),
        };
        assert_eq!(reason("LOCKED"), RetryReason::Lock);
        assert_eq!(reason("INTERNAL_ERROR"), RetryReason::ServerError);
        assert_eq!(reason("RATE_LIMITS"), RetryReason::RateLimited);
    }

    #[test]
    fn an_input_with_no_result_is_retryable_rather_than_lost() {
        let mapped = map_batch(&json!({"results": []}), &[0], &["x".into()], |_| None);
        assert!(matches!(mapped[0].1, ItemResult::Retryable { .. }));
    }
}
