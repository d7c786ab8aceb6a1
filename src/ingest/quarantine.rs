//! The quarantine: what ingest could not journal (signed webhook bodies or events that did
//! not parse or cannot be stored, polled records that cannot be stored), kept with the
//! reason for operators to read, to replay once hubsync understands them, or to drop.
//! Each operator action is audited in the transaction that takes it.
//!
//! A value the journal cannot store (a NUL character; a lone surrogate cannot even be
//! parsed) is not rewritten into something storable: that would hand the other CRM a value
//! its source never had. The one event or record holding it is quarantined, byte-exact,
//! and the rest of its batch or page goes on.

use serde_json::json;
use sqlx::{PgExecutor, PgPool};

use super::{IngestError, hubspot_events};
use crate::connector::hubspot::webhook::{WebhookError, parse_events};
use crate::journal::NewChange;
use crate::metrics::QUARANTINED;
use crate::store;

/// The source of quarantined webhook deliveries.
pub const WEBHOOK_SOURCE: &str = "hubspot";

/// Splits `changes` into those the journal can store and those it cannot, with the reason.
pub fn split_unstorable(changes: Vec<NewChange>) -> (Vec<NewChange>, Vec<(NewChange, String)>) {
    let mut storable = Vec::with_capacity(changes.len());
    let mut poison = Vec::new();
    for change in changes {
        match store::journal::unstorable(&change) {
            None => storable.push(change),
            Some(reason) => poison.push((change, reason)),
        }
    }
    (storable, poison)
}

/// Quarantines polled or backfilled changes the journal cannot store: each as JSON (which
/// escapes what the journal cannot hold, so nothing is lost), under `poll:CONNECTOR:OBJECT`.
pub async fn keep_changes(
    tx: &mut sqlx::PgConnection,
    path: &'static str,
    poison: &[(NewChange, String)],
) -> Result<(), IngestError> {
    for (change, reason) in poison {
        let source = format!("poll:{}:{}", change.connector, change.object_type);
        let body = json!({
            "record_id": change.record_id,
            "change": change.kind,
            "occurred_at": change.occurred_at,
            "properties": change.properties,
            "dedup_key": change.dedup_key,
        });
        store::quarantine::keep(&mut *tx, &source, reason, body.to_string().as_bytes()).await?;
        tracing::warn!(source, reason = "unstorable_value", "record quarantined");
        count(path, "unstorable_value");
    }
    Ok(())
}

/// Counts one quarantined delivery, event or record.
pub fn count(path: &'static str, reason: &'static str) {
    metrics::counter!(QUARANTINED, "path" => path, "reason" => reason).increment(1);
}

/// Keeps one webhook delivery, with the reason, outside any transaction.
pub async fn keep_webhook<'e>(
    executor: impl PgExecutor<'e>,
    code: &'static str,
    detail: &str,
    body: &[u8],
) -> sqlx::Result<()> {
    store::quarantine::keep(executor, WEBHOOK_SOURCE, detail, body).await?;
    tracing::warn!(reason = code, "signed webhook content quarantined");
    count("webhook", code);
    Ok(())
}

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
    let found = store::quarantine::lock_body(&mut *tx, id).await?;
    let Some((source, body)) = found else { return Ok(Replayed::NotFound) };
    if source != WEBHOOK_SOURCE {
        let why = "a polled record is journalled again when it next changes in its CRM";
        return Ok(Replayed::StillMalformed(why.into()));
    }
    let events = match parse_events(&body) {
        Ok(events) => events,
        Err(WebhookError::Malformed(problem)) => return Ok(Replayed::StillMalformed(problem)),
        Err(other) => return Ok(Replayed::StillMalformed(other.to_string())),
    };
    let changes: Vec<_> =
        events.iter().flat_map(|e| hubspot_events::changes(connector, e)).collect();
    if let Some(problem) = changes.iter().find_map(store::journal::unstorable) {
        return Ok(Replayed::StillMalformed(problem));
    }
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
