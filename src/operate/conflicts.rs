//! The conflicts queue: listing same-field conflicts, and resolving a held one by writing
//! the chosen value through the outbox, audited, in one transaction.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::{PgPool, Postgres, Transaction};

use super::{OperateError, find_block};
use crate::config::{Settings, Side, SyncRule, Transform};
pub use crate::store::conflicts::{Conflict, ConflictFilter, ConflictStatus};
use crate::store::outbox::ChosenValue as Write;
use crate::store::{self, conflicts, links};

pub async fn list_conflicts(
    pool: &PgPool,
    filter: &ConflictFilter,
    limit: i64,
) -> Result<Vec<Conflict>, OperateError> {
    Ok(conflicts::list(pool, filter, limit).await?)
}

/// Which value an operator picks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Take {
    Hubspot,
    External,
    /// This text, written to both sides.
    Value(String),
}

impl Take {
    /// `hubspot`, `external` or `value=TEXT`.
    pub fn parse(text: &str) -> Result<Take, String> {
        match text {
            "hubspot" => Ok(Take::Hubspot),
            "external" => Ok(Take::External),
            _ => match text.strip_prefix("value=") {
                Some(value) => Ok(Take::Value(value.to_string())),
                None => Err(format!("`{text}`: use hubspot, external or value=TEXT")),
            },
        }
    }

    fn resolution(&self) -> String {
        match self {
            Take::Hubspot => "take:hubspot".into(),
            Take::External => "take:external".into(),
            Take::Value(value) => format!("value:{value}"),
        }
    }

    fn winner(&self) -> Option<&'static str> {
        match self {
            Take::Hubspot => Some("hubspot"),
            Take::External => Some("external"),
            Take::Value(_) => None,
        }
    }
}

/// What resolving did.
#[derive(Debug, Clone, Serialize)]
pub struct Resolution {
    pub conflict: Conflict,
    pub outbox_ids: Vec<i64>,
}

/// Resolves open conflict `id` with `take`: marks it resolved, queues the write(s), audits
/// it and wakes the writer, all in one transaction.
pub async fn resolve_conflict(
    pool: &PgPool,
    settings: &Settings,
    id: i64,
    take: &Take,
    actor: &str,
) -> Result<Resolution, OperateError> {
    let mut tx = pool.begin().await?;
    let conflict = locked(&mut tx, id).await?;
    let rule = find_block(settings, &conflict.sync_name)?;
    let pair = linked_pair(&mut tx, &conflict).await?;
    let mut outbox_ids = Vec::new();
    for item in writes(rule, &conflict, &pair, take) {
        outbox_ids.push(item.insert(&mut *tx).await?);
    }
    let conflict = mark_resolved(&mut tx, id, take, actor).await?;
    let target = json!({ "conflict_id": id, "sync": conflict.sync_name });
    let detail = json!({ "resolution": take.resolution(), "outbox_ids": outbox_ids });
    crate::store::audit::record(&mut *tx, actor, "conflict.resolve", target, detail).await?;
    store::outbox::notify(&mut *tx).await?;
    tx.commit().await?;
    Ok(Resolution { conflict, outbox_ids })
}

async fn locked(tx: &mut Transaction<'_, Postgres>, id: i64) -> Result<Conflict, OperateError> {
    let conflict =
        conflicts::lock(&mut **tx, id).await?.ok_or(OperateError::ConflictNotFound(id))?;
    if conflict.status != "open" {
        return Err(OperateError::ConflictNotOpen { id, status: conflict.status });
    }
    Ok(conflict)
}

/// `(hubspot_id, external_id)`: the conflict's own ids, else its link's current ones.
async fn linked_pair(
    tx: &mut Transaction<'_, Postgres>,
    conflict: &Conflict,
) -> Result<(String, String), OperateError> {
    let unlinked = || OperateError::ConflictUnlinked(conflict.id);
    let link_id = conflict.link_id.ok_or_else(unlinked)?;
    let link = links::pair(&mut **tx, link_id).await?.ok_or_else(unlinked)?;
    let hubspot = conflict.hubspot_id.clone().unwrap_or(link.0);
    let external = conflict.external_id.clone().unwrap_or(link.1);
    Ok((hubspot, external))
}

async fn mark_resolved(
    tx: &mut Transaction<'_, Postgres>,
    id: i64,
    take: &Take,
    actor: &str,
) -> Result<Conflict, OperateError> {
    Ok(conflicts::mark_resolved(&mut **tx, id, actor, take.resolution(), take.winner()).await?)
}

fn writes(rule: &SyncRule, c: &Conflict, pair: &(String, String), take: &Take) -> Vec<Write> {
    let now = Utc::now();
    let hs_at = c.hubspot_at.unwrap_or(now);
    let ext_at = c.external_at.unwrap_or(now);
    let hs_value = hubspot_value(c.hubspot_value.as_deref());
    let ext_value = external_value(rule, c, c.external_value.as_deref());
    match take {
        Take::Hubspot => {
            let v = external_value(rule, c, c.hubspot_as_external.as_deref());
            let state = json!([
                entry(Side::External, &c.external_field, &v, hs_at, true),
                entry(Side::Hubspot, &c.hubspot_field, &hs_value, hs_at, false),
            ]);
            vec![write(rule, c, pair, Side::External, v, state)]
        }
        Take::External => {
            let v = hubspot_value(c.external_as_hubspot.as_deref());
            let state = json!([
                entry(Side::Hubspot, &c.hubspot_field, &v, ext_at, true),
                entry(Side::External, &c.external_field, &ext_value, ext_at, false),
            ]);
            vec![write(rule, c, pair, Side::Hubspot, v, state)]
        }
        Take::Value(text) => [Side::External, Side::Hubspot]
            .into_iter()
            .map(|side| {
                let v = match side {
                    Side::Hubspot => hubspot_value(Some(text)),
                    Side::External => external_value(rule, c, Some(text)),
                };
                let state = json!([entry(side, field(c, side), &v, now, true)]);
                write(rule, c, pair, side, v, state)
            })
            .collect(),
    }
}

fn write(
    rule: &SyncRule,
    c: &Conflict,
    pair: &(String, String),
    target: Side,
    value: Value,
    state: Value,
) -> Write {
    let (connector, object, target_id, source_id) = match target {
        Side::Hubspot => (&rule.hubspot_connector, &rule.hubspot_object, &pair.0, &pair.1),
        Side::External => (&rule.external_connector, &rule.external_object, &pair.1, &pair.0),
    };
    let mut properties = serde_json::Map::new();
    properties.insert(field(c, target).to_string(), value);
    Write {
        sync: c.sync_name.clone(),
        target,
        connector: connector.clone(),
        object: object.clone(),
        target_id: target_id.clone(),
        source_id: source_id.clone(),
        properties: Value::Object(properties),
        state,
        journal_id: c.journal_id,
    }
}

fn field(c: &Conflict, side: Side) -> &str {
    match side {
        Side::Hubspot => &c.hubspot_field,
        Side::External => &c.external_field,
    }
}

fn entry(side: Side, field: &str, value: &Value, at: DateTime<Utc>, ours: bool) -> Value {
    json!({ "side": side.as_str(), "field": field, "value": value, "value_at": at, "ours": ours })
}

/// A conflict value (stored as text) as the external API takes it: typed by the field's
/// transform (`number`, `bool`), blank as null, else a string.
fn external_value(rule: &SyncRule, c: &Conflict, text: Option<&str>) -> Value {
    let text = match text {
        None | Some("") => return Value::Null,
        Some(text) => text,
    };
    let mapping =
        rule.fields.iter().find(|f| f.hubspot == c.hubspot_field && f.external == c.external_field);
    let typed = match mapping.and_then(|f| f.transform.as_ref()) {
        Some(Transform::Number) => {
            serde_json::from_str::<serde_json::Number>(text).ok().map(Value::Number)
        }
        Some(Transform::Bool) => text.parse::<bool>().ok().map(Value::Bool),
        _ => None,
    };
    typed.unwrap_or_else(|| Value::String(text.to_string()))
}

/// HubSpot takes every property value as a string; blank clears it.
fn hubspot_value(text: Option<&str>) -> Value {
    text.map_or(Value::Null, |text| Value::String(text.to_string()))
}
