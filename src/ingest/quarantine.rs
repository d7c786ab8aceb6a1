//! The webhook quarantine: signed bodies that did not parse, kept for operators to read,
//! to replay once hubsync understands them, or to drop. Each action is audited in the
//! transaction that takes it.

use serde_json::json;
use sqlx::PgPool;

use super::{IngestError, hubspot_events};
use crate::connector::hubspot::webhook::{WebhookError, parse_events};
use crate::store;

/// What a replay did.
#[derive(Debug, Clone, PartialEq)]
pub enum Replayed {
    /// The body parses now: its events were journalled (duplicates once) and the delivery
    /// left the quarantine.
    Journalled {
        events: usize,
        inserted: u64,
    },
    /// It still does not parse, for this reason; it stays.
    StillMalformed(String),
    NotFound,
}

/// Parses a delivery again with today's parser and, if it parses, journals its events as
/// the receiver would have (for `connector`) and removes it from the quarantine.
pub async fn replay(
    pool: &PgPool,
    id: i64,
    connector: &str,
    actor: &str,
) -> Result<Replayed, IngestError> {
    let mut tx = pool.begin().await?;
    let body = store::quarantine::lock_body(&mut *tx, id).await?;
    let Some(body) = body else { return Ok(Replayed::NotFound) };
    let events = match parse_events(&body) {
        Ok(events) => events,
        Err(WebhookError::Malformed(problem)) => return Ok(Replayed::StillMalformed(problem)),
        Err(other) => return Ok(Replayed::StillMalformed(other.to_string())),
    };
    let changes: Vec<_> =
        events.iter().flat_map(|e| hubspot_events::changes(connector, e)).collect();
    let inserted = store::journal::append(&mut *tx, &changes).await?;
    store::quarantine::remove(&mut *tx, id).await?;
    let detail = json!({"events": events.len(), "journalled": inserted});
    crate::store::audit::record(
        &mut *tx,
        actor,
        "quarantine_replay",
        json!({"quarantine": id}),
        detail,
    )
    .await?;
    tx.commit().await?;
    Ok(Replayed::Journalled { events: events.len(), inserted })
}

/// Removes deliveries an operator gave up on; returns the ids that were there.
pub async fn drop(pool: &PgPool, ids: &[i64], actor: &str) -> Result<Vec<i64>, IngestError> {
    let mut tx = pool.begin().await?;
    let mut dropped = store::quarantine::remove_many(&mut *tx, ids).await?;
    dropped.sort_unstable();
    if !dropped.is_empty() {
        let target = json!({"quarantine": dropped});
        crate::store::audit::record(&mut *tx, actor, "quarantine_drop", target, json!({})).await?;
    }
    tx.commit().await?;
    Ok(dropped)
}
