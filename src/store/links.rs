//! The `links` table: which HubSpot record is which external record, per sync block.

use std::collections::HashMap;

use sqlx::PgExecutor;

use crate::config::Side;

/// A linked pair.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Link {
    pub id: i64,
    pub sync_name: String,
    pub hubspot_id: String,
    pub external_id: String,
}

/// The link of a record on `side`, if it has one.
pub async fn find<'e>(
    executor: impl PgExecutor<'e>,
    sync_name: &str,
    side: Side,
    record_id: &str,
) -> sqlx::Result<Option<Link>> {
    let column = match side {
        Side::Hubspot => "hubspot_id",
        Side::External => "external_id",
    };
    let sql = format!(
        "select id, sync_name, hubspot_id, external_id from hubsync.links
         where sync_name = $1 and {column} = $2"
    );
    sqlx::query_as(&sql).bind(sync_name).bind(record_id).fetch_optional(executor).await
}

/// Records that `hubspot_id` and `external_id` are the same record. Linking a pair again
/// returns the existing link; if either id is already linked to another partner, nothing
/// changes and `None` is returned.
pub async fn link<'e>(
    executor: impl PgExecutor<'e>,
    sync_name: &str,
    hubspot_id: &str,
    external_id: &str,
) -> sqlx::Result<Option<Link>> {
    sqlx::query_as(
        "with created as (
             insert into hubsync.links (sync_name, hubspot_id, external_id) values ($1, $2, $3)
             on conflict do nothing
             returning id, sync_name, hubspot_id, external_id)
         select * from created
         union all
         select id, sync_name, hubspot_id, external_id from hubsync.links
         where sync_name = $1 and hubspot_id = $2 and external_id = $3
           and not exists (select 1 from created)",
    )
    .bind(sync_name)
    .bind(hubspot_id)
    .bind(external_id)
    .fetch_optional(executor)
    .await
}

/// A HubSpot merge: the link of `merged_id` now points at `surviving_id`, remembering the
/// old id. Returns the redirected link, if the merged record was linked.
pub async fn redirect_hubspot<'e>(
    executor: impl PgExecutor<'e>,
    sync_name: &str,
    merged_id: &str,
    surviving_id: &str,
) -> sqlx::Result<Option<Link>> {
    redirect(executor, sync_name, Side::Hubspot, merged_id, surviving_id).await
}

/// A merge on `side`: the link of `merged_id` now points at `surviving_id`, remembering the
/// old id, unless the survivor is linked already. Returns the redirected link.
pub async fn redirect<'e>(
    executor: impl PgExecutor<'e>,
    sync_name: &str,
    side: Side,
    merged_id: &str,
    surviving_id: &str,
) -> sqlx::Result<Option<Link>> {
    let column = match side {
        Side::Hubspot => "hubspot_id",
        Side::External => "external_id",
    };
    let sql = format!(
        "update hubsync.links set {column} = $3, merged_from = merged_from || $2::text,
             updated_at = now()
         where sync_name = $1 and {column} = $2
           and not exists (select 1 from hubsync.links where sync_name = $1 and {column} = $3)
         returning id, sync_name, hubspot_id, external_id"
    );
    sqlx::query_as(&sql)
        .bind(sync_name)
        .bind(merged_id)
        .bind(surviving_id)
        .fetch_optional(executor)
        .await
}

/// The links of many records at once: `(sync_name, side, record_id)` triples.
pub async fn find_many<'e>(
    executor: impl PgExecutor<'e>,
    records: &[(String, Side, String)],
) -> sqlx::Result<Vec<Link>> {
    if records.is_empty() {
        return Ok(Vec::new());
    }
    let pick = |side: Side| {
        let (names, ids): (Vec<&str>, Vec<&str>) = records
            .iter()
            .filter(|(_, s, _)| *s == side)
            .map(|(name, _, id)| (name.as_str(), id.as_str()))
            .unzip();
        (names, ids)
    };
    let (hubspot_names, hubspot_ids) = pick(Side::Hubspot);
    let (external_names, external_ids) = pick(Side::External);
    sqlx::query_as(
        // a probe of each side's unique index per key; an `or` of two `in (…)` lists is
        // planned as a scan of every link
        "select l.id, l.sync_name, l.hubspot_id, l.external_id
           from unnest($1::text[], $2::text[]) as k (sync_name, id)
           join hubsync.links l on l.sync_name = k.sync_name and l.hubspot_id = k.id
         union
         select l.id, l.sync_name, l.hubspot_id, l.external_id
           from unnest($3::text[], $4::text[]) as k (sync_name, id)
           join hubsync.links l on l.sync_name = k.sync_name and l.external_id = k.id",
    )
    .bind(hubspot_names)
    .bind(hubspot_ids)
    .bind(external_names)
    .bind(external_ids)
    .fetch_all(executor)
    .await
}

/// Links a created or matched pair, replacing any link either record had to another
/// partner (a record restored after its partner was deleted gets a new partner). Returns
/// the link's id.
pub async fn relink(
    tx: &mut sqlx::PgConnection,
    sync_name: &str,
    hubspot_id: &str,
    external_id: &str,
) -> sqlx::Result<i64> {
    if let Some(link) = link(&mut *tx, sync_name, hubspot_id, external_id).await? {
        return Ok(link.id);
    }
    sqlx::query(
        "with gone as (
             delete from hubsync.links
             where sync_name = $1 and (hubspot_id = $2 or external_id = $3)
             returning id)
         delete from hubsync.record_state where link_id in (select id from gone)",
    )
    .bind(sync_name)
    .bind(hubspot_id)
    .bind(external_id)
    .execute(&mut *tx)
    .await?;
    sqlx::query_scalar(
        "insert into hubsync.links (sync_name, hubspot_id, external_id) values ($1, $2, $3)
         returning id",
    )
    .bind(sync_name)
    .bind(hubspot_id)
    .bind(external_id)
    .fetch_one(&mut *tx)
    .await
}

/// Forgets the link of a record on `side` (its partner was deleted).
pub async fn unlink<'e>(
    executor: impl PgExecutor<'e>,
    sync_name: &str,
    side: Side,
    record_id: &str,
) -> sqlx::Result<u64> {
    let column = match side {
        Side::Hubspot => "hubspot_id",
        Side::External => "external_id",
    };
    // a link's record state goes with it (record_state has no foreign key; see migration 15)
    let sql = format!(
        "with gone as (
             delete from hubsync.links where sync_name = $1 and {column} = $2 returning id),
         state as (delete from hubsync.record_state where link_id in (select id from gone))
         select count(*) from gone"
    );
    let gone: i64 =
        sqlx::query_scalar(&sql).bind(sync_name).bind(record_id).fetch_one(executor).await?;
    Ok(u64::try_from(gone).unwrap_or_default())
}

impl Link {
    /// The record's id on `side`.
    pub fn id_on(&self, side: Side) -> &str {
        match side {
            Side::Hubspot => &self.hubspot_id,
            Side::External => &self.external_id,
        }
    }
}

/// Every id the links of `sync_names` name on one side: HubSpot's when `hubspot`, else the
/// external one.
pub async fn side_ids<'e>(
    executor: impl PgExecutor<'e>,
    sync_names: &[String],
    hubspot: bool,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(LINKED_SQL).bind(sync_names).bind(hubspot).fetch_all(executor).await
}

/// Every id this side's links name.
const LINKED_SQL: &str = "
select case when $2 then hubspot_id else external_id end from hubsync.links
where sync_name = any($1)";

/// Inserts `(sync, hubspot id, external id)` links that are new; returns their ids. A pair
/// linked already is left out, and nothing is sent for no pairs.
pub async fn insert_new(
    tx: &mut sqlx::PgConnection,
    new: &[&(String, String, String)],
) -> Result<HashMap<(String, String, String), i64>, sqlx::Error> {
    if new.is_empty() {
        return Ok(HashMap::new());
    }
    let inserted: Vec<(i64, String, String, String)> = sqlx::query_as(
        "insert into hubsync.links (sync_name, hubspot_id, external_id)
         select * from unnest($1::text[], $2::text[], $3::text[])
         on conflict do nothing
         returning id, sync_name, hubspot_id, external_id",
    )
    .bind(new.iter().map(|p| p.0.as_str()).collect::<Vec<_>>())
    .bind(new.iter().map(|p| p.1.as_str()).collect::<Vec<_>>())
    .bind(new.iter().map(|p| p.2.as_str()).collect::<Vec<_>>())
    .fetch_all(&mut *tx)
    .await?;
    Ok(inserted.into_iter().map(|(id, sync, h, e)| ((sync, h, e), id)).collect())
}

/// Link `id`'s pair: `(hubspot_id, external_id)`.
pub async fn pair<'e>(
    executor: impl PgExecutor<'e>,
    id: i64,
) -> sqlx::Result<Option<(String, String)>> {
    sqlx::query_as("select hubspot_id, external_id from hubsync.links where id = $1")
        .bind(id)
        .fetch_optional(executor)
        .await
}
