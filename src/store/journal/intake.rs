//! What ingest reads of the journal before it appends: records whose last change was a
//! delete (a restore), and records the journal or the links already know (the sweep).

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
