//! Lag over the last hour, read from the journal: per minute of arrival, how many changes
//! came in and how long the slowest waited to be settled.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LagPoint {
    pub minute: DateTime<Utc>,
    pub received: i64,
    pub max_lag_seconds: f64,
}

/// One point per minute that received changes of either `(connector, object_type)`,
/// oldest first.
pub async fn lag(
    pool: &PgPool,
    hubspot: (&str, &str),
    external: (&str, &str),
) -> sqlx::Result<Vec<LagPoint>> {
    sqlx::query_as(
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
    .bind(hubspot.0)
    .bind(hubspot.1)
    .bind(external.0)
    .bind(external.1)
    .fetch_all(pool)
    .await
}
