//! Finding the record an operator means: a KEY may be a HubSpot id, an external id, a
//! unique key value or an email. It resolves through `links` (either id, and merged ids)
//! and through journal rows whose record id, key property or email equals it.

use std::collections::BTreeSet;

use serde::Serialize;
use sqlx::PgPool;

use super::OperateError;
use crate::config::{Settings, Side, SyncRule};
use crate::store::read::record;
pub use crate::store::read::record::LinkInfo;

/// One record on one side: `(side, connector, object, record_id)`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct RecordRef {
    pub side: Side,
    pub connector: String,
    pub object: String,
    pub record_id: String,
}

/// What a key resolved to.
#[derive(Debug, Clone, Default)]
pub struct Resolved {
    pub links: Vec<LinkInfo>,
    pub records: BTreeSet<RecordRef>,
}

/// Resolves `key`; an error names the key when nothing matches.
pub async fn resolve(
    pool: &PgPool,
    settings: &Settings,
    key: &str,
) -> Result<Resolved, OperateError> {
    let key = key.trim();
    if key.is_empty() {
        return Err(OperateError::BadInput("the record key is empty".into()));
    }
    let mut ids: BTreeSet<String> = BTreeSet::from([key.to_string()]);
    ids.extend(by_property(pool, settings, key).await?);
    let links = links(pool, &ids).await?;
    for link in &links {
        ids.insert(link.hubspot_id.clone());
        ids.insert(link.external_id.clone());
        ids.extend(link.merged_from.iter().cloned());
    }
    let records = known_records(pool, settings, &links, &ids).await?;
    if links.is_empty() && records.is_empty() {
        return Err(OperateError::RecordNotFound(key.to_string()));
    }
    Ok(Resolved { links, records })
}

/// Record ids of journal rows whose key or email property holds `key`.
async fn by_property(
    pool: &PgPool,
    settings: &Settings,
    key: &str,
) -> Result<Vec<String>, OperateError> {
    let (mut connectors, mut objects, mut fields) = (Vec::new(), Vec::new(), Vec::new());
    for rule in &settings.sync {
        for side in [Side::Hubspot, Side::External] {
            let (connector, object) = side_object(rule, side);
            for field in key_fields(rule, side) {
                connectors.push(connector.clone());
                objects.push(object.clone());
                fields.push(field);
            }
        }
    }
    Ok(record::by_property(pool, connectors, objects, fields, key).await?)
}

/// The unique keys of `side`, and its email field.
fn key_fields(rule: &SyncRule, side: Side) -> Vec<String> {
    let keys = &rule.keys;
    let mut fields = match side {
        Side::Hubspot => vec![
            keys.hubspot_unique_property.clone(),
            keys.shared.as_ref().map(|s| s.hubspot.clone()),
            Some("email".to_string()),
        ],
        Side::External => vec![
            keys.external_id_field.clone(),
            keys.shared.as_ref().map(|s| s.external.clone()),
            Some("Email".to_string()),
            Some("email".to_string()),
        ],
    };
    fields.dedup();
    fields.into_iter().flatten().collect()
}

pub(super) fn side_object(rule: &SyncRule, side: Side) -> (String, String) {
    match side {
        Side::Hubspot => (rule.hubspot_connector.clone(), rule.hubspot_object.clone()),
        Side::External => (rule.external_connector.clone(), rule.external_object.clone()),
    }
}

async fn links(pool: &PgPool, ids: &BTreeSet<String>) -> Result<Vec<LinkInfo>, OperateError> {
    let ids: Vec<String> = ids.iter().cloned().collect();
    Ok(record::links(pool, ids).await?)
}

/// Records with journal rows under one of `ids`, plus both sides of every link.
async fn known_records(
    pool: &PgPool,
    settings: &Settings,
    links: &[LinkInfo],
    ids: &BTreeSet<String>,
) -> Result<BTreeSet<RecordRef>, OperateError> {
    let mut candidates = BTreeSet::new();
    for rule in &settings.sync {
        for side in [Side::Hubspot, Side::External] {
            let (connector, object) = side_object(rule, side);
            for id in ids {
                candidates.insert(RecordRef {
                    side,
                    connector: connector.clone(),
                    object: object.clone(),
                    record_id: id.clone(),
                });
            }
        }
    }
    let mut found: BTreeSet<RecordRef> = present(pool, &candidates).await?;
    for link in links {
        let Some(rule) = settings.sync.iter().find(|rule| rule.name == link.sync_name) else {
            continue;
        };
        let mut add = |side, id: &String| {
            let (connector, object) = side_object(rule, side);
            found.insert(RecordRef { side, connector, object, record_id: id.clone() });
        };
        add(Side::Hubspot, &link.hubspot_id);
        add(Side::External, &link.external_id);
        link.merged_from.iter().for_each(|id| add(Side::Hubspot, id));
    }
    Ok(found)
}

/// The candidates that have at least one journal row.
async fn present(
    pool: &PgPool,
    candidates: &BTreeSet<RecordRef>,
) -> Result<BTreeSet<RecordRef>, OperateError> {
    let list: Vec<&RecordRef> = candidates.iter().collect();
    let (c, o, r) = triples(&list);
    let hits = record::present(pool, c, o, r).await?;
    let hits: BTreeSet<(String, String, String)> = hits.into_iter().collect();
    Ok(candidates
        .iter()
        .filter(|rec| {
            hits.contains(&(rec.connector.clone(), rec.object.clone(), rec.record_id.clone()))
        })
        .cloned()
        .collect())
}

pub(super) fn triples(records: &[&RecordRef]) -> (Vec<String>, Vec<String>, Vec<String>) {
    let connectors = records.iter().map(|r| r.connector.clone()).collect();
    let objects = records.iter().map(|r| r.object.clone()).collect();
    let ids = records.iter().map(|r| r.record_id.clone()).collect();
    (connectors, objects, ids)
}
