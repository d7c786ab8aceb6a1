//! Lag over the last hour for the dashboard's chart: per minute of arrival, how many changes
//! a block received and how long the slowest of them waited to be settled (or has waited so
//! far, if still pending).

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

use super::{OperateError, find_block};
use crate::config::Settings;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LagPoint {
    pub minute: DateTime<Utc>,
    pub received: i64,
    pub max_lag_seconds: f64,
}

/// One point per minute that received changes, oldest first.
pub async fn lag_history(
    pool: &PgPool,
    settings: &Settings,
    sync: &str,
) -> Result<Vec<LagPoint>, OperateError> {
    let rule = find_block(settings, sync)?;
    let points = sqlx::query_as(
        "select date_trunc('minute', received_at) as minute, count(*) as received,
                max(extract(epoch from
                    (case when status in ('pending', 'processing') then now() else updated_at end)
                    - received_at))::float8 as max_lag_seconds
           from hubsync.journal
          where status = any(array['pending', 'processing', 'applied', 'echo', 'stale',
                                   'skipped', 'conflict', 'failed', 'dead'])
            and received_at > now() - interval '1 hour'
            and ((connector = $1 and object_type = $2) or (connector = $3 and object_type = $4))
          group by 1 order by 1",
    )
    .bind(&rule.hubspot_connector)
    .bind(&rule.hubspot_object)
    .bind(&rule.external_connector)
    .bind(&rule.external_object)
    .fetch_all(pool)
    .await?;
    Ok(points)
}
