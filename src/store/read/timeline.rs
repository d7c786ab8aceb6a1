//! One record's history as the timeline reads it: its journal rows, operators' actions on
//! them from the audit log, its outbox items and its conflicts.

use chrono::{DateTime, Utc};
use serde_json::Value;
use sqlx::PgPool;

use crate::store::conflicts::Conflict;

/// The ids and last update times of the journal rows of the records
/// `(connectors[i], objects[i], ids[i])`, oldest first, at most 5,000.
pub async fn journal_ids(
    pool: &PgPool,
    connectors: Vec<String>,
    objects: Vec<String>,
    ids: Vec<String>,
) -> sqlx::Result<Vec<(i64, DateTime<Utc>)>> {
    sqlx::query_as(
        "select j.id, j.updated_at
           from unnest($1::text[], $2::text[], $3::text[]) as k (connector, object_type, record_id)
           join hubsync.journal j on j.connector = k.connector and j.object_type = k.object_type
                                 and j.record_id = k.record_id
          order by j.id limit 5000",
    )
    .bind(connectors)
    .bind(objects)
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// Operators' retries and skips of the journal rows `journal_ids`, from the audit log:
/// `(at, actor, action, the rows among journal_ids)`.
pub async fn operator_actions(
    pool: &PgPool,
    journal_ids: &[i64],
) -> sqlx::Result<Vec<(DateTime<Utc>, String, String, Vec<i64>)>> {
    sqlx::query_as(
        "select a.at, a.actor, a.action,
                array(select e::bigint from jsonb_array_elements(a.target->'journal_ids') e
                       where e::bigint = any($1) order by 1)
           from hubsync.audit a
          where a.action like 'journal.%'
            and exists (select 1 from jsonb_array_elements(a.target->'journal_ids') e
                         where jsonb_typeof(e) = 'number' and e::bigint = any($1))
          order by a.id",
    )
    .bind(journal_ids)
    .fetch_all(pool)
    .await
}

/// An outbox item as the timeline needs it.
#[derive(Debug, sqlx::FromRow)]
pub struct OutboxItem {
    pub id: i64,
    pub sync_name: String,
    pub target_side: String,
    pub connector: String,
    pub object_type: String,
    pub operation: String,
    pub intent: String,
    pub target_id: Option<String>,
    pub unique_value: Option<String>,
    pub properties: Value,
    pub journal_id: Option<i64>,
    pub status: String,
    pub attempts: i32,
    pub error_kind: Option<String>,
    pub last_error: Option<String>,
    pub last_result: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

/// The outbox items of the journal rows `journal_ids` or of the records `ids`.
pub async fn outbox(
    pool: &PgPool,
    journal_ids: &[i64],
    ids: &[String],
) -> sqlx::Result<Vec<OutboxItem>> {
    sqlx::query_as(concat!(
        "select id, sync_name, target_side, connector, object_type, operation, intent, target_id,
                unique_value, properties, journal_id, case when ",
        crate::store::journal::leased!(),
        " then 'processing' else status end as status, attempts, error_kind, last_error,
                last_result, created_at, updated_at
           from hubsync.outbox
          where journal_id = any($1) or target_id = any($2) or source_id = any($2)
          order by id limit 5000"
    ))
    .bind(journal_ids)
    .bind(ids)
    .fetch_all(pool)
    .await
}

/// The conflicts of the links `link_ids` or of the records `ids`.
pub async fn conflicts(
    pool: &PgPool,
    link_ids: &[i64],
    ids: &[String],
) -> sqlx::Result<Vec<Conflict>> {
    sqlx::query_as(
        "select id, sync_name, link_id, hubspot_id, external_id, hubspot_field, external_field,
                hubspot_value, external_value, hubspot_as_external, external_as_hubspot,
                hubspot_at, external_at, policy, winner, status, journal_id, created_at,
                resolved_at, resolved_by, resolution
           from hubsync.conflicts
          where link_id = any($1) or hubspot_id = any($2) or external_id = any($2)
          order by id limit 5000",
    )
    .bind(link_ids)
    .bind(ids)
    .fetch_all(pool)
    .await
}
