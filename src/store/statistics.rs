//! The planner's statistics of the queue tables: which went stale, and analyzing them.

use sqlx::PgPool;

/// Queued rows beyond what the statistics know that make them stale: a queue at least
/// this long, and more than twice what was counted when the table was last analyzed.
const STALE_QUEUE: i64 = 500;

/// Names the tables whose statistics no longer describe them: a queue grown past what was
/// counted, or a table more than twice the size it had when last analyzed (a backfill
/// the reconciler keeps up with never grows its queue, but grows the journal). The queue
/// counts stop at 10,000 rows in the claim indexes' order: on current statistics a walk of
/// those indexes, on stale ones at worst one pass over the queued rows.
const STALE_SQL: &str = "
with queues (name, queued, index_name) as (values
    ('journal', (select count(*) from (
        select 1 from hubsync.journal where status in ('pending', 'processing')
        order by next_attempt_at, id limit 10000) q),
     'journal_unsettled_by_record'),
    ('outbox', (select count(*) from (
        select 1 from hubsync.outbox where status in ('pending', 'processing')
        order by priority, next_attempt_at, id limit 10000) q),
     'outbox_claim'))
select q.name from queues q
join pg_class x on x.relname = q.index_name and x.relnamespace = 'hubsync'::regnamespace
where q.queued >= $1 and q.queued > 2 * greatest(x.reltuples, 0) + $1 / 2
union all
select c.relname::text from pg_class c
where c.relnamespace = 'hubsync'::regnamespace
  and c.relname in ('journal', 'outbox', 'links', 'record_state')
  and pg_relation_size(c.oid) / 8192 > 2 * c.relpages + 8";

/// The tables the check may analyze, each with the columns the claims and lookups filter
/// on; names from the database are matched against these. The JSON columns are left out:
/// no plan depends on them and their statistics cost more than all the others together.
const TABLES: [(&str, &str); 4] = [
    (
        "journal",
        "status, next_attempt_at, lease_until, connector, object_type, record_id, occurred_at",
    ),
    ("outbox", "status, next_attempt_at, lease_until, priority, sync_name, depends_on"),
    ("links", "sync_name, hubspot_id, external_id"),
    ("record_state", "link_id, side"),
];

/// Analyzes the stale tables; returns their names.
pub async fn refresh(pool: &PgPool) -> Result<Vec<&'static str>, sqlx::Error> {
    let stale: Vec<String> =
        sqlx::query_scalar(STALE_SQL).bind(STALE_QUEUE).fetch_all(pool).await?;
    let stale: Vec<(&'static str, &'static str)> =
        TABLES.into_iter().filter(|(t, _)| stale.iter().any(|s| s == t)).collect();
    for (table, columns) in &stale {
        sqlx::query(&format!("analyze hubsync.{table} ({columns})")).execute(pool).await?;
    }
    let stale: Vec<&'static str> = stale.into_iter().map(|(table, _)| table).collect();
    if !stale.is_empty() {
        tracing::debug!(tables = ?stale, "queue statistics refreshed");
    }
    Ok(stale)
}
