//! The `outbox` table: write intents the reconciler queues and the writer claims, sends and
//! settles. An item carries everything it needs to settle itself: the record it came from,
//! the key it is written by, and the record_state entries to save when it lands.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sqlx::FromRow;
use sqlx::types::Json;

use crate::config::Side;
use crate::connector::Properties;
use crate::error_kind::ErrorKind;

/// The Postgres channel rung when items are queued.
pub const CHANNEL: &str = "hubsync_outbox";

/// What the writer does with an item.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Operation {
    /// Create or update by the unique key: how records are created, so a retry cannot
    /// duplicate them.
    Upsert,
    /// Update by the target's own id.
    Update,
    Archive,
    /// Link the record to an associated one (HubSpot association, Salesforce lookup field).
    Associate,
}

impl Operation {
    pub fn as_str(self) -> &'static str {
        match self {
            Operation::Upsert => "upsert",
            Operation::Update => "update",
            Operation::Archive => "archive",
            Operation::Associate => "associate",
        }
    }

    fn parse(text: &str) -> Option<Operation> {
        [Operation::Upsert, Operation::Update, Operation::Archive, Operation::Associate]
            .into_iter()
            .find(|op| op.as_str() == text)
    }
}

/// A record_state entry to save when the write lands.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StateEntry {
    pub side: Side,
    pub field: String,
    pub value: Value,
    pub value_at: DateTime<Utc>,
    /// hubsync writes this value (an echo later); false for the source side's own value.
    pub ours: bool,
}

/// What an association item links: the associated record, by its id on the source side.
/// An item with no associated record carries a removal: the source record lost its
/// association, so the target's lookup is cleared or its association removed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct AssociationTarget {
    /// The `[[sync]]` block of the associated records.
    pub to_sync: String,
    /// The associated record on the source side; empty for a removal.
    pub to_source_id: String,
    /// The record the target was associated with, by its id on the target side: a HubSpot
    /// association that the new one replaces, or that a removal removes.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaces: Option<String>,
    /// The external lookup field that holds the associated record's id.
    pub external_field: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub hubspot_type_id: Option<u32>,
}

/// An item to queue.
#[derive(Debug, Clone, PartialEq)]
pub struct NewItem {
    pub sync_name: String,
    pub target_side: Side,
    pub connector: String,
    pub object_type: String,
    pub operation: Operation,
    /// create, update, link (filling in a newly matched pair), archive or associate: what
    /// the reconciler decided.
    pub intent: &'static str,
    pub priority: i16,
    pub target_id: Option<String>,
    pub unique_property: Option<String>,
    pub unique_value: Option<String>,
    /// The record on the other side this write comes from.
    pub source_id: String,
    /// Fields to write; for associations, the [`AssociationTarget`].
    pub properties: Properties,
    pub state: Vec<StateEntry>,
    pub journal_id: Option<i64>,
}

/// Queues items in one statement and returns their ids, in order. Associations are made to
/// depend on the unsettled writes of both their records.
pub async fn insert_many(
    tx: &mut sqlx::PgConnection,
    items: &[NewItem],
) -> Result<Vec<i64>, sqlx::Error> {
    if items.is_empty() {
        return Ok(Vec::new());
    }
    let col = |f: fn(&NewItem) -> String| items.iter().map(f).collect::<Vec<String>>();
    let opt = |f: fn(&NewItem) -> Option<String>| items.iter().map(f).collect::<Vec<_>>();
    let ids: Vec<i64> = sqlx::query_scalar(
        "insert into hubsync.outbox (sync_name, target_side, connector, object_type, operation,
             intent, priority, target_id, unique_property, unique_value, source_id, properties,
             state, journal_id)
         select * from unnest($1::text[], $2::text[], $3::text[], $4::text[], $5::text[],
             $6::text[], $7::smallint[], $8::text[], $9::text[], $10::text[], $11::text[],
             $12::jsonb[], $13::jsonb[], $14::bigint[])
         returning id",
    )
    .bind(col(|i| i.sync_name.clone()))
    .bind(col(|i| i.target_side.as_str().into()))
    .bind(col(|i| i.connector.clone()))
    .bind(col(|i| i.object_type.clone()))
    .bind(col(|i| i.operation.as_str().into()))
    .bind(col(|i| i.intent.into()))
    .bind(items.iter().map(|i| i.priority).collect::<Vec<i16>>())
    .bind(opt(|i| i.target_id.clone()))
    .bind(opt(|i| i.unique_property.clone()))
    .bind(opt(|i| i.unique_value.clone()))
    .bind(col(|i| i.source_id.clone()))
    .bind(items.iter().map(|i| Json(&i.properties)).collect::<Vec<_>>())
    .bind(items.iter().map(|i| Json(&i.state)).collect::<Vec<_>>())
    .bind(items.iter().map(|i| i.journal_id).collect::<Vec<Option<i64>>>())
    .fetch_all(&mut *tx)
    .await?;
    if !items.iter().any(|i| i.operation == Operation::Associate) {
        return Ok(ids);
    }
    sqlx::query(
        "update hubsync.outbox o set depends_on = array(
             select d.id from hubsync.outbox d
             where d.status in ('pending', 'processing') and d.operation <> 'associate'
               and d.id <> o.id
               and ((d.sync_name = o.sync_name and d.source_id = o.source_id)
                 or (d.sync_name = o.properties->>'to_sync'
                     and d.source_id = o.properties->>'to_source_id')))
         where o.id = any($1) and o.operation = 'associate'",
    )
    .bind(&ids)
    .execute(&mut *tx)
    .await?;
    Ok(ids)
}

/// A claimed item.
#[derive(Debug, Clone, PartialEq)]
pub struct OutboxItem {
    pub id: i64,
    pub sync_name: String,
    pub target_side: Side,
    pub connector: String,
    pub object_type: String,
    pub operation: Operation,
    /// create, update, link, archive or associate.
    pub intent: String,
    pub priority: i16,
    pub target_id: Option<String>,
    pub unique_property: Option<String>,
    pub unique_value: Option<String>,
    pub source_id: Option<String>,
    pub properties: Properties,
    pub state: Vec<StateEntry>,
    pub journal_id: Option<i64>,
    pub attempts: i32,
    pub created_at: DateTime<Utc>,
    /// When the change behind the item happened at its source, for the lag histogram.
    pub occurred_at: Option<DateTime<Utc>>,
    /// The claim's lease end, as the database set it: the claim's fencing token. A later
    /// claim of the item (after this one's lease ran out) sets another.
    pub lease_until: Option<DateTime<Utc>>,
}

impl OutboxItem {
    pub fn association(&self) -> Option<AssociationTarget> {
        let value = serde_json::to_value(&self.properties).ok()?;
        serde_json::from_value(value).ok()
    }
}

impl AssociationTarget {
    /// True when the source record has no associated record any more.
    pub fn is_removal(&self) -> bool {
        self.to_source_id.is_empty()
    }
}

#[derive(FromRow)]
struct RawItem {
    id: i64,
    sync_name: String,
    target_side: String,
    connector: String,
    object_type: String,
    operation: String,
    intent: String,
    priority: i16,
    target_id: Option<String>,
    unique_property: Option<String>,
    unique_value: Option<String>,
    source_id: Option<String>,
    properties: sqlx::types::Json<BTreeMap<String, Value>>,
    state: sqlx::types::Json<Vec<StateEntry>>,
    journal_id: Option<i64>,
    attempts: i32,
    created_at: DateTime<Utc>,
    occurred_at: Option<DateTime<Utc>>,
    lease_until: Option<DateTime<Utc>>,
    /// Claimed from a holder whose lease ran out.
    rescued: bool,
}

impl RawItem {
    fn convert(self) -> Option<OutboxItem> {
        Some(OutboxItem {
            id: self.id,
            sync_name: self.sync_name,
            target_side: Side::parse(&self.target_side)?,
            connector: self.connector,
            object_type: self.object_type,
            operation: Operation::parse(&self.operation)?,
            intent: self.intent,
            priority: self.priority,
            target_id: self.target_id,
            unique_property: self.unique_property,
            unique_value: self.unique_value,
            source_id: self.source_id,
            properties: self.properties.0,
            state: self.state.0,
            journal_id: self.journal_id,
            attempts: self.attempts,
            created_at: self.created_at,
            occurred_at: self.occurred_at,
            lease_until: self.lease_until,
        })
    }
}

/// What a claim took: the items to send, and how many of them (or of the items it
/// dead-lettered instead) it rescued from a holder whose lease had run out.
#[derive(Debug, Default)]
pub struct Claim {
    pub items: Vec<OutboxItem>,
    pub rescued: usize,
    /// Rescued items past the maximum attempts, dead-lettered with their journal rows as
    /// `lease_expired_max_attempts` instead of being sent again.
    pub dead: usize,
}

/// Claims up to `limit` due items for `worker`, lowest priority first, skipping paused sync
/// blocks and associations whose records still have writes in flight. An item still
/// carrying an expired lease is rescued (its holder died or stalled); one whose claims have
/// already spent `max_attempts` is dead-lettered instead, so a write that kills its worker
/// is not sent forever.
pub async fn claim(
    pool: &sqlx::PgPool,
    worker: &str,
    limit: i64,
    lease: Duration,
    max_attempts: u32,
) -> Result<Claim, sqlx::Error> {
    let mut tx = super::journal::walk_in_order(pool).await?;
    let rows: Vec<RawItem> = sqlx::query_as(
        "with due as materialized (
             select o.id as due_id, o.lease_until is not null as rescued from hubsync.outbox o
             where o.status = 'pending' and o.next_attempt_at <= now()
               and (o.lease_until is null or o.lease_until < now())
               and not exists (select 1 from hubsync.paused p where p.sync_name = o.sync_name)
               -- an item without dependencies (most) skips the lookup, which stale
               -- statistics can plan as a scan of the queue per candidate
               and (cardinality(o.depends_on) = 0 or not exists (
                   select 1 from hubsync.outbox d
                   where d.id = any(o.depends_on) and d.status in ('pending', 'processing')))
             order by o.priority, o.next_attempt_at, o.id
             limit $2
             for update skip locked),
         claimed as (
             -- only the lease is written (no indexed column): an in-place (HOT) update
             update hubsync.outbox c set claimed_by = $1,
                 lease_until = now() + make_interval(secs => $3), attempts = attempts + 1
             from due
             -- by primary key: `id in (…)` is planned as a scan of the whole outbox
             where c.id = any(array(select due_id from due)) and c.id = due.due_id
             returning c.*, due.rescued)
         select c.id, c.sync_name, c.target_side, c.connector, c.object_type, c.operation,
             c.intent, c.priority, c.target_id, c.unique_property, c.unique_value, c.source_id,
             c.properties, c.state, c.journal_id, c.attempts, c.created_at, j.occurred_at,
             c.lease_until, c.rescued
         from claimed c left join hubsync.journal j on j.id = c.journal_id
         order by c.priority, c.id",
    )
    .bind(worker)
    .bind(limit)
    .bind(lease.as_secs_f64())
    .fetch_all(&mut *tx)
    .await?;
    let rescued = rows.iter().filter(|row| row.rescued).count();
    let limit = i32::try_from(max_attempts).unwrap_or(i32::MAX);
    let (dead, rows): (Vec<RawItem>, Vec<RawItem>) =
        rows.into_iter().partition(|row| row.rescued && row.attempts > limit);
    dead_letter(&mut tx, worker, &dead, max_attempts).await?;
    tx.commit().await?;
    let items = rows.into_iter().filter_map(RawItem::convert).collect();
    Ok(Claim { items, rescued, dead: dead.len() })
}

/// Dead-letters items `worker` just rescued past their maximum attempts, and the journal
/// rows they came from.
async fn dead_letter(
    tx: &mut sqlx::PgConnection,
    worker: &str,
    items: &[RawItem],
    max_attempts: u32,
) -> Result<(), sqlx::Error> {
    if items.is_empty() {
        return Ok(());
    }
    let message = format!(
        "lease_expired_max_attempts: the write never settled (the worker died or panicked) in \
         {max_attempts} attempts"
    );
    let ids: Vec<i64> = items.iter().map(|item| item.id).collect();
    sqlx::query(
        "update hubsync.outbox set status = 'dead', error_kind = 'needs_operator',
             last_error = $3, last_result = jsonb_build_object('error', $3::text),
             claimed_by = null, lease_until = null, updated_at = now()
         where id = any($1) and claimed_by = $2",
    )
    .bind(&ids)
    .bind(worker)
    .bind(&message)
    .execute(&mut *tx)
    .await?;
    let journal: Vec<i64> = items.iter().filter_map(|item| item.journal_id).collect();
    super::journal::write_lease_expired(tx, &journal, worker, &message).await
}

/// Of `items`, those `worker` still holds under the very claim it made (the same lease
/// token), locked until the transaction ends so no one can claim them meanwhile. An item
/// another worker rescued after this one's lease ran out is not among them: its result
/// here is stale, whatever the holder's name.
pub async fn still_held(
    tx: &mut sqlx::PgConnection,
    worker: &str,
    items: &[&OutboxItem],
) -> Result<std::collections::HashSet<i64>, sqlx::Error> {
    let ids: Vec<i64> = items.iter().map(|item| item.id).collect();
    let leases: Vec<Option<DateTime<Utc>>> = items.iter().map(|item| item.lease_until).collect();
    let held: Vec<i64> = sqlx::query_scalar(
        "select o.id from hubsync.outbox o
         join unnest($1::bigint[], $2::timestamptz[]) as u(id, lease) on o.id = u.id
         where o.id = any($1) and o.claimed_by = $3 and o.lease_until = u.lease
         for update of o",
    )
    .persistent(false)
    .bind(&ids)
    .bind(&leases)
    .bind(worker)
    .fetch_all(&mut *tx)
    .await?;
    Ok(held.into_iter().collect())
}

/// Marks items done with the API's answer for each, where `worker` still holds them.
pub async fn mark_done(
    tx: &mut sqlx::PgConnection,
    worker: &str,
    ids: Vec<i64>,
    answers: Vec<Value>,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update hubsync.outbox o set status = 'done', last_result = u.answer, error_kind = null,
             last_error = null, claimed_by = null, lease_until = null, updated_at = now()
         from unnest($1::bigint[], $2::jsonb[]) as u(id, answer)
         -- `any(array(…))` reaches the items by primary key however stale the statistics;
         -- a join alone is planned as a scan of the whole outbox while it looks small
         where o.id = any(array(select unnest($1::bigint[]))) and o.id = u.id
           and o.claimed_by = $3",
    )
    // planned afresh for each batch, as `store::journal::complete_many` is
    .persistent(false)
    .bind(ids)
    .bind(answers)
    .bind(worker)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Puts an item `worker` holds back in the queue after `delay`, spending an attempt only
/// when `spend`.
pub async fn retry(
    tx: &mut sqlx::PgConnection,
    id: i64,
    worker: &str,
    kind: ErrorKind,
    message: &str,
    delay: Duration,
    spend: bool,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update hubsync.outbox set status = 'pending', error_kind = $3, last_error = $4,
             next_attempt_at = now() + make_interval(secs => $5),
             attempts = attempts - case when $6 then 0 else 1 end,
             claimed_by = null, lease_until = null, updated_at = now()
         where id = $1 and claimed_by = $2",
    )
    .bind(id)
    .bind(worker)
    .bind(kind.as_str())
    .bind(message)
    .bind(delay.as_secs_f64())
    .bind(spend)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Fails an item `worker` holds (`failed` or `dead`) with the API's message.
pub async fn fail(
    tx: &mut sqlx::PgConnection,
    id: i64,
    worker: &str,
    status: &str,
    kind: ErrorKind,
    message: &str,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "update hubsync.outbox set status = $3, error_kind = $4, last_error = $5,
             last_result = jsonb_build_object('error', $5::text), claimed_by = null,
             lease_until = null, updated_at = now()
         where id = $1 and claimed_by = $2",
    )
    .bind(id)
    .bind(worker)
    .bind(status)
    .bind(kind.as_str())
    .bind(message)
    .execute(&mut *tx)
    .await?;
    Ok(())
}

/// Updates and archives of block `sync` done on `side` within the last `window`: what the
/// blast-radius guard weighs a new group against.
pub async fn recent_overwrites<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    sync: &str,
    side: Side,
    window: Duration,
) -> Result<i64, sqlx::Error> {
    sqlx::query_scalar(
        "select count(*) from hubsync.outbox
             where sync_name = $1 and target_side = $2 and intent in ('update', 'archive')
               and status = 'done' and updated_at > now() - make_interval(secs => $3)",
    )
    .bind(sync)
    .bind(side.as_str())
    .bind(window.as_secs_f64())
    .fetch_one(executor)
    .await
}

/// One outbox update carrying an operator's chosen value to one side, resolving a conflict.
pub struct ChosenValue {
    pub sync: String,
    pub target: Side,
    pub connector: String,
    pub object: String,
    pub target_id: String,
    pub source_id: String,
    pub properties: Value,
    pub state: Value,
    pub journal_id: Option<i64>,
}

impl ChosenValue {
    /// Queues the update; returns its id.
    pub async fn insert<'e>(
        &self,
        executor: impl sqlx::PgExecutor<'e>,
    ) -> Result<i64, sqlx::Error> {
        sqlx::query_scalar(
            "insert into hubsync.outbox (sync_name, target_side, connector, object_type,
                 operation, intent, priority, target_id, source_id, properties, state, journal_id)
             values ($1, $2, $3, $4, 'update', 'update', 0, $5, $6, $7, $8, $9) returning id",
        )
        .bind(&self.sync)
        .bind(self.target.as_str())
        .bind(&self.connector)
        .bind(&self.object)
        .bind(&self.target_id)
        .bind(&self.source_id)
        .bind(&self.properties)
        .bind(&self.state)
        .bind(self.journal_id)
        .fetch_one(executor)
        .await
    }
}

/// Wakes the writers of every replica: queued items wait no poll interval.
pub async fn notify<'e>(executor: impl sqlx::PgExecutor<'e>) -> Result<(), sqlx::Error> {
    sqlx::query("select pg_notify('hubsync_outbox', '')").execute(executor).await?;
    Ok(())
}

/// An unsettled item touching some record: `(sync_name, target_side, target_id, source_id,
/// unique_value, association)`, the association's target for an association, else null.
pub type InFlight = (String, String, Option<String>, Option<String>, Option<String>, Value);

/// The unsettled items whose source id, target id or unique value is one of `ids`.
pub async fn in_flight<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    ids: &[String],
) -> Result<Vec<InFlight>, sqlx::Error> {
    // `in (select unnest …)` hashes the keys; `= any` would compare every row with every key
    sqlx::query_as(
        "with keys as (select unnest($1::text[]) as k)
         select sync_name, target_side, target_id, source_id, unique_value,
             case when operation = 'associate' then properties else 'null' end
         from hubsync.outbox
         where status in ('pending', 'processing')
           and (source_id in (select k from keys) or target_id in (select k from keys)
                or unique_value in (select k from keys))",
    )
    .bind(ids)
    .fetch_all(executor)
    .await
}

/// Blanks the values every item to or from the record holds (a privacy deletion): written
/// fields, the state to save, the API's answer. Pending items then write blanks, if
/// anything. Returns the items touched.
pub async fn forget_values<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    sync_name: &str,
    side: Side,
    record_id: &str,
) -> Result<u64, sqlx::Error> {
    let done = sqlx::query(
        "update hubsync.outbox o set
             properties = (select coalesce(jsonb_object_agg(e.key, 'null'::jsonb), '{}')
                           from jsonb_each(o.properties) as e),
             state = '[]'::jsonb, last_result = null
         where o.sync_name = $1
           and ((o.target_side = $2 and o.target_id = $3)
                or (o.target_side <> $2 and o.source_id = $3))",
    )
    .bind(sync_name)
    .bind(side.as_str())
    .bind(record_id)
    .execute(executor)
    .await?;
    Ok(done.rows_affected())
}
