//! What ingest and the reconciler ask of the journal beside claiming: records whose last
//! change was a delete (a restore), records the journal or the links already know (the
//! sweep), records with a change still queued, and dedup keys already journalled.

use sqlx::PgExecutor;

/// Of `ids` (records of `connector`'s `object_type`), those whose latest journalled change
/// is a delete.
pub async fn last_deleted<'e>(
    executor: impl PgExecutor<'e>,
    connector: &str,
    object_type: &str,
    ids: &[String],
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(LAST_DELETED_SQL)
        .bind(connector)
        .bind(object_type)
        .bind(ids)
        .fetch_all(executor)
        .await
}

/// Of the ids `$3`, those whose latest journalled change is a delete. One probe of the
/// per-record index for each id, whatever the planner's statistics say: planned as a scan
/// of the object's rows, it took a third of a second per page in a 100,000-record backfill.
const LAST_DELETED_SQL: &str = "
select i.record_id from unnest($3::text[]) as i (record_id)
cross join lateral (
    select kind from hubsync.journal
    where connector = $1 and object_type = $2 and record_id = i.record_id
    order by occurred_at desc, id desc
    limit 1) latest
where latest.kind = 'delete'";

/// Each of `ids` that the journal or a link of `sync_names` already knows, with the id of
/// its last journal row when that row is a delete of an unlinked record. `hubspot` says
/// which side's ids they are.
pub async fn known<'e>(
    executor: impl PgExecutor<'e>,
    connector: &str,
    object_type: &str,
    ids: &[String],
    sync_names: &[String],
    hubspot: bool,
) -> sqlx::Result<Vec<(String, Option<i64>)>> {
    sqlx::query_as(KNOWN_SQL)
        .bind(connector)
        .bind(object_type)
        .bind(ids)
        .bind(sync_names)
        .bind(hubspot)
        .fetch_all(executor)
        .await
}

/// Each record of `$3` that the journal or a link of the sync blocks `$4` already knows,
/// with the id of its last journal row when that row is a delete of an unlinked record (a
/// record back from the dead). Found by index probes, one per id, not a scan of the
/// object's rows.
const KNOWN_SQL: &str = "
with ids (record_id) as (select distinct unnest($3::text[])),
latest as (
    select i.record_id, j.id, j.kind from ids i
    cross join lateral (
        select id, kind from hubsync.journal
        where connector = $1 and object_type = $2 and record_id = i.record_id
        order by occurred_at desc, id desc
        limit 1) j),
linked as (
    select i.record_id from ids i
    where ($5 and exists (select 1 from hubsync.links k
                          where k.sync_name = any($4) and k.hubspot_id = i.record_id))
       or (not $5 and exists (select 1 from hubsync.links k
                              where k.sync_name = any($4) and k.external_id = i.record_id)))
select l.record_id, case when l.kind = 'delete' and k.record_id is null then l.id end
from latest l left join linked k on k.record_id = l.record_id
union
select record_id, null from linked";

/// Of the records `(connectors[i], objects[i], records[i])`, those with a change still
/// queued: a probe of the unsettled rows' per-record index for each record.
pub async fn queued<'e>(
    executor: impl PgExecutor<'e>,
    connectors: &[&str],
    objects: &[&str],
    records: &[&str],
) -> sqlx::Result<Vec<(String, String, String)>> {
    sqlx::query_as(
        "select k.connector, k.object_type, k.record_id
         from unnest($1::text[], $2::text[], $3::text[]) as k (connector, object_type, record_id)
         where exists (
             select 1 from hubsync.journal j
             where j.status in ('pending', 'processing') and j.connector = k.connector
               and j.object_type = k.object_type and j.record_id = k.record_id)",
    )
    .bind(connectors)
    .bind(objects)
    .bind(records)
    .fetch_all(executor)
    .await
}

/// Of the dedup keys `keys`, those already journalled.
pub async fn journalled<'e>(
    executor: impl PgExecutor<'e>,
    keys: &[String],
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar("select dedup_key from hubsync.journal where dedup_key = any($1)")
        .bind(keys)
        .fetch_all(executor)
        .await
}
