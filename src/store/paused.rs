//! The `paused` table: sync blocks whose writes are stopped, by an operator or by the
//! blast-radius guard.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// A pause as stored: its reason, who paused, and when.
pub type PausedRow = (String, String, DateTime<Utc>);

/// Pauses block `sync` for `reason` unless it is paused already; returns the new pause.
pub async fn pause<'e>(
    executor: impl PgExecutor<'e>,
    sync: &str,
    reason: &str,
    actor: &str,
) -> sqlx::Result<Option<PausedRow>> {
    sqlx::query_as(
        "insert into hubsync.paused (sync_name, reason, detail, paused_by)
         values ($1, $2, '{}'::jsonb, $3) on conflict (sync_name) do nothing
         returning reason, paused_by, paused_at",
    )
    .bind(sync)
    .bind(reason)
    .bind(actor)
    .fetch_optional(executor)
    .await
}

/// Removes block `sync`'s pause; returns the pause it was.
pub async fn resume<'e>(
    executor: impl PgExecutor<'e>,
    sync: &str,
) -> sqlx::Result<Option<PausedRow>> {
    sqlx::query_as(
        "delete from hubsync.paused where sync_name = $1 returning reason, paused_by, paused_at",
    )
    .bind(sync)
    .fetch_optional(executor)
    .await
}

/// Block `sync`'s pause, if it is paused.
pub async fn current<'e>(
    executor: impl PgExecutor<'e>,
    sync: &str,
) -> sqlx::Result<Option<PausedRow>> {
    sqlx::query_as("select reason, paused_by, paused_at from hubsync.paused where sync_name = $1")
        .bind(sync)
        .fetch_optional(executor)
        .await
}

/// Pauses block `sync` for its blast radius, described by `detail`, unless it is paused
/// already; returns whether this paused it.
pub async fn pause_for_blast_radius<'e>(
    executor: impl PgExecutor<'e>,
    sync: &str,
    detail: &Value,
) -> sqlx::Result<bool> {
    pause_by_hubsync(executor, sync, "blast_radius", detail).await
}

/// Pauses block `sync` on hubsync's own judgement, for `reason` described by `detail`,
/// unless it is paused already; returns whether this paused it.
pub async fn pause_by_hubsync<'e>(
    executor: impl PgExecutor<'e>,
    sync: &str,
    reason: &str,
    detail: &Value,
) -> sqlx::Result<bool> {
    let paused = sqlx::query(
        "insert into hubsync.paused (sync_name, reason, detail, paused_by)
         values ($1, $2, $3, 'hubsync') on conflict (sync_name) do nothing",
    )
    .bind(sync)
    .bind(reason)
    .bind(detail)
    .execute(executor)
    .await?;
    Ok(paused.rows_affected() == 1)
}
