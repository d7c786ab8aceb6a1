//! sObject Collections: upsert by External ID, update and delete, 200 records per call with
//! `allOrNone=false` and a result per record. Records refused with `UNABLE_TO_LOCK_ROW` are
//! sent again on their own after a backoff.

use std::time::Duration;

use reqwest::Method;
use serde_json::Value;

use super::client::{Client, SfRequest};
use super::request::{self, COLLECTION_SIZE};
use crate::connector::{ConnectorError, ItemResult, RetryReason, UpdateItem, UpsertItem};
use crate::error_kind::ErrorKind;

/// Extra rounds for records that could not lock their row.
const LOCK_ROUNDS: u32 = 3;

/// One collection item's result.
pub fn item_result(item: &Value) -> ItemResult {
    if item["success"].as_bool() == Some(true) {
        let id = item["id"].as_str().unwrap_or_default().to_string();
        return ItemResult::Success { id, created: item["created"].as_bool() };
    }
    let error = &item["errors"][0];
    let code = error["statusCode"].as_str().unwrap_or("UNKNOWN_ERROR");
    let message = error["message"].as_str().unwrap_or_default().to_string();
    match code {
        // a retry's message is stored as the item's last error: the code, never the API's
        // text, which can quote the record's values
        "UNABLE_TO_LOCK_ROW" => {
            let message = code.to_string();
            ItemResult::Retryable { reason: RetryReason::Lock, wait: None, message }
        }
        "SERVER_UNAVAILABLE" | "REQUEST_LIMIT_EXCEEDED" => {
            let message = code.to_string();
            ItemResult::Retryable { reason: RetryReason::ServerError, wait: None, message }
        }
        "ENTITY_IS_DELETED" | "NOT_FOUND" => ItemResult::NotFound,
        _ => {
            let field = error["fields"][0].as_str().map(str::to_string);
            ItemResult::permanent(code, message, field)
        }
    }
}

/// A whole call that failed after its retries: each record's result, or the error to stop on.
fn call_failure(err: ConnectorError, n: usize) -> Result<Vec<ItemResult>, ConnectorError> {
    let result = match err.kind() {
        ErrorKind::NeedsOperator => return Err(err),
        // the API's own text, as for a per-item refusal: the writer stores only the code
        ErrorKind::Permanent => ItemResult::permanent(
            err.code().filter(|c| !c.is_empty()).unwrap_or("ERROR"),
            match &err {
                ConnectorError::Api { message, .. } => message.clone(),
                other => other.to_string(),
            },
            None,
        ),
        ErrorKind::RateLimited => ItemResult::Retryable {
            reason: RetryReason::RateLimited,
            wait: err.wait_hint(),
            message: err.to_string(),
        },
        ErrorKind::Transient => ItemResult::Retryable {
            reason: match (&err, err.code()) {
                (ConnectorError::Timeout { .. }, _) => RetryReason::Timeout,
                (_, Some("UNABLE_TO_LOCK_ROW")) => RetryReason::Lock,
                _ => RetryReason::ServerError,
            },
            wait: err.wait_hint(),
            message: err.to_string(),
        },
    };
    Ok(vec![result; n])
}

/// Sends one call for `n` records and reads the per-record array.
async fn send(
    client: &Client,
    request: SfRequest,
    n: usize,
) -> Result<Vec<ItemResult>, ConnectorError> {
    match client.call(&request).await {
        Ok(Value::Array(items)) if items.len() == n => Ok(items.iter().map(item_result).collect()),
        Ok(other) => {
            // the records may have been written: retried (upserts and updates are
            // idempotent, a second delete finds them deleted), never taken as done
            let what = format!("expected {n} collection results, got {}", shape(&other));
            call_failure(ConnectorError::unreadable("salesforce", 200, what), n)
        }
        Err(err) => call_failure(err, n),
    }
}

/// What an answer is, without its values (which may be personal data).
fn shape(value: &Value) -> String {
    match value {
        Value::Array(items) => format!("an array of {}", items.len()),
        Value::Object(_) => "an object".into(),
        Value::Null => "nothing".into(),
        _ => "a scalar".into(),
    }
}

/// Sends every index in calls of 200, then re-sends row-lock failures a few times.
async fn run<F>(client: &Client, n: usize, build: F) -> Result<Vec<ItemResult>, ConnectorError>
where
    F: Fn(&[usize]) -> SfRequest,
{
    // every index is overwritten by its call's result; nothing is ever taken as not found
    // for want of an answer
    let unsent = ItemResult::Retryable {
        reason: RetryReason::ServerError,
        wait: None,
        message: "no answer for this record".into(),
    };
    let mut results: Vec<ItemResult> = vec![unsent; n];
    let mut pending: Vec<usize> = (0..n).collect();
    for round in 0..=LOCK_ROUNDS {
        if round > 0 {
            tokio::time::sleep(lock_backoff(round)).await;
        }
        for chunk in pending.chunks(COLLECTION_SIZE) {
            let outcome = send(client, build(chunk), chunk.len()).await?;
            for (index, result) in chunk.iter().zip(outcome) {
                results[*index] = result;
            }
        }
        pending.retain(|i| {
            matches!(results[*i], ItemResult::Retryable { reason: RetryReason::Lock, .. })
        });
        if pending.is_empty() {
            break;
        }
    }
    Ok(results)
}

fn lock_backoff(round: u32) -> Duration {
    let jitter = rand::Rng::random_range(&mut rand::rng(), 0..250);
    Duration::from_millis(250 * u64::from(round) + jitter)
}

pub async fn upsert(
    client: &Client,
    object: &str,
    key_field: &str,
    items: &[UpsertItem],
) -> Result<Vec<ItemResult>, ConnectorError> {
    request::check_name(object)?;
    request::check_name(key_field)?;
    let path = format!("/composite/sobjects/{object}/{key_field}");
    run(client, items.len(), |chunk| {
        let chosen: Vec<&UpsertItem> = chunk.iter().map(|i| &items[*i]).collect();
        SfRequest::new(Method::PATCH, path.clone())
            .body(request::upsert_body(object, key_field, &chosen))
    })
    .await
}

pub async fn update(
    client: &Client,
    object: &str,
    items: &[UpdateItem],
) -> Result<Vec<ItemResult>, ConnectorError> {
    run(client, items.len(), |chunk| {
        let chosen: Vec<&UpdateItem> = chunk.iter().map(|i| &items[*i]).collect();
        SfRequest::new(Method::PATCH, "/composite/sobjects")
            .body(request::update_body(object, &chosen))
    })
    .await
}

pub async fn delete(client: &Client, ids: &[String]) -> Result<Vec<ItemResult>, ConnectorError> {
    run(client, ids.len(), |chunk| {
        let chosen: Vec<&str> = chunk.iter().map(|i| ids[*i].as_str()).collect();
        SfRequest::new(Method::DELETE, "/composite/sobjects")
            .query("ids", chosen.join(","))
            .query("allOrNone", "false")
    })
    .await
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn collection_items_map_to_success_lock_retries_permanent_and_not_found() {
        let ok = json!({"id": "003x", "success": true, "errors": [], "created": true});
        assert_eq!(
            item_result(&ok),
            ItemResult::Success { id: "003x".into(), created: Some(true) }
        );
        let lock = json!({"success": false, "errors": [{"statusCode": "UNABLE_TO_LOCK_ROW", "message": "m"}]});
        assert!(matches!(
            item_result(&lock),
            ItemResult::Retryable { reason: RetryReason::Lock, .. }
        ));
        let bad = json!({"success": false, "errors": [{"statusCode": "REQUIRED_FIELD_MISSING",
            "message": "Required fields are missing: [LastName]", "fields": ["LastName"]}]});
        assert_eq!(
            item_result(&bad),
            ItemResult::Permanent {
                code: "REQUIRED_FIELD_MISSING".into(),
                message: "Required fields are missing: [LastName]".into(),
                field: Some("LastName".into())
            }
        );
        let gone = json!({"success": false, "errors": [{"statusCode": "ENTITY_IS_DELETED"}]});
        assert_eq!(item_result(&gone), ItemResult::NotFound);
    }
}
