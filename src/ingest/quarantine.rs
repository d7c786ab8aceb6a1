//! The webhook quarantine: signed bodies that did not parse, kept for operators to read,
//! to replay once hubsync understands them, or to drop. Each action is audited in the
//! transaction that takes it.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;

use super::{IngestError, hubspot_events};
use crate::connector::hubspot::webhook::{WebhookError, parse_events};
use crate::store;

/// One quarantined delivery, without its body.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct Quarantined {
    pub id: i64,
    pub received_at: DateTime<Utc>,
    pub source: String,
    /// Why it did not parse.
    pub reason: String,
    pub bytes: i64,
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

/// Keeps a signed delivery that did not parse, with the reason.
pub async fn keep(pool: &PgPool, source: &str, reason: &str, body: &[u8]) -> sqlx::Result<()> {
    sqlx::query(
        "insert into hubsync.webhook_quarantine (source, reason, body) values ($1, $2, $3)",
    )
    .bind(source)
    .bind(reason)
    .bind(body)
    .execute(pool)
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, received_at, source, reason, octet_length(body)::bigint as bytes";

/// The newest deliveries first.
pub async fn list(pool: &PgPool, limit: i64) -> Result<Vec<Quarantined>, IngestError> {
    let sql = format!("select {COLUMNS} from hubsync.webhook_quarantine order by id desc limit $1");
    Ok(sqlx::query_as(&sql).bind(limit).fetch_all(pool).await?)
}

/// A delivery with its raw body, read in one statement.
#[derive(sqlx::FromRow)]
struct WithBody {
    #[sqlx(flatten)]
    entry: Quarantined,
    body: Vec<u8>,
}

/// One delivery and its raw body.
pub async fn get(pool: &PgPool, id: i64) -> Result<Option<(Quarantined, Vec<u8>)>, IngestError> {
    let sql = format!("select {COLUMNS}, body from hubsync.webhook_quarantine where id = $1");
    let found: Option<WithBody> = sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?;
    Ok(found.map(|row| (row.entry, row.body)))
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
    let body: Option<Vec<u8>> =
        sqlx::query_scalar("select body from hubsync.webhook_quarantine where id = $1 for update")
            .bind(id)
            .fetch_optional(&mut *tx)
            .await?;
    let Some(body) = body else { return Ok(Replayed::NotFound) };
    let events = match parse_events(&body) {
        Ok(events) => events,
        Err(WebhookError::Malformed(problem)) => return Ok(Replayed::StillMalformed(problem)),
        Err(other) => return Ok(Replayed::StillMalformed(other.to_string())),
    };
    let changes: Vec<_> =
        events.iter().flat_map(|e| hubspot_events::changes(connector, e)).collect();
    let inserted = store::journal::append(&mut *tx, &changes).await?;
    sqlx::query("delete from hubsync.webhook_quarantine where id = $1")
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let detail = json!({"events": events.len(), "journalled": inserted});
    crate::audit::record(&mut *tx, actor, "quarantine_replay", json!({"quarantine": id}), detail)
        .await?;
    tx.commit().await?;
    Ok(Replayed::Journalled { events: events.len(), inserted })
}

/// Removes deliveries an operator gave up on; returns the ids that were there.
pub async fn drop(pool: &PgPool, ids: &[i64], actor: &str) -> Result<Vec<i64>, IngestError> {
    let mut tx = pool.begin().await?;
    let mut dropped: Vec<i64> = sqlx::query_scalar(
        "delete from hubsync.webhook_quarantine where id = any($1) returning id",
    )
    .bind(ids)
    .fetch_all(&mut *tx)
    .await?;
    dropped.sort_unstable();
    if !dropped.is_empty() {
        let target = json!({"quarantine": dropped});
        crate::audit::record(&mut *tx, actor, "quarantine_drop", target, json!({})).await?;
    }
    tx.commit().await?;
    Ok(dropped)
}
