//! Saving the portal to a JSON file and loading it back (so a rehearsal can be resumed),
//! and loading a seed file.
//!
//! # Seed file format
//!
//! A JSON object; every key is optional:
//!
//! ```json
//! {
//!   "portalId": 62515,
//!   "owners": [{"id": "101", "email": "ann@example.com", "firstName": "Ann", "userId": 9001}],
//!   "schemas": [{"name": "vendor", "labels": {"singular": "Vendor", "plural": "Vendors"},
//!                "primaryDisplayProperty": "vendor_name", "requiredProperties": ["vendor_name"],
//!                "properties": [{"name": "vendor_name", "label": "Name", "type": "string",
//!                                "fieldType": "text"}],
//!                "associatedObjects": ["CONTACT"]}],
//!   "properties": {"contacts": [{"name": "ext_id", "label": "External id", "type": "string",
//!                                "fieldType": "text", "groupName": "contactinformation",
//!                                "hasUniqueValue": true}]},
//!   "records": {"contacts": [{"key": "ann", "properties": {"email": "ann@example.com"}}],
//!               "companies": [{"key": "acme", "properties": {"name": "Acme"}}]},
//!   "associations": [{"from": "contacts:ann", "to": "companies:acme", "typeId": 1}]
//! }
//! ```
//!
//! `schemas` are `POST /crm/v3/schemas` bodies and `properties` are `POST
//! /crm/v3/properties/{type}` bodies (by object type); records are created in order, as if
//! imported (history source `IMPORT`), and `key` names a record for `associations`, whose
//! `typeId` defaults to the pair's unlabeled type.

use std::collections::HashMap;
use std::path::Path;

use serde::Deserialize;
use serde_json::{Map, Value};

use super::error::ApiError;
use super::props_api::{new_property, parse_create};
use super::schemas::{SchemaEgg, create_schema};
use super::store::{Source, Store};
use super::write::WriteCtx;
use super::{owners, write};

/// Why a seed or state file could not be used.
#[derive(Debug, thiserror::Error)]
pub enum PersistError {
    #[error("cannot read or write {path}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("{path} is not valid JSON for this purpose")]
    Json {
        path: String,
        #[source]
        source: serde_json::Error,
    },
    #[error("seed item {item} was refused: {message}")]
    Seed { item: String, message: String },
}

fn io_error(path: &Path) -> impl FnOnce(std::io::Error) -> PersistError + '_ {
    move |source| PersistError::Io { path: path.display().to_string(), source }
}

/// Writes the whole portal to `path` (via a temporary file, so a crash leaves the old one).
pub fn save(store: &Store, path: &Path) -> Result<(), PersistError> {
    let json = serde_json::to_vec(store)
        .map_err(|source| PersistError::Json { path: path.display().to_string(), source })?;
    let temporary = path.with_extension("tmp");
    std::fs::write(&temporary, json).map_err(io_error(path))?;
    std::fs::rename(&temporary, path).map_err(io_error(path))
}

/// Reads a portal written by [`save`]; every record is visible to search at once.
pub fn load(path: &Path) -> Result<Store, PersistError> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    let mut store: Store = serde_json::from_slice(&bytes)
        .map_err(|source| PersistError::Json { path: path.display().to_string(), source })?;
    store.rebuild_search();
    Ok(store)
}

#[derive(Debug, Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
pub struct SeedFile {
    pub portal_id: Option<u64>,
    pub owners: Vec<Value>,
    pub schemas: Vec<SchemaEgg>,
    pub properties: HashMap<String, Vec<Value>>,
    pub records: HashMap<String, Vec<SeedRecord>>,
    pub associations: Vec<SeedAssociation>,
}

#[derive(Debug, Deserialize)]
pub struct SeedRecord {
    pub key: Option<String>,
    #[serde(default)]
    pub properties: Map<String, Value>,
}

#[derive(Debug, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SeedAssociation {
    pub from: String,
    pub to: String,
    pub type_id: Option<u32>,
}

pub fn read_seed(path: &Path) -> Result<SeedFile, PersistError> {
    let bytes = std::fs::read(path).map_err(io_error(path))?;
    serde_json::from_slice(&bytes)
        .map_err(|source| PersistError::Json { path: path.display().to_string(), source })
}

fn refused(item: impl Into<String>) -> impl FnOnce(ApiError) -> PersistError {
    let item = item.into();
    move |err| PersistError::Seed { item, message: err.message }
}

/// Applies a seed file to a fresh store.
pub fn apply_seed(store: &mut Store, seed: SeedFile, now: i64) -> Result<(), PersistError> {
    for (i, owner) in seed.owners.into_iter().enumerate() {
        store.owners.push(owners::complete(owner, 100 + i as u64, now));
    }
    for egg in seed.schemas {
        let name = egg.name.clone();
        create_schema(store, egg, now).map_err(refused(format!("schema {name}")))?;
    }
    for (segment, defs) in seed.properties {
        let object = store.object_type(&segment).map_err(refused(segment.clone()))?;
        for raw in defs {
            let def = parse_create(raw)
                .and_then(|input| new_property(store.table(&object.type_id), input, now));
            let def = def.map_err(refused(format!("property of {segment}")))?;
            store.table_mut(&object.type_id).properties.insert(def.name.clone(), def);
        }
    }
    let keys = seed_records(store, seed.records, now)?;
    seed_associations(store, seed.associations, &keys, now)
}

fn import_ctx(now: i64) -> WriteCtx {
    let source =
        Source { source_type: "IMPORT".into(), source_id: Some("seed".into()), user_id: None };
    WriteCtx { source, now, search_lag_ms: 0, archived_values_stay_unique: true }
}

fn seed_records(
    store: &mut Store,
    records: HashMap<String, Vec<SeedRecord>>,
    now: i64,
) -> Result<HashMap<String, u64>, PersistError> {
    let mut keys = HashMap::new();
    let mut segments: Vec<_> = records.into_iter().collect();
    segments.sort_by(|a, b| a.0.cmp(&b.0));
    for (segment, list) in segments {
        let object = store.object_type(&segment).map_err(refused(segment.clone()))?;
        for (i, record) in list.into_iter().enumerate() {
            let item = format!("{segment}[{i}]");
            let id = write::create(store, &object, &record.properties, &import_ctx(now))
                .map_err(refused(item))?;
            if let Some(key) = record.key {
                keys.insert(format!("{segment}:{key}"), id);
            }
        }
    }
    Ok(keys)
}

fn seed_associations(
    store: &mut Store,
    list: Vec<SeedAssociation>,
    keys: &HashMap<String, u64>,
    now: i64,
) -> Result<(), PersistError> {
    for link in list {
        let item = format!("association {} → {}", link.from, link.to);
        let missing =
            || PersistError::Seed { item: item.clone(), message: "unknown record key".into() };
        let (from_id, to_id) =
            (*keys.get(&link.from).ok_or_else(missing)?, *keys.get(&link.to).ok_or_else(missing)?);
        let from = store
            .object_type(link.from.split(':').next().unwrap_or(""))
            .map_err(refused(item.clone()))?;
        let to = store
            .object_type(link.to.split(':').next().unwrap_or(""))
            .map_err(refused(item.clone()))?;
        let labels =
            store.associations.labels((&from.type_id, &from.singular), (&to.type_id, &to.singular));
        let label = match link.type_id {
            Some(type_id) => labels.into_iter().find(|l| l.type_id == type_id),
            None => labels.into_iter().next(),
        };
        let label = label.ok_or_else(|| PersistError::Seed {
            item: item.clone(),
            message: "no such association type".into(),
        })?;
        super::assoc_api::associate(
            store,
            (&from, from_id),
            (&to, to_id),
            &label,
            &import_ctx(now),
        );
    }
    Ok(())
}
