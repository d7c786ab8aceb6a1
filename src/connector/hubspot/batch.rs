//! Batch writes: upsert by a unique property, update and archive, 100 inputs per call, one
//! result per input. A whole-batch 400 caused by one input is split until it is isolated,
//! so the good inputs still land; a 400 both halves share is the batch's own and ends it.

use std::future::Future;
use std::pin::Pin;

use serde_json::Value;

use super::client::{ApiResponse, Client};
use super::request::{self, ApiRequest};
use super::response::{self, text};
use crate::connector::{ConnectorError, ItemResult, RetryReason, UpdateItem, UpsertItem};
use crate::error_kind::ErrorKind;

pub const BATCH_SIZE: usize = 100;

pub(super) type Results = Vec<(usize, ItemResult)>;
type Sent<'a> = Pin<Box<dyn Future<Output = Result<Results, ConnectorError>> + Send + 'a>>;

/// A batch failed as a whole: what each of its inputs gets, or the error to stop on.
fn whole_batch_failure(err: &ConnectorError, indexes: &[usize]) -> Option<Results> {
    let result = match err.kind() {
        ErrorKind::NeedsOperator => return None,
        // the API's own text, as for a per-item refusal: the writer stores only the code
        ErrorKind::Permanent => ItemResult::permanent(
            err.code().filter(|c| !c.is_empty()).unwrap_or("ERROR"),
            match err {
                ConnectorError::Api { message, .. } => message.clone(),
                other => other.to_string(),
            },
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

/// Two refusals alike in status, code and message: a batch-wide cause (an unknown
/// `idProperty`, a bad path), where a refusal caused by one input names that input.
fn same_refusal(a: &ConnectorError, b: &ConnectorError) -> bool {
    match (a, b) {
        (
            ConnectorError::Api { status: s1, code: c1, message: m1, .. },
            ConnectorError::Api { status: s2, code: c2, message: m2, .. },
        ) => s1 == s2 && c1 == c2 && m1 == m2,
        _ => false,
    }
}

/// One call for `indexes`: the results its answer attributes, or the whole-call error.
async fn send_once<F>(
    client: &Client,
    indexes: &[usize],
    send: &F,
) -> Result<Results, ConnectorError>
where
    F: Fn(&[usize]) -> ApiRequestMapping + Sync,
{
    let mapping = send(indexes);
    let answer = client.call(&mapping.request).await?;
    Ok((mapping.map)(&answer))
}

/// Sends `indexes` with `send`. A splittable refusal sends each half on its own, until the
/// bad input is isolated, and stops when both halves are refused alike (the cause is the
/// batch, not an input). Inputs an answer could not attribute are sent again, apart.
pub(super) fn split_send<'a, F>(client: &'a Client, indexes: Vec<usize>, send: &'a F) -> Sent<'a>
where
    F: Fn(&[usize]) -> ApiRequestMapping + Sync,
{
    Box::pin(async move {
        let outcome = send_once(client, &indexes, send).await;
        settle(client, indexes, outcome, send).await
    })
}

/// Turns one call's outcome into results, splitting or re-sending where needed.
fn settle<'a, F>(
    client: &'a Client,
    indexes: Vec<usize>,
    outcome: Result<Results, ConnectorError>,
    send: &'a F,
) -> Sent<'a>
where
    F: Fn(&[usize]) -> ApiRequestMapping + Sync,
{
    Box::pin(async move {
        match outcome {
            Ok(results) => resend_unattributed(client, &indexes, results, send).await,
            Err(err) if splittable(&err, indexes.len()) => {
                tracing::debug!(inputs = indexes.len(), error = %err, "splitting a refused batch");
                split(client, indexes, send).await
            }
            Err(err) => whole_batch_failure(&err, &indexes).ok_or(err),
        }
    })
}

/// Sends each half of a refused batch; both refused alike fail the batch as one.
fn split<'a, F>(client: &'a Client, indexes: Vec<usize>, send: &'a F) -> Sent<'a>
where
    F: Fn(&[usize]) -> ApiRequestMapping + Sync,
{
    Box::pin(async move {
        let (left, right) = indexes.split_at(indexes.len() / 2);
        let left_outcome = send_once(client, left, send).await;
        let right_outcome = send_once(client, right, send).await;
        if let (Err(a), Err(b)) = (&left_outcome, &right_outcome)
            && splittable(a, indexes.len())
            && same_refusal(a, b)
        {
            tracing::debug!(inputs = indexes.len(), error = %a, "both halves refused alike");
            if let Some(results) = whole_batch_failure(a, &indexes) {
                return Ok(results);
            }
        }
        let mut results = settle(client, left.to_vec(), left_outcome, send).await?;
        results.extend(settle(client, right.to_vec(), right_outcome, send).await?);
        Ok(results)
    })
}

/// Keeps the attributed results and sends the rest again: apart from the others, or in
/// halves when the answer attributed nothing.
async fn resend_unattributed<F>(
    client: &Client,
    indexes: &[usize],
    mut results: Results,
    send: &F,
) -> Result<Results, ConnectorError>
where
    F: Fn(&[usize]) -> ApiRequestMapping + Sync,
{
    let missing: Vec<usize> =
        indexes.iter().copied().filter(|i| !results.iter().any(|(r, _)| r == i)).collect();
    if missing.is_empty() {
        return Ok(results);
    }
    if missing.len() == indexes.len() && missing.len() > 1 {
        let (left, right) = missing.split_at(missing.len() / 2);
        results.extend(split_send(client, left.to_vec(), send).await?);
        results.extend(split_send(client, right.to_vec(), send).await?);
    } else if missing.len() < indexes.len() {
        results.extend(split_send(client, missing, send).await?);
    } else {
        return Err(ConnectorError::unreadable(
            "hubspot",
            200,
            "a batch answer named no result for its only input",
        ));
    }
    Ok(results)
}

/// A request for some inputs and how to read its answer: one result per input it can
/// attribute; inputs left out are sent again.
pub struct ApiRequestMapping {
    pub(super) request: ApiRequest,
    pub(super) map: Box<dyn Fn(&ApiResponse) -> Results + Send + Sync>,
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
