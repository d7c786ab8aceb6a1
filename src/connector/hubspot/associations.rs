//! Associations v4 in batches: read (following each record's paging), create (labelled or
//! the default type) and archive, with one result per link.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::client::Client;
use super::request::{self, ApiRequest};
use super::response::{item_error, text};
use crate::connector::{AssociationLink, AssociationSet, ConnectorError, ItemResult};

/// Inputs per v4 batch call (HubSpot allows 1,000 for reads; writes stay conservative).
const CHUNK: usize = 100;

pub async fn read(
    client: &Client,
    from: &str,
    to: &str,
    ids: &[String],
) -> Result<Vec<AssociationSet>, ConnectorError> {
    let mut links: HashMap<String, Vec<AssociationLink>> = HashMap::new();
    let mut pending: Vec<(String, Option<String>)> =
        ids.iter().map(|id| (id.clone(), None)).collect();
    while !pending.is_empty() {
        let chunk: Vec<_> = pending.drain(..pending.len().min(CHUNK)).collect();
        let inputs: Vec<Value> = chunk
            .iter()
            .map(|(id, after)| match after {
                Some(after) => json!({ "id": id, "after": after }),
                None => json!({ "id": id }),
            })
            .collect();
        let path = client.paths.associations(from, to, "read");
        let answer = client.call(&ApiRequest::post(path, json!({ "inputs": inputs }))).await?;
        for result in answer.body["results"].as_array().into_iter().flatten() {
            let Some(from_id) = text(&result["from"]["id"]) else { continue };
            links.entry(from_id.clone()).or_default().extend(result_links(&from_id, result));
            if let Some(after) = result["paging"]["next"]["after"].as_str() {
                pending.push((from_id, Some(after.to_string())));
            }
        }
    }
    Ok(ids
        .iter()
        .map(|id| AssociationSet {
            from_id: id.clone(),
            links: links.remove(id).unwrap_or_default(),
        })
        .collect())
}

fn result_links(from_id: &str, result: &Value) -> Vec<AssociationLink> {
    let mut links = Vec::new();
    for target in result["to"].as_array().into_iter().flatten() {
        let Some(to_id) = text(&target["toObjectId"]) else { continue };
        for kind in target["associationTypes"].as_array().into_iter().flatten() {
            let category = kind["category"].as_str().unwrap_or("HUBSPOT_DEFINED");
            let type_id = kind["typeId"].as_u64().unwrap_or_default();
            let label = match category {
                "HUBSPOT_DEFINED" => type_id.to_string(),
                other => format!("{other}:{type_id}"),
            };
            links.push(AssociationLink {
                from_id: from_id.to_string(),
                to_id: to_id.clone(),
                label: Some(label),
            });
        }
    }
    links
}

/// Creates links: labelled ones with `batch/create`, unlabelled with the default type.
pub async fn create(
    client: &Client,
    from: &str,
    to: &str,
    links: &[AssociationLink],
) -> Result<Vec<ItemResult>, ConnectorError> {
    write(client, from, to, links, |labelled| if labelled { "create" } else { "associate/default" })
        .await
}

/// Removes links: every type between the pair, or only the named label.
pub async fn remove(
    client: &Client,
    from: &str,
    to: &str,
    links: &[AssociationLink],
) -> Result<Vec<ItemResult>, ConnectorError> {
    write(client, from, to, links, |labelled| if labelled { "labels/archive" } else { "archive" })
        .await
}

async fn write(
    client: &Client,
    from: &str,
    to: &str,
    links: &[AssociationLink],
    operation: impl Fn(bool) -> &'static str,
) -> Result<Vec<ItemResult>, ConnectorError> {
    let mut results: Vec<Option<ItemResult>> = vec![None; links.len()];
    for labelled in [true, false] {
        let chosen: Vec<usize> =
            (0..links.len()).filter(|i| links[*i].label.is_some() == labelled).collect();
        for chunk in chosen.chunks(CHUNK) {
            let batch: Vec<&AssociationLink> = chunk.iter().map(|i| &links[*i]).collect();
            let op = operation(labelled);
            let body = match op {
                "archive" => request::association_archive_body(&batch),
                _ => request::association_create_body(&batch),
            };
            let path = client.paths.associations(from, to, op);
            let outcome = client.call(&ApiRequest::post(path, body)).await;
            for (index, result) in chunk.iter().zip(link_results(outcome, &batch)?) {
                results[*index] = Some(result);
            }
        }
    }
    Ok(results.into_iter().map(|r| r.expect("every link was sent")).collect())
}

/// One result per link of a batch: an error names its link by the ids in its context.
fn link_results(
    outcome: Result<super::client::ApiResponse, ConnectorError>,
    batch: &[&AssociationLink],
) -> Result<Vec<ItemResult>, ConnectorError> {
    let answer = match outcome {
        Ok(answer) => answer,
        Err(err) if err.kind() == crate::error_kind::ErrorKind::Permanent => {
            let result =
                ItemResult::permanent(err.code().unwrap_or("ERROR"), err.to_string(), None);
            return Ok(vec![result; batch.len()]);
        }
        Err(err) => return Err(err),
    };
    let errors = answer.body["errors"].as_array().cloned().unwrap_or_default();
    Ok(batch
        .iter()
        .map(|link| {
            let failed = errors.iter().find(|e| {
                let context = e["context"].to_string();
                context.contains(&format!("\"{}\"", link.from_id))
                    || context.contains(&format!("\"{}\"", link.to_id))
            });
            match failed {
                Some(error) => item_error(error),
                None => ItemResult::Success { id: link.from_id.clone(), created: None },
            }
        })
        .collect())
}
