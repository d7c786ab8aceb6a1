//! The queries behind `hubsync status`, each served by an index (partial indexes on pending
//! and failed rows), so status stays fast on a journal of millions of rows.

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::Value;
use sqlx::PgPool;

/// `(connector, object_type)`.
pub type ObjectKey = (String, String);

/// Everything status needs, keyed for assembly.
#[derive(Debug, Default)]
pub struct Facts {
    pub queues: BTreeMap<ObjectKey, Queue>,
    pub received_5m: BTreeMap<ObjectKey, i64>,
    pub journal_failures: BTreeMap<ObjectKey, BTreeMap<String, i64>>,
    pub outbox: BTreeMap<String, OutboxFacts>,
    pub budgets: BTreeMap<String, BudgetRow>,
    pub cursors: BTreeMap<ObjectKey, Vec<CursorRow>>,
    pub live: BTreeSet<ObjectKey>,
    pub paused: BTreeMap<String, PausedRow>,
}

#[derive(Debug, Clone, Default)]
pub struct Queue {
    pub depth: i64,
    pub oldest: Option<(i64, DateTime<Utc>)>,
}

#[derive(Debug, Clone, Default)]
pub struct OutboxFacts {
    pub depth: i64,
    pub done_5m: i64,
    pub failed_5m: i64,
    pub failures: BTreeMap<String, i64>,
}

#[derive(Debug, Clone, Serialize, sqlx::FromRow)]
pub struct BudgetRow {
    /// Sustained requests per second the limiter allows (the burst budget); `None` when
    /// the connector has no per-second limit.
    pub requests_per_second: Option<f64>,
    pub daily_remaining: Option<i64>,
    pub paused_until: Option<DateTime<Utc>>,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone, Serialize)]
pub struct CursorRow {
    pub stream: String,
    pub position_ts: DateTime<Utc>,
    pub position_id: String,
    pub updated_at: DateTime<Utc>,
}

#[derive(Debug, Clone)]
pub struct PausedRow {
    pub reason: String,
    pub detail: Value,
    pub paused_at: DateTime<Utc>,
    pub paused_by: String,
}

/// Runs every status query concurrently.
pub async fn gather(pool: &PgPool, objects: &[ObjectKey]) -> Result<Facts, sqlx::Error> {
    let (queues, received_5m, journal_failures, outbox, budgets, cursors, live, paused) = tokio::try_join!(
        queues(pool, objects),
        received_5m(pool),
        journal_failures(pool),
        outbox(pool),
        budgets(pool),
        cursors(pool),
        live(pool, objects),
        paused(pool),
    )?;
    Ok(Facts { queues, received_5m, journal_failures, outbox, budgets, cursors, live, paused })
}

fn columns(objects: &[ObjectKey]) -> (Vec<String>, Vec<String>) {
    objects.iter().cloned().unzip()
}

type QueueRow = (String, String, i64, Option<i64>, Option<DateTime<Utc>>);

/// Depth and oldest row per object, from the partial index on pending rows.
async fn queues(
    pool: &PgPool,
    objects: &[ObjectKey],
) -> Result<BTreeMap<ObjectKey, Queue>, sqlx::Error> {
    let (connectors, objects) = columns(objects);
    let rows: Vec<QueueRow> = sqlx::query_as(
        "select c.connector, c.object_type,
             (select count(*) from hubsync.journal j
               where j.connector = c.connector and j.object_type = c.object_type
                 and j.status in ('pending', 'processing')),
             o.id, o.received_at
         from unnest($1::text[], $2::text[]) as c (connector, object_type)
         left join lateral (
             select id, received_at from hubsync.journal j
              where j.connector = c.connector and j.object_type = c.object_type
                and j.status in ('pending', 'processing')
              order by received_at, id limit 1) o on true",
    )
    .bind(connectors)
    .bind(objects)
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(c, o, depth, id, at)| ((c, o), Queue { depth, oldest: id.zip(at) }))
        .collect())
}

const ALL_STATUSES: &str = "array['pending', 'processing', 'applied', 'echo', 'stale', \
                            'skipped', 'conflict', 'failed', 'dead']";

/// Changes received in the last 5 minutes, per object.
async fn received_5m(pool: &PgPool) -> Result<BTreeMap<ObjectKey, i64>, sqlx::Error> {
    let sql = format!(
        "select connector, object_type, count(*) from hubsync.journal
          where status = any({ALL_STATUSES}) and received_at > now() - interval '5 minutes'
          group by 1, 2"
    );
    let rows: Vec<(String, String, i64)> = sqlx::query_as(&sql).fetch_all(pool).await?;
    Ok(rows.into_iter().map(|(c, o, n)| ((c, o), n)).collect())
}

async fn journal_failures(
    pool: &PgPool,
) -> Result<BTreeMap<ObjectKey, BTreeMap<String, i64>>, sqlx::Error> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "select connector, object_type, coalesce(error_kind, 'unknown'), count(*)
           from hubsync.journal where status in ('failed', 'dead') group by 1, 2, 3",
    )
    .fetch_all(pool)
    .await?;
    let mut map: BTreeMap<ObjectKey, BTreeMap<String, i64>> = BTreeMap::new();
    for (connector, object, kind, count) in rows {
        map.entry((connector, object)).or_default().insert(kind, count);
    }
    Ok(map)
}

/// Outbox depth, last 5 minutes' outcomes and failures by kind, per sync block.
async fn outbox(pool: &PgPool) -> Result<BTreeMap<String, OutboxFacts>, sqlx::Error> {
    let rows: Vec<(String, String, String, i64)> = sqlx::query_as(
        "select sync_name, 'depth', '', count(*) from hubsync.outbox
          where status in ('pending', 'processing') group by 1
         union all
         select sync_name, case when status = 'done' then 'done' else 'failed' end, '', count(*)
           from hubsync.outbox
          where status in ('done', 'failed', 'dead') and updated_at > now() - interval '5 minutes'
          group by 1, 2
         union all
         select sync_name, 'kind', coalesce(error_kind, 'unknown'), count(*) from hubsync.outbox
          where status in ('failed', 'dead') group by 1, 3",
    )
    .fetch_all(pool)
    .await?;
    let mut map: BTreeMap<String, OutboxFacts> = BTreeMap::new();
    for (sync, what, kind, count) in rows {
        let facts = map.entry(sync).or_default();
        match what.as_str() {
            "depth" => facts.depth = count,
            "done" => facts.done_5m += count,
            "failed" => facts.failed_5m += count,
            _ => *facts.failures.entry(kind).or_default() += count,
        }
    }
    Ok(map)
}

async fn budgets(pool: &PgPool) -> Result<BTreeMap<String, BudgetRow>, sqlx::Error> {
    #[derive(sqlx::FromRow)]
    struct Named {
        connector: String,
        #[sqlx(flatten)]
        row: BudgetRow,
    }
    let rows: Vec<Named> = sqlx::query_as(
        "select connector, requests_per_second, daily_remaining, paused_until, updated_at
           from hubsync.connector_budget",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().map(|named| (named.connector, named.row)).collect())
}

type RawCursor = (String, String, String, DateTime<Utc>, String, DateTime<Utc>);

async fn cursors(pool: &PgPool) -> Result<BTreeMap<ObjectKey, Vec<CursorRow>>, sqlx::Error> {
    let rows: Vec<RawCursor> = sqlx::query_as(
        "select connector, object_type, stream, position_ts, position_id, updated_at
           from hubsync.cursors order by connector, object_type, stream",
    )
    .fetch_all(pool)
    .await?;
    let mut map: BTreeMap<ObjectKey, Vec<CursorRow>> = BTreeMap::new();
    for (connector, object, stream, position_ts, position_id, updated_at) in rows {
        let cursor = CursorRow { stream, position_ts, position_id, updated_at };
        map.entry((connector, object)).or_default().push(cursor);
    }
    Ok(map)
}

/// Objects whose poller's advisory lock (see `db::lock`) some session holds now.
async fn live(pool: &PgPool, objects: &[ObjectKey]) -> Result<BTreeSet<ObjectKey>, sqlx::Error> {
    let (connectors, objects) = columns(objects);
    let rows: Vec<(String, String)> = sqlx::query_as(
        "select c.connector, c.object_type
           from unnest($1::text[], $2::text[]) as c (connector, object_type)
          where exists (
              select 1 from pg_locks l
               where l.locktype = 'advisory' and l.granted and l.objsubid = 1
                 and l.database = (select oid from pg_database where datname = current_database())
                 and ((l.classid::int8 << 32) | l.objid::int8)
                     = hashtext('hubsync-poller:' || c.connector || ':' || c.object_type)::int8)",
    )
    .bind(connectors)
    .bind(objects)
    .fetch_all(pool)
    .await?;
    Ok(rows.into_iter().collect())
}

async fn paused(pool: &PgPool) -> Result<BTreeMap<String, PausedRow>, sqlx::Error> {
    let rows: Vec<(String, String, Value, DateTime<Utc>, String)> = sqlx::query_as(
        "select sync_name, reason, detail, paused_at, paused_by from hubsync.paused",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows
        .into_iter()
        .map(|(sync, reason, detail, paused_at, paused_by)| {
            (sync, PausedRow { reason, detail, paused_at, paused_by })
        })
        .collect())
}
