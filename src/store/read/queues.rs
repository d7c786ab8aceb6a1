//! The queues' sizes for the gauges: journal depth, outbox depth, and the oldest pending
//! change's age.

use sqlx::PgPool;

/// `(journal depth, outbox depth, seconds the oldest pending change has waited)`.
pub async fn depths(pool: &PgPool) -> sqlx::Result<(i64, i64, Option<f64>, i64)> {
    sqlx::query_as(
        "select
                 (select count(*) from hubsync.journal where status in ('pending', 'processing')),
                 (select count(*) from hubsync.outbox where status in ('pending', 'processing')),
                 (select extract(epoch from now() - min(received_at))::float8
                      from hubsync.journal where status in ('pending', 'processing')),
                 -- an operator acts on journal rows (a failed write fails its row too); the
                 -- count reads the partial failure index
                 (select count(*) from hubsync.journal where status in ('failed', 'dead'))",
    )
    .fetch_one(pool)
    .await
}
