//! Associations v4 in batches: read (following each record's paging), create (labelled or
//! the default type) and archive, with one result per link. Errors are matched to links by
//! the exact (from, to) pair; a whole-batch refusal is split like an object batch.

use std::collections::HashMap;

use serde_json::{Value, json};

use super::batch::{ApiRequestMapping, Results, split_send};
use super::client::{ApiResponse, Client};
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
        for result in &super::response::results(answer.body)? {
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
        let op = operation(labelled);
        let path = client.paths.associations(from, to, op);
        let send = |indexes: &[usize]| {
            let batch: Vec<&AssociationLink> = indexes.iter().map(|i| &links[*i]).collect();
            let body = match op {
                "archive" => request::association_archive_body(&batch),
                _ => request::association_create_body(&batch),
            };
            let sent: Vec<(usize, AssociationLink)> =
                indexes.iter().map(|i| (*i, links[*i].clone())).collect();
            ApiRequestMapping {
                request: ApiRequest::post(path.clone(), body),
                map: Box::new(move |answer: &ApiResponse| link_results(&answer.body, &sent)),
            }
        };
        for chunk in chosen.chunks(CHUNK) {
            for (index, result) in split_send(client, chunk.to_vec(), &send).await? {
                results[index] = Some(result);
            }
        }
    }
    Ok(results.into_iter().map(|r| r.expect("every link was sent")).collect())
}

/// The ids an error's context names under `key` (`fromId`, `toId`).
fn named(error: &Value, key: &str) -> Vec<String> {
    error["context"][key].as_array().into_iter().flatten().filter_map(text).collect()
}

/// Which of `sent` an error names: the exact (from, to) pair when it names both ids, the
/// links with the one id it names otherwise (several when links share that record), and
/// every link when it names none.
fn named_links(error: &Value, sent: &[(usize, AssociationLink)]) -> Vec<usize> {
    let (from_ids, to_ids) = (named(error, "fromId"), named(error, "toId"));
    let matches = |ids: &[String], id: &String| ids.is_empty() || ids.contains(id);
    if from_ids.is_empty() && to_ids.is_empty() {
        return sent.iter().map(|(index, _)| *index).collect();
    }
    sent.iter()
        .filter(|(_, link)| matches(&from_ids, &link.from_id) && matches(&to_ids, &link.to_id))
        .map(|(index, _)| *index)
        .collect()
}

/// One result per link the answer attributes: an error naming exactly one link fails that
/// link; links an error names ambiguously are left out, to be sent again apart.
fn link_results(body: &Value, sent: &[(usize, AssociationLink)]) -> Results {
    let mut failed: Vec<(usize, ItemResult)> = Vec::new();
    let mut unsure: Vec<usize> = Vec::new();
    for error in body["errors"].as_array().into_iter().flatten() {
        match named_links(error, sent).as_slice() {
            [] => {}
            [one] => failed.push((*one, item_error(error))),
            several => unsure.extend_from_slice(several),
        }
    }
    sent.iter()
        .filter(|(index, _)| !unsure.contains(index))
        .map(|(index, link)| match failed.iter().find(|(i, _)| i == index) {
            Some((_, result)) => (*index, result.clone()),
            None => (*index, ItemResult::Success { id: link.from_id.clone(), created: None }),
        })
        .collect()
}
