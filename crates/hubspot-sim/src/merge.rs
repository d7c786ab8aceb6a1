//! Merges (a new id is minted and old ids keep resolving, or the primary's id is kept) and
//! GDPR deletes of contacts.

use axum::Extension;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::SimState;
use super::assoc_api::IdRef;
use super::associations::AssocLabel;
use super::auth::Caller;
use super::error::{ApiError, ApiResult};
use super::events::ChangeKind;
use super::properties::iso_ms;
use super::render;
use super::routes::{Body, wrote};
use super::store::{Record, Source, Store, unique_key};
use super::types::ObjectType;
use super::write::{self, WriteCtx, note};

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct MergeInput {
    #[serde(deserialize_with = "IdRef::text")]
    primary_object_id: String,
    #[serde(deserialize_with = "IdRef::text")]
    object_id_to_merge: String,
}

fn live(store: &Store, object: &ObjectType, raw: &str) -> ApiResult<u64> {
    raw.parse::<u64>()
        .ok()
        .and_then(|id| store.record(&object.type_id, id))
        .filter(|r| !r.archived())
        .map(|r| r.id)
        .ok_or_else(|| super::objects::not_found(raw))
}

fn merged_ids(primary: &Record, secondary: &Record, new_id: u64) -> String {
    let mut ids: Vec<String> = [primary, secondary]
        .iter()
        .flat_map(|r| {
            r.get("hs_merged_object_ids")
                .unwrap_or("")
                .split(';')
                .filter(|s| !s.is_empty())
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .collect();
    for record in [primary, secondary] {
        if record.id != new_id {
            ids.push(record.id.to_string());
        }
    }
    ids.sort();
    ids.dedup();
    ids.join(";")
}

/// The merged record: the secondary's values under the primary's, which win.
fn combine(
    object: &ObjectType,
    primary: &Record,
    secondary: &Record,
    new_id: u64,
    now: i64,
) -> (Record, usize) {
    let mut properties = secondary.properties.clone();
    let moved =
        secondary.properties.keys().filter(|k| !primary.properties.contains_key(*k)).count();
    properties.extend(primary.properties.clone());
    let mut history = secondary.history.clone();
    for (name, entries) in &primary.history {
        let merged = history.entry(name.clone()).or_default();
        merged.extend(entries.iter().cloned());
        merged.sort_by_key(|entry| std::cmp::Reverse(entry.timestamp));
    }
    if object.type_id == "0-1"
        && let (Some(lost), Some(kept)) = (secondary.get("email"), primary.get("email"))
        && lost != kept
    {
        let extra = [
            primary.get("hs_additional_emails"),
            secondary.get("hs_additional_emails"),
            Some(lost),
        ];
        let joined: Vec<&str> = extra.into_iter().flatten().filter(|s| !s.is_empty()).collect();
        properties.insert("hs_additional_emails".into(), joined.join(";"));
    }
    let created_at = primary.created_at.min(secondary.created_at);
    properties.insert("hs_object_id".into(), new_id.to_string());
    properties.insert(object.created_property.clone(), iso_ms(created_at));
    properties.insert(object.modified_property.clone(), iso_ms(now));
    properties.insert("hs_merged_object_ids".into(), merged_ids(primary, secondary, new_id));
    let record =
        Record { id: new_id, properties, history, created_at, updated_at: now, archived_at: None };
    (record, moved)
}

/// Points every unique value the merged records held at the result.
fn repoint_unique(store: &mut Store, object: &ObjectType, olds: &[&Record], new_id: u64) {
    let type_id = object.type_id.clone();
    let table = store.table_mut(&type_id);
    for record in olds {
        for (name, value) in &record.properties {
            let values: Vec<&str> = if name == "hs_additional_emails" {
                value.split(';').collect()
            } else {
                vec![value.as_str()]
            };
            let index_name = if name == "hs_additional_emails" { "email" } else { name.as_str() };
            if !table.is_unique(&type_id, index_name) {
                continue;
            }
            let index = table.unique.entry(index_name.to_string()).or_default();
            for v in values {
                index.insert(unique_key(index_name, v), new_id);
            }
        }
    }
}

fn move_associations(store: &mut Store, object: &ObjectType, old: u64, new_id: u64) {
    for (to_type, to_id, types) in store.associations.forget((&object.type_id, old)) {
        let to_singular = singular_of(store, &to_type);
        let labels = store
            .associations
            .labels((&object.type_id, &object.singular), (&to_type, &to_singular));
        for (category, type_id) in types {
            let inverse_type_id =
                labels.iter().find(|l| l.type_id == type_id).map_or(type_id, |l| l.inverse_type_id);
            let label = AssocLabel { category, type_id, label: None, inverse_type_id };
            store.associations.add((&object.type_id, new_id), (&to_type, to_id), &label);
        }
    }
}

fn singular_of(store: &Store, type_id: &str) -> String {
    store.types.get(type_id).map(|t| t.singular.clone()).unwrap_or_default()
}

/// Merges `secondary` into `primary`; returns the id of the result.
pub fn merge_records(
    store: &mut Store,
    object: &ObjectType,
    primary: u64,
    secondary: u64,
    keep_primary_id: bool,
    ctx: &WriteCtx,
) -> u64 {
    let mints = matches!(object.type_id.as_str(), "0-1" | "0-2") && !keep_primary_id;
    let new_id = if mints { store.mint_id() } else { primary };
    let table = store.table_mut(&object.type_id);
    let first = table.records.remove(&primary).expect("checked live");
    let second = table.records.remove(&secondary).expect("checked live");
    let (record, moved) = combine(object, &first, &second, new_id, ctx.now);
    let table = store.table_mut(&object.type_id);
    table.records.insert(new_id, record);
    for old in [primary, secondary].into_iter().filter(|old| *old != new_id) {
        table.aliases.insert(old, new_id);
    }
    repoint_unique(store, object, &[&first, &second], new_id);
    for old in [primary, secondary].into_iter().filter(|old| *old != new_id) {
        move_associations(store, object, old, new_id);
        store.search.stage_removal(&object.type_id, old, ctx.now + ctx.search_lag_ms);
        note(store, object, old, ChangeKind::Deletion, ctx);
    }
    write::stage_search(store, &object.type_id, new_id, ctx);
    let kind =
        ChangeKind::Merge { primary, merged: vec![secondary], new_id, properties_moved: moved };
    note(store, object, new_id, kind, ctx);
    new_id
}

/// `POST /crm/v3/objects/{type}/merge`: 200 with the merged record (maybe a new id).
pub async fn merge(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Extension(caller): Extension<Caller>,
    Body(input): Body<MergeInput>,
) -> ApiResult<Response> {
    let ctx = state.write_ctx(Source::api(caller.app_id));
    let keep = state.config.merge_keeps_primary_id;
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        let primary = live(store, &object, &input.primary_object_id)?;
        let secondary = live(store, &object, &input.object_id_to_merge)?;
        if primary == secondary {
            return Err(ApiError::validation("Cannot merge a record into itself"));
        }
        let id = merge_records(store, &object, primary, secondary, keep, &ctx);
        let record = store.record(&object.type_id, id).expect("just merged");
        Ok(wrote(StatusCode::OK, render::written(record), 1))
    })
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GdprInput {
    #[serde(deserialize_with = "IdRef::text")]
    object_id: String,
    id_property: Option<String>,
}

/// Erases a contact for good: record, history, unique values, aliases and associations.
pub fn erase(store: &mut Store, object: &ObjectType, id: u64, ctx: &WriteCtx) {
    let table = store.table_mut(&object.type_id);
    let Some(record) = table.records.remove(&id) else { return };
    table.aliases.retain(|_, to| *to != id);
    for index in table.unique.values_mut() {
        index.retain(|_, holder| *holder != id);
    }
    let emails = [record.get("email"), record.get("hs_additional_emails")];
    for email in emails.into_iter().flatten().flat_map(|e| e.split(';')) {
        store.blocked_emails.insert(email.to_lowercase());
    }
    store.associations.forget((&object.type_id, id));
    store.search.stage_removal(&object.type_id, id, ctx.now + ctx.search_lag_ms);
    note(store, object, id, ChangeKind::PrivacyDeletion, ctx);
    note(store, object, id, ChangeKind::Deletion, ctx);
}

/// `POST /crm/v3/objects/contacts/gdpr-delete`: 204. An unknown email is blocked anyway.
pub async fn gdpr_delete(
    State(state): State<SimState>,
    Path(segment): Path<String>,
    Extension(caller): Extension<Caller>,
    Body(input): Body<GdprInput>,
) -> ApiResult<Response> {
    let ctx = state.write_ctx(Source::api(caller.app_id));
    state.with_store(|store| {
        let object = store.object_type(&segment)?;
        if object.type_id != "0-1" {
            return Err(ApiError::validation("GDPR delete is only available for contacts"));
        }
        let by_email = input.id_property.as_deref() == Some("email");
        match store.find(&object, input.id_property.as_deref(), &input.object_id)? {
            Some(id) => erase(store, &object, id, &ctx),
            None if by_email => {
                store.blocked_emails.insert(input.object_id.to_lowercase());
            }
            None => return Err(super::objects::not_found(&input.object_id)),
        }
        Ok(StatusCode::NO_CONTENT.into_response())
    })
}
