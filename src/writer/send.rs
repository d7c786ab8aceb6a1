//! Sending one group of claimed items (same target, object and operation) through its
//! connector, and reading each item's own result.

use std::sync::Arc;
use std::time::Duration;

use chrono::Utc;
use serde_json::Value;

use crate::config::{Side, SyncRule};
use crate::connector::{
    AssociationLink, Connector, ConnectorError, ItemResult, Properties, UpdateItem, UpsertItem,
};
use crate::error_kind::{ErrorKind, report};
use crate::rules::association_field;
use crate::store::links::Link;
use crate::store::outbox::{Operation, OutboxItem, StateEntry};

/// What became of one item.
#[derive(Debug, Clone, PartialEq)]
pub enum Settlement {
    /// Written; `id` is the target record's id where the API gave one.
    Done { id: Option<String>, created: Option<bool>, state: Vec<StateEntry> },
    /// Try again after a backoff; `spend` says whether this counts as an attempt.
    Retry { kind: ErrorKind, wait: Option<Duration>, message: String, spend: bool },
    /// The API refused it for good, or it cannot be written: an operator must look.
    Failed { message: String },
}

impl Settlement {
    /// The item's result; an API's refusal is kept with its message, without any of the
    /// values `sent` in the same call (a batch-wide refusal can quote another item's).
    fn from_result(result: ItemResult, sent: &[&str]) -> Settlement {
        let kind = result.error_kind().unwrap_or(ErrorKind::Transient);
        match result {
            ItemResult::Success { id, created } => {
                Settlement::Done { id: Some(id), created, state: Vec::new() }
            }
            ItemResult::Retryable { wait, message, .. } => {
                Settlement::Retry { kind, wait, message, spend: true }
            }
            // the API's message can quote the refused value: stored without the values sent
            ItemResult::Permanent { code, message, field } => {
                let field = field.map(|f| format!(" (field {f})")).unwrap_or_default();
                let message = crate::redact::without_values(&message, sent.iter().copied());
                Settlement::Failed { message: format!("{code}: {message}{field}") }
            }
            ItemResult::NotFound => {
                Settlement::Failed { message: "the target record no longer exists".into() }
            }
        }
    }

    /// Every item of a call that failed as a whole.
    fn from_error(err: &ConnectorError) -> Settlement {
        let message = report(err);
        match err.kind() {
            kind @ (ErrorKind::Transient | ErrorKind::RateLimited) => {
                Settlement::Retry { kind, wait: None, message, spend: true }
            }
            // nothing the items did: they wait, unspent, until a person fixes the setup or
            // the credentials work again (the connector then probes them; see
            // `connector::credentials`)
            ErrorKind::NeedsOperator => {
                let wait = match err.rejection() {
                    Some(_) => Duration::from_secs(1),
                    None => err.wait_hint().unwrap_or(Duration::from_secs(60)),
                };
                Settlement::Retry {
                    kind: ErrorKind::NeedsOperator,
                    wait: Some(wait),
                    message,
                    spend: false,
                }
            }
            ErrorKind::Permanent => Settlement::Failed { message },
        }
    }
}

/// The text values of a call's items, which an API's refusal must not be stored with.
fn sent_values<'a>(items: impl Iterator<Item = &'a Properties>) -> Vec<&'a str> {
    items.flat_map(|properties| properties.values().filter_map(Value::as_str)).collect()
}

/// Sends a group of record writes (upsert, update or archive) in one connector call, which
/// splits it into the API's batches.
pub async fn send_records(api: &Arc<dyn Connector>, items: &[OutboxItem]) -> Vec<Settlement> {
    let Some(first) = items.first() else { return Vec::new() };
    let object = first.object_type.as_str();
    let results = match first.operation {
        Operation::Upsert => {
            let key_field = first.unique_property.clone().unwrap_or_default();
            let batch: Vec<UpsertItem> = items
                .iter()
                .map(|i| UpsertItem {
                    key: i.unique_value.clone().unwrap_or_default(),
                    properties: i.properties.clone(),
                })
                .collect();
            api.upsert_batch(object, &key_field, &batch).await
        }
        Operation::Update => {
            let batch: Vec<UpdateItem> = items
                .iter()
                .map(|i| UpdateItem {
                    id: i.target_id.clone().unwrap_or_default(),
                    properties: i.properties.clone(),
                })
                .collect();
            api.update_batch(object, &batch).await
        }
        Operation::Archive => {
            let ids: Vec<String> =
                items.iter().map(|i| i.target_id.clone().unwrap_or_default()).collect();
            api.archive_batch(object, &ids).await
        }
        Operation::Associate => unreachable!("associations are sent by send_associations"),
    };
    match results {
        Ok(results) => {
            let sent = sent_values(items.iter().map(|item| &item.properties));
            results.into_iter().map(|result| Settlement::from_result(result, &sent)).collect()
        }
        Err(err) => items.iter().map(|_| Settlement::from_error(&err)).collect(),
    }
}

/// An association item with both ends resolved to the target side's ids.
pub struct Resolved {
    pub from_id: String,
    /// The associated record; `None` for a removal.
    pub to_id: Option<String>,
    pub to_object: String,
}

impl Resolved {
    /// The HubSpot association this item ends: the one it replaces, or the one a removal
    /// removes.
    fn ends(&self, item: &OutboxItem) -> Option<String> {
        let replaces = item.association()?.replaces?;
        (self.to_id.as_ref() != Some(&replaces)).then_some(replaces)
    }
}

/// Resolves an association's two records through the links, or says why it cannot yet.
pub fn resolve(
    item: &OutboxItem,
    rules: &[SyncRule],
    links: &std::collections::HashMap<(String, Side, String), Link>,
    link_wait: Duration,
) -> Result<Resolved, Settlement> {
    let Some(target) = item.association() else {
        return Err(Settlement::Failed { message: "malformed association item".into() });
    };
    let source = item.target_side.other();
    let partner = |sync: &str, id: &str| {
        links
            .get(&(sync.to_string(), source, id.to_string()))
            .map(|l| l.id_on(item.target_side).to_string())
    };
    let from =
        item.target_id.clone().or_else(|| partner(&item.sync_name, item.source_id.as_deref()?));
    // a removal has no associated record to resolve
    let to = match target.is_removal() {
        true => Some(None),
        false => partner(&target.to_sync, &target.to_source_id).map(Some),
    };
    let to_rule = rules.iter().find(|r| r.name == target.to_sync);
    match (from, to, to_rule) {
        (Some(from_id), Some(to_id), Some(rule)) => {
            let to_object = crate::rules::object(rule, item.target_side).to_string();
            Ok(Resolved { from_id, to_id, to_object })
        }
        (_, _, None) => Err(Settlement::Failed {
            message: format!("no sync block named {} for the association", target.to_sync),
        }),
        _ if Utc::now() - item.created_at
            < chrono::Duration::from_std(link_wait).unwrap_or_default() =>
        {
            Err(Settlement::Retry {
                kind: ErrorKind::Transient,
                wait: Some(Duration::from_secs(2)),
                message: "waiting for both records to be linked".into(),
                spend: false,
            })
        }
        _ => Err(Settlement::Failed {
            message: format!(
                "the associated {} record {} was never synced, so the association cannot be made",
                target.to_sync, target.to_source_id
            ),
        }),
    }
}

/// Sends resolved associations of one group: HubSpot associations, or the external lookup
/// field (cleared for a removal). Each success carries the state it leaves on the target
/// side.
pub async fn send_associations(
    api: &Arc<dyn Connector>,
    items: &[(&OutboxItem, Resolved)],
) -> Vec<Settlement> {
    let Some((first, _)) = items.first() else { return Vec::new() };
    let results = match first.target_side {
        Side::External => {
            let batch: Vec<UpdateItem> = items
                .iter()
                .map(|(item, resolved)| {
                    let field = item.association().map(|t| t.external_field).unwrap_or_default();
                    let value = resolved.to_id.clone().map_or(Value::Null, Value::String);
                    let properties = [(field, value)].into();
                    UpdateItem { id: resolved.from_id.clone(), properties }
                })
                .collect();
            api.update_batch(&first.object_type, &batch).await
        }
        Side::Hubspot => write_hubspot_associations(api, items).await,
    };
    let sent = sent_values(items.iter().map(|(item, _)| &item.properties));
    match results {
        Ok(results) => results
            .into_iter()
            .zip(items)
            .map(|(result, (item, resolved))| match Settlement::from_result(result, &sent) {
                Settlement::Done { .. } => Settlement::Done {
                    id: Some(resolved.from_id.clone()),
                    created: None,
                    state: association_state(item, resolved),
                },
                other => other,
            })
            .collect(),
        Err(err) => items.iter().map(|_| Settlement::from_error(&err)).collect(),
    }
}

/// HubSpot associations, results in input order: first the associations items end (every
/// label between the two records), then the ones they make, one call per associated object
/// type and operation. An item succeeds when each of its calls did.
async fn write_hubspot_associations(
    api: &Arc<dyn Connector>,
    items: &[(&OutboxItem, Resolved)],
) -> Result<Vec<ItemResult>, ConnectorError> {
    let mut results: Vec<Option<ItemResult>> = vec![None; items.len()];
    let mut objects: Vec<&str> = items.iter().map(|(_, r)| r.to_object.as_str()).collect();
    objects.sort();
    objects.dedup();
    let from_object = &items[0].0.object_type;
    for to_object in objects {
        let of_object = |i: &usize| items[*i].1.to_object == to_object;
        let ended: Vec<(usize, AssociationLink)> = (0..items.len())
            .filter(of_object)
            .filter_map(|i| {
                let (item, resolved) = &items[i];
                let to_id = resolved.ends(item)?;
                Some((i, AssociationLink { from_id: resolved.from_id.clone(), to_id, label: None }))
            })
            .collect();
        let made: Vec<(usize, AssociationLink)> = (0..items.len())
            .filter(of_object)
            .filter_map(|i| {
                let (item, resolved) = &items[i];
                let label =
                    item.association().and_then(|t| t.hubspot_type_id).map(|id| id.to_string());
                let to_id = resolved.to_id.clone()?;
                Some((i, AssociationLink { from_id: resolved.from_id.clone(), to_id, label }))
            })
            .collect();
        let (indexes, links): (Vec<usize>, Vec<AssociationLink>) = ended.into_iter().unzip();
        if !links.is_empty() {
            let answers = api.remove_associations(from_object, to_object, &links).await?;
            // an association already gone is removed all the same
            let answers = answers.into_iter().map(|answer| match answer {
                ItemResult::NotFound => ItemResult::Success { id: String::new(), created: None },
                answer => answer,
            });
            keep_first_failure(&mut results, indexes, answers.collect());
        }
        let (indexes, links): (Vec<usize>, Vec<AssociationLink>) = made.into_iter().unzip();
        if !links.is_empty() {
            let answers = api.create_associations(from_object, to_object, &links).await?;
            keep_first_failure(&mut results, indexes, answers);
        }
    }
    Ok(results.into_iter().map(|r| r.unwrap_or(ItemResult::NotFound)).collect())
}

/// Records each item's answer unless an earlier call already failed it.
fn keep_first_failure(
    results: &mut [Option<ItemResult>],
    indexes: Vec<usize>,
    answers: Vec<ItemResult>,
) {
    for (index, answer) in indexes.into_iter().zip(answers) {
        let slot = &mut results[index];
        if slot.as_ref().is_none_or(|r| matches!(r, ItemResult::Success { .. })) {
            *slot = Some(answer);
        }
    }
}

fn association_state(item: &OutboxItem, resolved: &Resolved) -> Vec<StateEntry> {
    let Some(target) = item.association() else { return Vec::new() };
    let at = item.state.first().map_or_else(Utc::now, |entry| entry.value_at);
    vec![StateEntry {
        side: item.target_side,
        field: association_field(&target.to_sync),
        value: resolved.to_id.clone().map_or(Value::Null, Value::String),
        value_at: at,
        ours: true,
    }]
}
