//! The `journal` and `journal_attempts` tables: appends, claims with leases, settling,
//! operator queries and actions, retention, and the NOTIFY that wakes other replicas.

mod claim;
mod forget;
mod intake;
mod operate;
mod query;
pub mod retention;
mod row;

pub use claim::{
    Claim, claim, claim_followers, claim_in, claim_within, complete, complete_many, fail, postpone,
    release, walk_in_order, write_failed, write_lease_expired,
};
pub use forget::forget_values;
pub use intake::{journalled, known, last_deleted, queued};
pub use operate::{OperatorAction, REQUEUEABLE, SKIPPABLE, act, requeue, skip};
pub use query::{Attempt, JournalFilter, attempts, query};
pub(crate) use row::leased;

use sqlx::PgExecutor;

use crate::journal::{ChangeKind, Completion, JournalError, NewChange};

/// Sends a NOTIFY on `channel` (the journal's or the outbox's), waking other replicas'
/// listeners.
pub async fn notify<'e>(executor: impl PgExecutor<'e>, channel: &str) -> sqlx::Result<()> {
    sqlx::query("select pg_notify($1, '')").bind(channel).execute(executor).await?;
    Ok(())
}

/// Why the journal cannot hold `change` as it is, if it cannot: Postgres `text` and `jsonb`
/// cannot store a NUL character (`\u0000`), and one such value would fail the whole
/// statement. Callers quarantine such a change instead of appending it.
pub fn unstorable(change: &NewChange) -> Option<String> {
    const WHY: &str = "holds a NUL character (\\u0000), which Postgres text and jsonb cannot store";
    let nul = |text: &str| text.contains('\0');
    if nul(&change.record_id) {
        return Some(format!("the record id {WHY}"));
    }
    if let ChangeKind::Merge { into } = &change.kind
        && nul(into)
    {
        return Some(format!("the surviving record's id {WHY}"));
    }
    change.properties.iter().find_map(|(name, property)| {
        if nul(name) {
            Some(format!("a property name {WHY}"))
        } else if property.value.as_deref().is_some_and(nul) {
            Some(format!("property `{name}` {WHY}"))
        } else {
            None
        }
    })
}

/// Appends changes in one multi-row statement, skipping any whose dedup key is already
/// journalled. Returns how many rows were new. Run it inside the transaction that also moves
/// the poll cursor, or before answering a webhook; ring the
/// [`Doorbell`](crate::journal::Doorbell) after commit.
pub async fn append<'e>(
    executor: impl PgExecutor<'e>,
    changes: &[NewChange],
) -> Result<u64, JournalError> {
    append_settled(executor, changes, &vec![None; changes.len()]).await
}

/// [`append`], with some changes settled as they are journalled: `settled[i]` is the
/// outcome and reason of `changes[i]`, or `None` for a row the reconciler will claim. A
/// settled row is never claimed and spends no attempt.
pub async fn append_settled<'e>(
    executor: impl PgExecutor<'e>,
    changes: &[NewChange],
    settled: &[Option<(Completion, &str)>],
) -> Result<u64, JournalError> {
    if changes.is_empty() {
        return Ok(0);
    }
    assert_eq!(changes.len(), settled.len(), "one outcome per change");
    let columns = row::Columns::from(changes);
    let status: Vec<&str> =
        settled.iter().map(|s| s.map_or("pending", |(c, _)| c.status().as_str())).collect();
    let reason: Vec<Option<&str>> = settled.iter().map(|s| s.map(|(_, r)| r)).collect();
    let inserted = sqlx::query(APPEND_SQL)
        .bind(&columns.side)
        .bind(&columns.connector)
        .bind(&columns.object_type)
        .bind(&columns.record_id)
        .bind(&columns.kind)
        .bind(&columns.merged_into)
        .bind(&columns.properties)
        .bind(&columns.occurred_at)
        .bind(&columns.source)
        .bind(&columns.dedup_key)
        .bind(&status)
        .bind(&reason)
        .fetch_one(executor)
        .await?;
    Ok(sqlx::Row::get::<i64, _>(&inserted, 0) as u64)
}

/// Inserts the unnested columns and counts the new rows. It does not NOTIFY: the notify
/// queue's commit lock would serialize every concurrent append (a third of the throughput).
const APPEND_SQL: &str = "
with inserted as (
    insert into hubsync.journal
        (side, connector, object_type, record_id, kind, merged_into, properties,
         occurred_at, source, dedup_key, status, reason)
    select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
                         $6::text[], $7::jsonb[], $8::timestamptz[], $9::text[], $10::text[],
                         $11::text[], $12::text[])
    on conflict (dedup_key) do nothing
    returning 1
), counted as (select count(*) as n from inserted)
select n from counted";
