//! The `cursors` table: poll cursors, a (timestamp, id) position per connector, object and
//! stream that only moves forward, committed in the same transaction as the page it read;
//! and the backfill checkpoints kept in the same table (stream `backfill`).

use chrono::{DateTime, Utc};
use sqlx::PgExecutor;

/// A position in a source's change order: everything at or before it has been journalled.
/// Ids compare by length first, then text, so numeric ids (HubSpot) order numerically and
/// fixed-length ids (Salesforce) order as text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Cursor {
    pub timestamp: DateTime<Utc>,
    pub id: String,
    /// The connector's own paging state at this position, opaque here.
    pub token: Option<String>,
}

impl Cursor {
    /// The start of time: a poller from here is a full backfill.
    pub fn origin() -> Cursor {
        Cursor { timestamp: DateTime::<Utc>::UNIX_EPOCH, id: String::new(), token: None }
    }
}

impl PartialOrd for Cursor {
    fn partial_cmp(&self, other: &Self) -> Option<std::cmp::Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Cursor {
    fn cmp(&self, other: &Self) -> std::cmp::Ordering {
        let key = |c: &Cursor| (c.timestamp, c.id.len(), c.id.clone());
        key(self).cmp(&key(other))
    }
}

/// Names one cursor: the connector, the object type and the stream (`changes`, `archived`,
/// `deleted`, `backfill`).
#[derive(Debug, Clone, Copy)]
pub struct CursorKey<'a> {
    pub connector: &'a str,
    pub object_type: &'a str,
    pub stream: &'a str,
}

/// The stored position, or the origin if this cursor has never moved.
pub async fn load<'e>(executor: impl PgExecutor<'e>, key: CursorKey<'_>) -> sqlx::Result<Cursor> {
    let row: Option<(DateTime<Utc>, String, Option<String>)> = sqlx::query_as(
        "select position_ts, position_id, token from hubsync.cursors
         where connector = $1 and object_type = $2 and stream = $3",
    )
    .bind(key.connector)
    .bind(key.object_type)
    .bind(key.stream)
    .fetch_optional(executor)
    .await?;
    Ok(row.map_or_else(Cursor::origin, |(timestamp, id, token)| Cursor { timestamp, id, token }))
}

/// Moves the cursor to `to` unless it already stands further; returns where it stands. At
/// the same position only the token is updated.
pub async fn advance<'e>(
    executor: impl PgExecutor<'e>,
    key: CursorKey<'_>,
    to: &Cursor,
) -> sqlx::Result<Cursor> {
    let (timestamp, id, token): (DateTime<Utc>, String, Option<String>) =
        sqlx::query_as(ADVANCE_SQL)
            .bind(key.connector)
            .bind(key.object_type)
            .bind(key.stream)
            .bind(to.timestamp)
            .bind(&to.id)
            .bind(&to.token)
            .fetch_one(executor)
            .await?;
    Ok(Cursor { timestamp, id, token })
}

/// Upserts only a forward move; when the stored cursor is ahead, the update does nothing
/// and the stored position is returned instead.
const ADVANCE_SQL: &str = "
with moved as (
    insert into hubsync.cursors as c
        (connector, object_type, stream, position_ts, position_id, token)
    values ($1, $2, $3, $4, $5, $6)
    on conflict (connector, object_type, stream) do update
        set position_ts = excluded.position_ts, position_id = excluded.position_id,
            token = excluded.token, updated_at = now()
        where (c.position_ts, length(c.position_id), c.position_id)
            <= (excluded.position_ts, length(excluded.position_id), excluded.position_id)
    returning position_ts, position_id, token)
select position_ts, position_id, token from moved
union all
select position_ts, position_id, token from hubsync.cursors
where connector = $1 and object_type = $2 and stream = $3 and not exists (select 1 from moved)";

/// A backfill's checkpoint as stored: its state (`running` or `complete`) and the page token
/// to resume with, if it has started.
pub async fn backfill_checkpoint<'e>(
    executor: impl PgExecutor<'e>,
    connector: &str,
    object_type: &str,
) -> sqlx::Result<Option<(String, Option<String>)>> {
    sqlx::query_as(
        "select position_id, token from hubsync.cursors
             where connector = $1 and object_type = $2 and stream = 'backfill'",
    )
    .bind(connector)
    .bind(object_type)
    .fetch_optional(executor)
    .await
}

/// Records read by a backfill's committed pages, if it has a checkpoint.
pub async fn backfill_records_read<'e>(
    executor: impl PgExecutor<'e>,
    connector: &str,
    object_type: &str,
) -> sqlx::Result<Option<i64>> {
    sqlx::query_scalar(
        "select records_read from hubsync.cursors
             where connector = $1 and object_type = $2 and stream = 'backfill'",
    )
    .bind(connector)
    .bind(object_type)
    .fetch_optional(executor)
    .await
}

/// Forgets a backfill's checkpoint.
pub async fn forget_backfill<'e>(
    executor: impl PgExecutor<'e>,
    connector: &str,
    object_type: &str,
) -> sqlx::Result<()> {
    sqlx::query(
        "delete from hubsync.cursors
             where connector = $1 and object_type = $2 and stream = 'backfill'",
    )
    .bind(connector)
    .bind(object_type)
    .execute(executor)
    .await?;
    Ok(())
}

/// Saves a backfill's checkpoint after a page: its state, the next page token, and `read`
/// more records read.
pub async fn save_backfill<'e>(
    executor: impl PgExecutor<'e>,
    connector: &str,
    object_type: &str,
    state: &str,
    next: Option<&str>,
    read: i64,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into hubsync.cursors
                 (connector, object_type, stream, position_ts, position_id, token, records_read)
             values ($1, $2, 'backfill', now(), $3, $4, $5)
             on conflict (connector, object_type, stream) do update
                 set position_ts = now(), position_id = $3, token = $4, updated_at = now(),
                     records_read = hubsync.cursors.records_read + $5",
    )
    .bind(connector)
    .bind(object_type)
    .bind(state)
    .bind(next)
    .bind(read)
    .execute(executor)
    .await?;
    Ok(())
}
