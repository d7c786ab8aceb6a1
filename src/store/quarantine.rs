//! The `webhook_quarantine` table: what ingest could not journal, kept for operators to
//! read, replay or drop. Signed webhook bodies or single events that did not parse or
//! cannot be stored (source `hubspot`), and polled or backfilled records that cannot be
//! stored (source `poll:CONNECTOR:OBJECT`, body their JSON).

use chrono::{DateTime, Utc};
use sqlx::{PgExecutor, PgPool};

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

/// Keeps what could not be journalled, with the reason.
pub async fn keep<'e>(
    executor: impl PgExecutor<'e>,
    source: &str,
    reason: &str,
    body: &[u8],
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into hubsync.webhook_quarantine (source, reason, body) values ($1, $2, $3)",
    )
    .bind(source)
    .bind(reason)
    .bind(body)
    .execute(executor)
    .await?;
    Ok(())
}

const COLUMNS: &str = "id, received_at, source, reason, octet_length(body)::bigint as bytes";

/// The newest deliveries first.
pub async fn list(pool: &PgPool, limit: i64) -> sqlx::Result<Vec<Quarantined>> {
    let sql = format!("select {COLUMNS} from hubsync.webhook_quarantine order by id desc limit $1");
    sqlx::query_as(&sql).bind(limit).fetch_all(pool).await
}

/// A delivery with its raw body, read in one statement.
#[derive(sqlx::FromRow)]
struct WithBody {
    #[sqlx(flatten)]
    entry: Quarantined,
    body: Vec<u8>,
}

/// One delivery and its raw body.
pub async fn get(pool: &PgPool, id: i64) -> sqlx::Result<Option<(Quarantined, Vec<u8>)>> {
    let sql = format!("select {COLUMNS}, body from hubsync.webhook_quarantine where id = $1");
    let found: Option<WithBody> = sqlx::query_as(&sql).bind(id).fetch_optional(pool).await?;
    Ok(found.map(|row| (row.entry, row.body)))
}

/// A delivery's source and body, locked for the caller's transaction.
pub async fn lock_body<'e>(
    executor: impl PgExecutor<'e>,
    id: i64,
) -> sqlx::Result<Option<(String, Vec<u8>)>> {
    sqlx::query_as("select source, body from hubsync.webhook_quarantine where id = $1 for update")
        .bind(id)
        .fetch_optional(executor)
        .await
}

/// Removes one delivery.
pub async fn remove<'e>(executor: impl PgExecutor<'e>, id: i64) -> sqlx::Result<()> {
    sqlx::query("delete from hubsync.webhook_quarantine where id = $1")
        .bind(id)
        .execute(executor)
        .await?;
    Ok(())
}

/// Removes deliveries; returns the ids that were there, in no particular order.
pub async fn remove_many<'e>(executor: impl PgExecutor<'e>, ids: &[i64]) -> sqlx::Result<Vec<i64>> {
    sqlx::query_scalar("delete from hubsync.webhook_quarantine where id = any($1) returning id")
        .bind(ids)
        .fetch_all(executor)
        .await
}
