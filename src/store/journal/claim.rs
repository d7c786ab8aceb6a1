//! Claiming pending rows with a lease, in per-record order, and settling them.

use std::time::Duration;

use sqlx::{Acquire, Connection, FromRow, PgConnection, PgExecutor, PgPool, Postgres, Row};

use super::row::{ROW_COLUMNS, RawRow, convert};
use crate::error_kind::{ErrorKind, Retry};
use crate::journal::{Completion, JournalError, JournalRow, Status};

/// Claims up to `limit` rows for `worker`. A row is claimable when it is pending and due,
/// or its lease expired, and no earlier change of the same record is still unsettled, so
/// each record's changes are processed in source order.
pub async fn claim(
    pool: &PgPool,
    worker: &str,
    limit: i64,
    lease: Duration,
) -> Result<Vec<JournalRow>, JournalError> {
    Ok(claim_within(pool, worker, limit, lease, u32::MAX).await?.rows)
}

/// What a claim took: the rows to process, and how many of them (or of the rows it
/// dead-lettered instead) it rescued from a holder whose lease had run out.
#[derive(Debug, Default)]
pub struct Claim {
    pub rows: Vec<JournalRow>,
    /// Rows whose holder died or stalled (a crash, a panic mid-batch): claimed again.
    pub rescued: usize,
    /// Rescued rows past `max_attempts`, dead-lettered as `lease_expired_max_attempts`
    /// instead of being handed out again.
    pub dead: usize,
}

/// [`claim`], dead-lettering instead of claiming a rescued row whose claims have already
/// spent `max_attempts`: a row that kills its worker is not retried forever.
pub async fn claim_within(
    pool: &PgPool,
    worker: &str,
    limit: i64,
    lease: Duration,
    max_attempts: u32,
) -> Result<Claim, JournalError> {
    let mut tx = walk_in_order(pool).await?;
    let claimed = claim_rows(&mut tx, worker, limit, lease, max_attempts).await?;
    tx.commit().await?;
    Ok(claimed)
}

/// [`claim`] on a connection the caller controls: inside the caller's transaction the
/// leases commit or roll back with it. It runs in a savepoint (or a transaction of its own
/// on a connection outside one) and leaves the planner settings as it found them.
pub async fn claim_in(
    conn: &mut PgConnection,
    worker: &str,
    limit: i64,
    lease: Duration,
) -> Result<Vec<JournalRow>, JournalError> {
    let mut tx = Connection::begin(conn).await?;
    let (sort, jit): (String, String) = sqlx::query_as(
        "with before as materialized
             (select current_setting('enable_sort') as sort, current_setting('jit') as jit)
         select sort, jit, set_config('enable_sort', 'off', true), set_config('jit', 'off', true)
         from before",
    )
    .fetch_one(&mut *tx)
    .await
    .map(|(sort, jit, _, _): (String, String, String, String)| (sort, jit))?;
    let claimed = claim_rows(&mut tx, worker, limit, lease, u32::MAX).await?;
    sqlx::query("select set_config('enable_sort', $1, true), set_config('jit', $2, true)")
        .bind(sort)
        .bind(jit)
        .execute(&mut *tx)
        .await?;
    tx.commit().await?;
    Ok(claimed.rows)
}

/// The claim itself, in per-record order, on a connection in a transaction; rescued rows
/// past `max_attempts` are dead-lettered in the same transaction.
async fn claim_rows(
    conn: &mut PgConnection,
    worker: &str,
    limit: i64,
    lease: Duration,
    max_attempts: u32,
) -> Result<Claim, JournalError> {
    let sql = format!("{CLAIM_SQL} returning {ROW_COLUMNS}, due.rescued");
    let found = sqlx::query(&sql)
        .bind(worker)
        .bind(limit)
        .bind(lease.as_secs_f64())
        .fetch_all(&mut *conn)
        .await?;
    let mut raw = Vec::with_capacity(found.len());
    let mut rescued = Vec::new();
    for row in &found {
        if row.try_get::<bool, _>("rescued")? {
            rescued.push(row.try_get::<i64, _>("id")?);
        }
        raw.push(RawRow::from_row(row)?);
    }
    let limit = i32::try_from(max_attempts).unwrap_or(i32::MAX);
    let (dead, mut rows): (Vec<JournalRow>, Vec<JournalRow>) = convert(raw)?
        .into_iter()
        .partition(|row| row.attempts > limit && rescued.contains(&row.id));
    let ids: Vec<i64> = dead.iter().map(|row| row.id).collect();
    dead_letter(&mut *conn, worker, &ids, max_attempts).await?;
    rows.sort_by_key(|row| (row.occurred_at, row.id));
    Ok(Claim { rows, rescued: rescued.len(), dead: ids.len() })
}

/// Dead-letters rows `worker` just rescued past their maximum attempts.
async fn dead_letter(
    conn: &mut PgConnection,
    worker: &str,
    ids: &[i64],
    max_attempts: u32,
) -> Result<(), JournalError> {
    if ids.is_empty() {
        return Ok(());
    }
    let message = format!(
        "its processing never finished (the worker died or panicked) in {max_attempts} attempts"
    );
    sqlx::query(
        "with dead as (
             update hubsync.journal set status = 'dead', reason = 'lease_expired_max_attempts',
                 error_kind = 'needs_operator', last_error = $3, claimed_by = null,
                 lease_until = null, updated_at = now()
             where id = any($1) and claimed_by = $2
             returning id, attempts)
         insert into hubsync.journal_attempts
             (journal_id, attempt, worker, outcome, error_kind, message)
         select id, attempts, $2, 'lease_expired_max_attempts', 'needs_operator', $3 from dead",
    )
    .bind(ids)
    .bind(worker)
    .bind(message)
    .execute(conn)
    .await?;
    Ok(())
}

/// The due rows in due order, each kept only when no earlier change of its record is still
/// unsettled: one probe of the per-record index per candidate, so a claim costs the same
/// whether ten or a hundred thousand rows are queued. `id = any(array(…))` makes the update
/// find its rows by primary key; `id in (…)` is planned as a scan of the whole journal.
/// A claim writes only the lease (`claimed_by`, `lease_until`), no indexed column, so
/// Postgres updates the row in place without touching the journal's indexes. A due row that
/// still carries a lease is rescued: its holder died or stalled, and its lease ran out.
const CLAIM_SQL: &str = "
with due as materialized (
    select j.id as due_id, j.lease_until is not null as rescued from hubsync.journal j
    where j.status = 'pending' and j.next_attempt_at <= now()
      and (j.lease_until is null or j.lease_until < now())
      and not exists (
          select 1 from hubsync.journal e
          where e.status in ('pending', 'processing')
            and e.connector = j.connector and e.object_type = j.object_type
            and e.record_id = j.record_id
            and (e.occurred_at, e.id) < (j.occurred_at, j.id))
    order by j.next_attempt_at, j.id
    limit $2
    for update skip locked)
update hubsync.journal set claimed_by = $1,
    lease_until = now() + make_interval(secs => $3), attempts = attempts + 1, updated_at = now()
from due
where id = any(array(select due_id from due)) and id = due.due_id";

/// A transaction in which a claim walks its queue's partial index in claim order. Planned
/// on statistics older than the queue (a burst, a young database), Postgres would rather
/// collect every queued row through some other index and sort them, a cost that grows with
/// the queue and with every stale index entry that no vacuum has removed yet; with sorting
/// ruled out, the walk in order stops after `limit` rows. (Ruling it out adds a huge cost to
/// the plan's estimate, which would have Postgres compile the claim with JIT each time: off.)
pub async fn walk_in_order(pool: &PgPool) -> sqlx::Result<sqlx::Transaction<'static, Postgres>> {
    let mut tx = pool.begin().await?;
    sqlx::query("select set_config('enable_sort', 'off', true), set_config('jit', 'off', true)")
        .execute(&mut *tx)
        .await?;
    Ok(tx)
}

/// Settles a row this worker holds. Returns false if the lease was lost meanwhile, in
/// which case another worker owns the row and this result must be discarded.
pub async fn complete<'e>(
    executor: impl PgExecutor<'e>,
    worker: &str,
    id: i64,
    outcome: Completion,
    reason: &str,
) -> Result<bool, JournalError> {
    let done = sqlx::query(
        "with settled as (
             update hubsync.journal set status = $3, reason = $4, claimed_by = null,
                 lease_until = null, error_kind = null, last_error = null, updated_at = now()
             where id = $1 and claimed_by = $2 and status = 'pending'
             returning id, attempts)
         insert into hubsync.journal_attempts (journal_id, attempt, worker, outcome, message)
         select id, attempts, $2, $3, $4 from settled",
    )
    .bind(id)
    .bind(worker)
    .bind(outcome.status().as_str())
    .bind(reason)
    .execute(executor)
    .await?;
    Ok(done.rows_affected() == 1)
}

/// Records a failure of a row this worker holds: transient and rate-limited failures go
/// back to pending after a backoff; permanent ones are `failed` for an operator; a row
/// out of attempts is `dead`. Returns the status it now has, or None if the lease was lost.
pub async fn fail<'e>(
    executor: impl PgExecutor<'e>,
    worker: &str,
    row: &JournalRow,
    kind: ErrorKind,
    message: &str,
    max_attempts: u32,
) -> Result<Option<Status>, JournalError> {
    let attempt = u32::try_from(row.attempts).unwrap_or(u32::MAX);
    let (status, delay, reason) = match kind.retry(attempt, None) {
        Retry::After(_) if attempt >= max_attempts => {
            (Status::Dead, Duration::ZERO, "out_of_attempts")
        }
        Retry::After(delay) => (Status::Pending, delay, "retry_scheduled"),
        Retry::Never => (Status::Failed, Duration::ZERO, "needs_operator"),
    };
    let done = sqlx::query(
        "with failed as (
             update hubsync.journal set status = $3, error_kind = $4, last_error = $5,
                 reason = $6, next_attempt_at = now() + make_interval(secs => $7),
                 claimed_by = null, lease_until = null, updated_at = now()
             where id = $1 and claimed_by = $2 and status = 'pending'
             returning id, attempts)
         insert into hubsync.journal_attempts
             (journal_id, attempt, worker, outcome, error_kind, message)
         select id, attempts, $2, $6, $4, $5 from failed",
    )
    .bind(row.id)
    .bind(worker)
    .bind(status.as_str())
    .bind(kind.as_str())
    .bind(message)
    .bind(reason)
    .bind(delay.as_secs_f64())
    .execute(executor)
    .await?;
    Ok((done.rows_affected() == 1).then_some(status))
}

/// Settles many rows this worker holds in one statement: `(id, outcome, reason)`. Rows
/// whose lease was lost are left alone. Returns how many were settled.
pub async fn complete_many<'e>(
    executor: impl PgExecutor<'e>,
    worker: &str,
    settled: &[(i64, Completion, &str)],
) -> Result<u64, JournalError> {
    if settled.is_empty() {
        return Ok(0);
    }
    let ids: Vec<i64> = settled.iter().map(|(id, ..)| *id).collect();
    let statuses: Vec<&str> = settled.iter().map(|(_, c, _)| c.status().as_str()).collect();
    let reasons: Vec<&str> = settled.iter().map(|(.., reason)| *reason).collect();
    let done = sqlx::query(
        "with settled as (
             update hubsync.journal j set status = u.status, reason = u.reason,
                 claimed_by = null, lease_until = null, error_kind = null, last_error = null,
                 updated_at = now()
             from unnest($1::bigint[], $2::text[], $3::text[]) as u(id, status, reason)
             -- by primary key however stale the statistics; a row this worker holds is
             -- pending (every settle clears `claimed_by`), and a `status` test here would
             -- let Postgres scan a status index instead, stale entries and all
             where j.id = any(array(select unnest($1::bigint[]))) and j.id = u.id
               and j.claimed_by = $4
             returning j.id, j.attempts, j.status, j.reason)
         insert into hubsync.journal_attempts (journal_id, attempt, worker, outcome, message)
         select id, attempts, $4, status, reason from settled",
    )
    // planned afresh for each batch: a cached generic plan guesses the arrays hold a few
    // rows and joins them by a nested loop, which costs the square of the batch
    .persistent(false)
    .bind(ids)
    .bind(statuses)
    .bind(reasons)
    .bind(worker)
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Hands rows back unprocessed, due again after `delay`, without spending an attempt: the
/// record is waiting for something else (a write in flight) to settle first.
pub async fn release<'e>(
    executor: impl PgExecutor<'e>,
    worker: &str,
    ids: &[i64],
    delay: Duration,
    reason: &str,
) -> Result<u64, JournalError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "update hubsync.journal set status = 'pending', reason = $3,
             attempts = greatest(attempts - 1, 0), claimed_by = null, lease_until = null,
             next_attempt_at = now() + make_interval(secs => $4), updated_at = now()
         -- by primary key; held by this worker means pending (see `complete_many`)
         where id = any(array(select unnest($1::bigint[]))) and claimed_by = $2",
    )
    .bind(ids)
    .bind(worker)
    .bind(reason)
    .bind(delay.as_secs_f64())
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Hands rows back after a failure that was not theirs (a database or API outage, a
/// revoked credential), due again after `delay`, without spending an attempt: the failure
/// is recorded (`error_kind`, `last_error`, `reason`) so an operator sees why they wait.
pub async fn postpone<'e>(
    executor: impl PgExecutor<'e>,
    worker: &str,
    ids: &[i64],
    delay: Duration,
    kind: ErrorKind,
    message: &str,
    reason: &str,
) -> Result<u64, JournalError> {
    if ids.is_empty() {
        return Ok(0);
    }
    let done = sqlx::query(
        "update hubsync.journal set status = 'pending', reason = $3, error_kind = $4,
             last_error = $5, attempts = greatest(attempts - 1, 0), claimed_by = null,
             lease_until = null, next_attempt_at = now() + make_interval(secs => $6),
             updated_at = now()
         -- by primary key; held by this worker means pending (see `complete_many`)
         where id = any(array(select unnest($1::bigint[]))) and claimed_by = $2",
    )
    .bind(ids)
    .bind(worker)
    .bind(reason)
    .bind(kind.as_str())
    .bind(message)
    .bind(delay.as_secs_f64())
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}

/// Claims, behind rows this worker already holds, the later pending upserts of the same
/// records, so a burst of changes to one record (a webhook per property) is decided once.
/// An upsert queued behind a pending delete, merge or restore is left for later. On a pool,
/// or on a connection or transaction the caller controls.
pub async fn claim_followers<'a>(
    db: impl Acquire<'a, Database = Postgres>,
    worker: &str,
    leaders: &[JournalRow],
    lease: Duration,
) -> Result<Vec<JournalRow>, JournalError> {
    let mut conn = db.acquire().await?;
    let connectors: Vec<&str> = leaders.iter().map(|r| r.connector.as_str()).collect();
    let objects: Vec<&str> = leaders.iter().map(|r| r.object_type.as_str()).collect();
    let records: Vec<&str> = leaders.iter().map(|r| r.record_id.as_str()).collect();
    // the unsettled rows of the leaders' records, in order: one probe of the per-record
    // index for each leader, whatever the statistics say. Matching the keys against every
    // unsettled row instead costs as much as the queue is long, and while a backfill or a
    // burst is queued that is thousands of rows for each batch.
    let queued: Vec<(i64, String, String, String, String)> = sqlx::query_as(
        "select j.id, j.connector, j.object_type, j.record_id, j.kind
         from unnest($1::text[], $2::text[], $3::text[]) as l (connector, object_type, record_id)
         cross join lateral (
             select id, connector, object_type, record_id, kind, occurred_at
             from hubsync.journal
             where status in ('pending', 'processing') and connector = l.connector
               and object_type = l.object_type and record_id = l.record_id) j
         order by j.connector, j.object_type, j.record_id, j.occurred_at, j.id",
    )
    .bind(connectors)
    .bind(objects)
    .bind(records)
    .fetch_all(&mut *conn)
    .await?;
    let held: std::collections::HashSet<i64> = leaders.iter().map(|r| r.id).collect();
    let mut blocked: std::collections::HashSet<(String, String, String)> = Default::default();
    let mut wanted: Vec<i64> = Vec::new();
    for (id, connector, object_type, record_id, kind) in queued {
        let record = (connector, object_type, record_id);
        if held.contains(&id) || blocked.contains(&record) {
            continue;
        }
        if kind == "upsert" {
            wanted.push(id);
        } else {
            blocked.insert(record);
        }
    }
    if wanted.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "update hubsync.journal set claimed_by = $1,
             lease_until = now() + make_interval(secs => $2), attempts = attempts + 1,
             updated_at = now()
         where id = any(array(
             select id from hubsync.journal where id = any($3) and status = 'pending'
               and (lease_until is null or lease_until < now())
             for update skip locked))
         returning {ROW_COLUMNS}"
    );
    let rows: Vec<RawRow> = sqlx::query_as(&sql)
        .bind(worker)
        .bind(lease.as_secs_f64())
        .bind(&wanted)
        .fetch_all(&mut *conn)
        .await?;
    let mut rows = convert(rows)?;
    rows.sort_by_key(|row| (row.occurred_at, row.id));
    Ok(rows)
}

/// Fails a settled row whose write failed (`failed` or `dead`), recording the attempt with
/// `what` failed; a row back in the queue is left alone.
pub async fn write_failed(
    tx: &mut PgConnection,
    journal_id: i64,
    status: &str,
    kind: ErrorKind,
    what: &str,
    worker: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "with failed as (
             update hubsync.journal set status = $2, error_kind = $3, last_error = $4,
                 reason = 'write_failed', updated_at = now()
             where id = $1 and status not in ('pending', 'processing')
             returning id, attempts)
         insert into hubsync.journal_attempts (journal_id, attempt, worker, outcome, error_kind, message)
         select id, attempts, $5, 'write_failed', $3, $4 from failed",
    )
    .bind(journal_id)
    .bind(status)
    .bind(kind.as_str())
    .bind(what)
    .bind(worker)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Dead-letters the journal rows of writes that were rescued past their maximum attempts:
/// `lease_expired_max_attempts`, with `message`.
pub async fn write_lease_expired(
    tx: &mut PgConnection,
    journal_ids: &[i64],
    worker: &str,
    message: &str,
) -> Result<(), sqlx::Error> {
    if journal_ids.is_empty() {
        return Ok(());
    }
    sqlx::query(
        "with dead as (
             update hubsync.journal set status = 'dead', error_kind = 'needs_operator',
                 last_error = $2, reason = 'lease_expired_max_attempts', updated_at = now()
             where id = any($1) and status not in ('pending', 'processing')
             returning id, attempts)
         insert into hubsync.journal_attempts
             (journal_id, attempt, worker, outcome, error_kind, message)
         select id, attempts, $3, 'lease_expired_max_attempts', 'needs_operator', $2 from dead",
    )
    .bind(journal_ids)
    .bind(message)
    .bind(worker)
    .execute(&mut *tx)
    .await?;
    Ok(())
}
