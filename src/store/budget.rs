//! The `connector_budget` table: each connector's rate budget as the daemon last published
//! it, for `hubsync status` in another process.

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// Upserts the budgets of `names`, column by column, in one statement.
pub async fn publish<'e>(
    executor: impl PgExecutor<'e>,
    names: Vec<String>,
    rates: Vec<Option<f64>>,
    daily: Vec<Option<i64>>,
    paused: Vec<Option<DateTime<Utc>>>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "insert into hubsync.connector_budget
             (connector, requests_per_second, daily_remaining, paused_until, updated_at)
         select *, now() from unnest($1::text[], $2::float8[], $3::int8[], $4::timestamptz[])
         on conflict (connector) do update set
             requests_per_second = excluded.requests_per_second,
             daily_remaining = excluded.daily_remaining,
             paused_until = excluded.paused_until, updated_at = now()",
    )
    .bind(names)
    .bind(rates)
    .bind(daily)
    .bind(paused)
    .execute(executor)
    .await?;
    Ok(())
}
