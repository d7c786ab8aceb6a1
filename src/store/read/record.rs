//! Finding the record an operator means: journal rows by key property, links by any of
//! their ids, and which records have journal rows at all.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::PgPool;

/// A link the key resolved to.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct LinkInfo {
    pub id: i64,
    pub sync_name: String,
    pub hubspot_id: String,
    pub external_id: String,
    pub merged_from: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// Record ids of journal rows whose property `fields[i]` (of `connectors[i]`'s
/// `objects[i]`) holds `key`.
pub async fn by_property(
    pool: &PgPool,
    connectors: Vec<String>,
    objects: Vec<String>,
    fields: Vec<String>,
    key: &str,
) -> sqlx::Result<Vec<String>> {
    sqlx::query_scalar(
        "select distinct j.record_id
           from unnest($1::text[], $2::text[], $3::text[]) as k (connector, object_type, field)
           join hubsync.journal j on j.connector = k.connector and j.object_type = k.object_type
          where j.properties -> k.field ->> 'value' = $4",
    )
    .bind(connectors)
    .bind(objects)
    .bind(fields)
    .bind(key)
    .fetch_all(pool)
    .await
}

/// The links naming one of `ids`, as either side's id or a merged one.
pub async fn links(pool: &PgPool, ids: Vec<String>) -> sqlx::Result<Vec<LinkInfo>> {
    sqlx::query_as(
        "select id, sync_name, hubspot_id, external_id, merged_from, created_at, updated_at
           from hubsync.links
          where hubspot_id = any($1) or external_id = any($1) or merged_from && $1
          order by id",
    )
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Of the records `(connectors[i], objects[i], ids[i])`, those with at least one journal row.
pub async fn present(
    pool: &PgPool,
    connectors: Vec<String>,
    objects: Vec<String>,
    ids: Vec<String>,
) -> sqlx::Result<Vec<(String, String, String)>> {
    sqlx::query_as(
        "select k.connector, k.object_type, k.record_id
           from unnest($1::text[], $2::text[], $3::text[]) as k (connector, object_type, record_id)
          where exists (select 1 from hubsync.journal j where j.connector = k.connector
                           and j.object_type = k.object_type and j.record_id = k.record_id)",
    )
    .bind(connectors)
    .bind(objects)
    .bind(ids)
    .fetch_all(pool)
    .await
}
