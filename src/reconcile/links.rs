//! The `links` table: which HubSpot record is which external record, per sync block.

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
    sqlx::query_as(
        "update hubsync.links set hubspot_id = $3, merged_from = merged_from || $2::text,
             updated_at = now()
         where sync_name = $1 and hubspot_id = $2
           and not exists (select 1 from hubsync.links where sync_name = $1 and hubspot_id = $3)
         returning id, sync_name, hubspot_id, external_id",
    )
    .bind(sync_name)
    .bind(merged_id)
    .bind(surviving_id)
    .fetch_optional(executor)
    .await
}
