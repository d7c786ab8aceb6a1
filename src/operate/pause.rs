//! Pausing and resuming a sync block's writes, audited in the same transaction.

use chrono::{DateTime, Utc};
use serde_json::json;
use sqlx::PgPool;

use super::{OperateError, find_block};
use crate::config::Settings;
use crate::store::paused::{self, PausedRow};

/// What a pause or resume found and did.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct PauseOutcome {
    pub sync: String,
    /// Whether this call changed anything (false: it was already paused, or not paused).
    pub changed: bool,
    pub paused: bool,
    pub reason: Option<String>,
    pub paused_by: Option<String>,
    pub paused_at: Option<DateTime<Utc>>,
}

/// Stops the writes of block `sync`. An already paused block keeps its first reason.
pub async fn pause(
    pool: &PgPool,
    settings: &Settings,
    sync: &str,
    reason: &str,
    actor: &str,
) -> Result<PauseOutcome, OperateError> {
    find_block(settings, sync)?;
    let mut tx = pool.begin().await?;
    let inserted = paused::pause(&mut *tx, sync, reason, actor).await?;
    let changed = inserted.is_some();
    let row = match inserted {
        Some(row) => row,
        None => paused::current(&mut *tx, sync).await?.ok_or_else(|| {
            OperateError::BadInput(format!("sync `{sync}` was resumed meanwhile; try again"))
        })?,
    };
    if changed {
        let detail = json!({ "reason": reason });
        crate::store::audit::record(&mut *tx, actor, "sync.pause", json!({ "sync": sync }), detail)
            .await?;
    }
    tx.commit().await?;
    Ok(outcome(sync, changed, Some(row)))
}

/// Lets the writes of block `sync` go again.
pub async fn resume(
    pool: &PgPool,
    settings: &Settings,
    sync: &str,
    actor: &str,
) -> Result<PauseOutcome, OperateError> {
    find_block(settings, sync)?;
    let mut tx = pool.begin().await?;
    let removed = paused::resume(&mut *tx, sync).await?;
    if let Some((reason, by, at)) = &removed {
        let detail = json!({ "was_paused_for": reason, "paused_by": by, "paused_at": at });
        crate::store::audit::record(
            &mut *tx,
            actor,
            "sync.resume",
            json!({ "sync": sync }),
            detail,
        )
        .await?;
    }
    tx.commit().await?;
    Ok(PauseOutcome { paused: false, ..outcome(sync, removed.is_some(), None) })
}

fn outcome(sync: &str, changed: bool, row: Option<PausedRow>) -> PauseOutcome {
    let paused = row.is_some();
    let (reason, paused_by, paused_at) = match row {
        Some((reason, by, at)) => (Some(reason), Some(by), Some(at)),
        None => (None, None, None),
    };
    PauseOutcome { sync: sync.to_string(), changed, paused, reason, paused_by, paused_at }
}
