//! The `audit` table: the trail of operator actions, who did what to which rows, and when.
//! Written in the same transaction as the action's effect.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgExecutor;

/// One recorded action.
#[derive(Debug, Clone, PartialEq, serde::Serialize, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: DateTime<Utc>,
    pub actor: String,
    pub action: String,
    pub target: Value,
    pub detail: Value,
}

pub async fn record<'e>(
    executor: impl PgExecutor<'e>,
    actor: &str,
    action: &str,
    target: Value,
    detail: Value,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into hubsync.audit (actor, action, target, detail) values ($1, $2, $3, $4)",
    )
    .bind(actor)
    .bind(action)
    .bind(target)
    .bind(detail)
    .execute(executor)
    .await?;
    Ok(())
}

/// The newest entries first.
pub async fn recent<'e>(
    executor: impl PgExecutor<'e>,
    limit: i64,
) -> sqlx::Result<Vec<AuditEntry>> {
    sqlx::query_as(
        "select id, at, actor, action, target, detail from hubsync.audit order by id desc limit $1",
    )
    .bind(limit)
    .fetch_all(executor)
    .await
}

/// Who is acting: `$USER@$HOSTNAME` for the CLI.
pub fn cli_actor() -> String {
    let user = std::env::var("USER").unwrap_or_else(|_| "unknown".into());
    let host = std::env::var("HOSTNAME").unwrap_or_else(|_| "localhost".into());
    format!("cli:{user}@{host}")
}
