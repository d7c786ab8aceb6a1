//! Batch writes: upsert by a unique property, update and archive, 100 inputs per call, one
//! result per input. A whole-batch 400 caused by one input is split until it is isolated,
//! so the good inputs still land.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use super::client::{ApiResponse, Client};
use super::request::{self, ApiRequest};
use super::response::{self, text};
use crate::connector::{ConnectorError, ItemResult, RetryReason, UpdateItem, UpsertItem};
use crate::error_kind::ErrorKind;

pub const BATCH_SIZE: usize = 100;

type Results = Vec<(usize, ItemResult)>;
type Sent<'a> = Pin<Box<dyn Future<Output = Result<Results, ConnectorError>> + Send + 'a>>;

/// A batch failed as a whole: what each of its inputs gets, or the error to stop on.
fn whole_batch_failure(err: &ConnectorError, indexes: &[usize]) -> Option<Results> {
    let result = match err.kind() {
        ErrorKind::NeedsOperator => return None,
        ErrorKind::Permanent => ItemResult::permanent(
            err.code().filter(|c| !c.is_empty()).unwrap_or("ERROR"),
            err.to_string(),
            None,
        ),
        kind => ItemResult::Retryable {
            reason: match (kind, err) {
                (ErrorKind::RateLimited, _) => RetryReason::RateLimited,
                (_, ConnectorError::Timeout { .. }) => RetryReason::Timeout,
                (_, ConnectorError::Api { status: 423, .. }) => RetryReason::Lock,
                _ => RetryReason::ServerError,
            },
            wait: err.wait_hint(),
            message: err.to_string(),
        },
    };
    Some(indexes.iter().map(|i| (*i, result.clone())).collect())
}

/// Whether splitting can isolate the cause: a 400-class refusal of several inputs.
fn splittable(err: &ConnectorError, len: usize) -> bool {
    len > 1 && matches!(err, ConnectorError::Api { status: 400 | 409, .. })
}

/// Sends `indexes` with `send`; on a splittable refusal sends each half on its own.
fn split_send<'a, F>(client: &'a Client, indexes: Vec<usize>, send: &'a F) -> Sent<'a>
where
    F: Fn(&[usize]) -> ApiRequestMapping + Sync,
{
    Box::pin(async move {
        let mapping = send(&indexes);
        match client.call(&mapping.request).await {
            Ok(answer) => Ok((mapping.map)(&answer)),
            Err(err) if splittable(&err, indexes.len()) => {
                tracing::debug!(inputs = indexes.len(), error = %err, "splitting a refused batch");
                let (left, right) = indexes.split_at(indexes.len() / 2);
                let mut results = split_send(client, left.to_vec(), send).await?;
                results.extend(split_send(client, right.to_vec(), send).await?);
                Ok(results)
            }
            Err(err) => whole_batch_failure(&err, &indexes).ok_or(err),
        }
    })
}

/// A request for some inputs and how to read its answer.
pub struct ApiRequestMapping {
    request: ApiRequest,
    map: Box<dyn Fn(&ApiResponse) -> Results + Send + Sync>,
}

async fn run_chunks<F>(
    client: &Client,
    len: usize,
    send: F,
) -> Result<Vec<ItemResult>, ConnectorError>
where
    F: Fn(&[usize]) -> ApiRequestMapping + Sync,
{
    let mut results = Vec::with_capacity(len);
    let all: Vec<usize> = (0..len).collect();
    for chunk in all.chunks(BATCH_SIZE) {
        results.extend(split_send(client, chunk.to_vec(), &send).await?);
    }
    results.sort_by_key(|(index, _)| *index);
    let results: Vec<ItemResult> = results.into_iter().map(|(_, result)| result).collect();
    count(&results);
    Ok(results)
}

fn count(results: &[ItemResult]) {
    for result in results {
        let outcome = match result {
            ItemResult::Success { .. } => "success",
            ItemResult::Retryable { .. } => "retryable",
            ItemResult::Permanent { .. } => "permanent",
            ItemResult::NotFound => "not_found",
        };
        ::metrics::counter!(crate::metrics::CONNECTOR_ITEM_RESULTS, "connector" => "hubspot",
            "outcome" => outcome)
        .increment(1);
    }
}

pub async fn upsert(
    client: &Client,
    object: &str,
    id_property: &str,
    items: &[UpsertItem],
) -> Result<Vec<ItemResult>, ConnectorError> {
    let path = format!("{}/batch/upsert", client.paths.objects(object));
    let id_property = id_property.to_string();
    run_chunks(client, items.len(), |indexes| {
        let inputs: Vec<(usize, &UpsertItem)> = indexes.iter().map(|i| (*i, &items[*i])).collect();
        let keys: Vec<String> = inputs.iter().map(|(_, item)| item.key.clone()).collect();
        let body = request::upsert_body(&id_property, &inputs);
        let (indexes, property) = (indexes.to_vec(), id_property.clone());
        ApiRequestMapping {
            request: ApiRequest::post(path.clone(), body),
            map: Box::new(move |answer| {
                response::map_batch(&answer.body, &indexes, &keys, |r: &Value| {
                    text(&r["properties"][&property])
                })
            }),
        }
    })
    .await
}

pub async fn update(
    client: &Client,
    object: &str,
    items: &[UpdateItem],
) -> Result<Vec<ItemResult>, ConnectorError> {
    let path = format!("{}/batch/update", client.paths.objects(object));
    run_chunks(client, items.len(), |indexes| {
        let inputs: Vec<(usize, &UpdateItem)> = indexes.iter().map(|i| (*i, &items[*i])).collect();
        let keys: Vec<String> = inputs.iter().map(|(_, item)| item.id.clone()).collect();
        let body = request::update_body(&inputs);
        let indexes = indexes.to_vec();
        ApiRequestMapping {
            request: ApiRequest::post(path.clone(), body),
            map: Box::new(move |answer| {
                response::map_batch(&answer.body, &indexes, &keys, |r: &Value| text(&r["id"]))
            }),
        }
    })
    .await
}

/// `batch/archive` answers 204 for the whole batch; HubSpot ignores unknown ids.
pub async fn archive(
    client: &Client,
    object: &str,
    ids: &[String],
) -> Result<Vec<ItemResult>, ConnectorError> {
    let path = format!("{}/batch/archive", client.paths.objects(object));
    run_chunks(client, ids.len(), |indexes| {
        let chosen: Vec<String> = indexes.iter().map(|i| ids[*i].clone()).collect();
        let body = request::ids_body(&chosen);
        let indexes = indexes.to_vec();
        ApiRequestMapping {
            request: ApiRequest::post(path.clone(), body),
            map: Box::new(move |_| {
                indexes
                    .iter()
                    .zip(&chosen)
                    .map(|(i, id)| (*i, ItemResult::Success { id: id.clone(), created: None }))
                    .collect()
            }),
        }
    })
    .await
}
