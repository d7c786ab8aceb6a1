//! What the demo reads as it runs and when it checks the result: a progress summary, new
//! conflicts, failures and pauses, and per block the links and the records put aside.

use sqlx::PgPool;

const PROGRESS: &str = "
select
  (select count(*) from hubsync.outbox where status = 'done' and target_side = 'hubspot'),
  (select count(*) from hubsync.outbox where status = 'done' and target_side = 'external'),
  (select count(*) from hubsync.outbox where status in ('pending', 'processing')),
  (select count(*) from hubsync.outbox o
     where o.status in ('pending', 'processing') and o.operation = 'associate'
       and exists (select 1 from hubsync.outbox d
                   where d.status in ('failed', 'dead') and d.target_side = o.target_side
                     and ((d.sync_name, d.source_id) = (o.sync_name, o.source_id)
                          or (d.sync_name, d.source_id)
                             = (o.properties ->> 'to_sync', o.properties ->> 'to_source_id')))),
  (select count(*) from hubsync.links),
  (select count(*) from hubsync.conflicts),
  (select count(*) from hubsync.conflicts where status = 'open'),
  (select count(*) from (
     select coalesce(journal_id, -id) from hubsync.outbox where status in ('failed', 'dead')
     union
     select id from hubsync.journal where status in ('failed', 'dead')) failed),
  (select count(*) from hubsync.journal where status in ('pending', 'processing')),
  (select extract(epoch from now() - min(received_at))::float8
     from hubsync.journal where status in ('pending', 'processing'))";

/// `(to HubSpot, to external, waiting, blocked, links, conflicts, held, failures, pending,
/// lag seconds)`.
pub type ProgressRow = (i64, i64, i64, i64, i64, i64, i64, i64, i64, Option<f64>);

/// Reads the progress summary's figures.
pub async fn progress(pool: &PgPool) -> sqlx::Result<ProgressRow> {
    sqlx::query_as(PROGRESS).fetch_one(pool).await
}

pub type ConflictRow =
    (i64, String, String, String, Option<String>, Option<String>, String, Option<String>, String);

const NEW_CONFLICTS: &str = "
select id, sync_name, hubspot_field, external_field, hubspot_value, external_value, policy,
       winner, status
from hubsync.conflicts where id > $1 order by id limit 200";

pub type OutboxFailure =
    (i64, String, String, String, Option<String>, Option<String>, Option<i64>, Option<String>);

const OUTBOX_FAILURES: &str = "
select id, sync_name, target_side, object_type, source_id, target_id, journal_id, last_error
from hubsync.outbox where status in ('failed', 'dead') order by id limit 500";

pub type JournalFailure = (i64, String, String, String, Option<String>, Option<String>);

const JOURNAL_FAILURES: &str = "
select id, side, object_type, record_id, last_error, reason
from hubsync.journal where status in ('failed', 'dead') order by id limit 500";

/// Conflicts recorded after id `last`, oldest first.
pub async fn conflicts_after(pool: &PgPool, last: i64) -> sqlx::Result<Vec<ConflictRow>> {
    sqlx::query_as(NEW_CONFLICTS).bind(last).fetch_all(pool).await
}

/// Every paused block: `(sync_name, reason, detail as text)`.
pub async fn paused(pool: &PgPool) -> sqlx::Result<Vec<(String, String, String)>> {
    sqlx::query_as("select sync_name, reason, detail::text from hubsync.paused order by 1")
        .fetch_all(pool)
        .await
}

/// Failed and dead outbox items.
pub async fn outbox_failures(pool: &PgPool) -> sqlx::Result<Vec<OutboxFailure>> {
    sqlx::query_as(OUTBOX_FAILURES).fetch_all(pool).await
}

/// Failed and dead journal rows.
pub async fn journal_failures(pool: &PgPool) -> sqlx::Result<Vec<JournalFailure>> {
    sqlx::query_as(JOURNAL_FAILURES).fetch_all(pool).await
}

const HELD: &str = "select link_id, hubspot_field, hubspot_id, external_id from hubsync.conflicts
                    where sync_name = $1 and status = 'open'";
const FAILED_WRITES: &str = "select source_id, target_id from hubsync.outbox
                             where sync_name = $1 and status in ('failed', 'dead', 'held')";
const PUT_ASIDE: &str = "select record_id from hubsync.journal
    where ((side = 'hubspot' and object_type = $1) or (side = 'external' and object_type = $2))
      and (status in ('failed', 'dead', 'conflict')
           or reason in ('out_of_scope', 'conflict_held', 'delete_flagged'))";

pub type HeldRow = (Option<i64>, String, Option<String>, Option<String>);

/// Block `sync`'s links: `(id, hubspot_id, external_id)`.
pub async fn links(pool: &PgPool, sync: &str) -> sqlx::Result<Vec<(i64, String, String)>> {
    sqlx::query_as("select id, hubspot_id, external_id from hubsync.links where sync_name = $1")
        .bind(sync)
        .fetch_all(pool)
        .await
}

/// Block `sync`'s conflicts held for an operator.
pub async fn held(pool: &PgPool, sync: &str) -> sqlx::Result<Vec<HeldRow>> {
    sqlx::query_as(HELD).bind(sync).fetch_all(pool).await
}

/// `(source_id, target_id)` of block `sync`'s failed, dead and held writes.
pub async fn failed_writes(
    pool: &PgPool,
    sync: &str,
) -> sqlx::Result<Vec<(Option<String>, Option<String>)>> {
    sqlx::query_as(FAILED_WRITES).bind(sync).fetch_all(pool).await
}

/// Records of the block's objects that failed, conflicted, or the rules put aside.
pub async fn put_aside(
    pool: &PgPool,
    hubspot_object: &str,
    external_object: &str,
) -> sqlx::Result<Vec<(String,)>> {
    sqlx::query_as(PUT_ASIDE).bind(hubspot_object).bind(external_object).fetch_all(pool).await
}
