//! The `conflicts` table: same-field conflicts the reconciler records, held or decided by
//! policy, and an operator's resolution of a held one.

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::{PgExecutor, PgPool, Postgres, QueryBuilder};

/// One same-field conflict, both values, and what became of it.
#[derive(Debug, Clone, PartialEq, Serialize, sqlx::FromRow)]
pub struct Conflict {
    pub id: i64,
    pub sync_name: String,
    pub link_id: Option<i64>,
    pub hubspot_id: Option<String>,
    pub external_id: Option<String>,
    pub hubspot_field: String,
    pub external_field: String,
    pub hubspot_value: Option<String>,
    pub external_value: Option<String>,
    pub hubspot_as_external: Option<String>,
    pub external_as_hubspot: Option<String>,
    pub hubspot_at: Option<DateTime<Utc>>,
    pub external_at: Option<DateTime<Utc>>,
    pub policy: String,
    pub winner: Option<String>,
    pub status: String,
    pub journal_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    pub resolved_by: Option<String>,
    pub resolution: Option<String>,
}

const COLUMNS: &str = "id, sync_name, link_id, hubspot_id, external_id, hubspot_field, \
    external_field, hubspot_value, external_value, hubspot_as_external, external_as_hubspot, \
    hubspot_at, external_at, policy, winner, status, journal_id, created_at, resolved_at, \
    resolved_by, resolution";

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ConflictStatus {
    #[default]
    Open,
    Resolved,
    Auto,
    All,
}

impl ConflictStatus {
    pub fn parse(text: &str) -> Result<Self, String> {
        match text {
            "open" => Ok(ConflictStatus::Open),
            "resolved" => Ok(ConflictStatus::Resolved),
            "auto" => Ok(ConflictStatus::Auto),
            "all" => Ok(ConflictStatus::All),
            _ => Err(format!("unknown conflict status `{text}`; use open, resolved, auto or all")),
        }
    }

    fn sql(self) -> Option<&'static str> {
        match self {
            ConflictStatus::Open => Some("open"),
            ConflictStatus::Resolved => Some("resolved"),
            ConflictStatus::Auto => Some("auto"),
            ConflictStatus::All => None,
        }
    }
}

/// Which conflicts, newest first; `before` is the previous page's last id.
#[derive(Debug, Clone, Default)]
pub struct ConflictFilter {
    pub status: ConflictStatus,
    pub sync: Option<String>,
    pub before: Option<i64>,
}

/// Conflicts matching `filter`, newest first, at most `limit`.
pub async fn list(
    pool: &PgPool,
    filter: &ConflictFilter,
    limit: i64,
) -> sqlx::Result<Vec<Conflict>> {
    let mut sql = QueryBuilder::<Postgres>::new(format!(
        "select {COLUMNS} from hubsync.conflicts where true"
    ));
    if let Some(status) = filter.status.sql() {
        sql.push(" and status = ").push_bind(status);
    }
    if let Some(sync) = &filter.sync {
        sql.push(" and sync_name = ").push_bind(sync.clone());
    }
    if let Some(before) = filter.before {
        sql.push(" and id < ").push_bind(before);
    }
    sql.push(" order by id desc limit ").push_bind(limit);
    sql.build_query_as().fetch_all(pool).await
}

/// Conflict `id`, locked for the caller's transaction.
pub async fn lock<'e>(executor: impl PgExecutor<'e>, id: i64) -> sqlx::Result<Option<Conflict>> {
    let sql = format!("select {COLUMNS} from hubsync.conflicts where id = $1 for update");
    sqlx::query_as(&sql).bind(id).fetch_optional(executor).await
}

/// Marks conflict `id` resolved by `actor` with `resolution`, and its winner if one side
/// won; returns it as it is now.
pub async fn mark_resolved<'e>(
    executor: impl PgExecutor<'e>,
    id: i64,
    actor: &str,
    resolution: String,
    winner: Option<&str>,
) -> sqlx::Result<Conflict> {
    let sql = format!(
        "update hubsync.conflicts set status = 'resolved', resolved_at = now(),
             resolved_by = $2, resolution = $3, winner = coalesce($4, winner)
         where id = $1 returning {COLUMNS}"
    );
    sqlx::query_as(&sql)
        .bind(id)
        .bind(actor)
        .bind(resolution)
        .bind(winner)
        .fetch_one(executor)
        .await
}

/// A conflict to record, its values already as text.
#[derive(Debug, Clone, PartialEq)]
pub struct NewConflict<'a> {
    pub sync_name: &'a str,
    pub hubspot_id: &'a str,
    pub external_id: Option<&'a str>,
    pub hubspot_field: &'a str,
    pub external_field: &'a str,
    pub hubspot_value: String,
    pub external_value: String,
    pub hubspot_as_external: Option<String>,
    pub external_as_hubspot: Option<String>,
    pub hubspot_at: DateTime<Utc>,
    pub external_at: DateTime<Utc>,
    pub policy: String,
    pub winner: Option<&'static str>,
    /// `open` while held for an operator, `auto` when the policy decided it.
    pub status: &'static str,
    pub journal_id: i64,
}

/// Records a conflict, with the link its HubSpot record has, if any.
pub async fn insert<'e>(
    executor: impl PgExecutor<'e>,
    conflict: &NewConflict<'_>,
) -> sqlx::Result<()> {
    sqlx::query(
        "insert into hubsync.conflicts (sync_name, link_id, hubspot_id, external_id,
             hubspot_field, external_field, hubspot_value, external_value, hubspot_as_external,
             external_as_hubspot, hubspot_at, external_at, policy, winner, status, journal_id)
         values ($1, (select id from hubsync.links where sync_name = $1 and hubspot_id = $2),
             $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15)",
    )
    .bind(conflict.sync_name)
    .bind(conflict.hubspot_id)
    .bind(conflict.external_id)
    .bind(conflict.hubspot_field)
    .bind(conflict.external_field)
    .bind(&conflict.hubspot_value)
    .bind(&conflict.external_value)
    .bind(&conflict.hubspot_as_external)
    .bind(&conflict.external_as_hubspot)
    .bind(conflict.hubspot_at)
    .bind(conflict.external_at)
    .bind(&conflict.policy)
    .bind(conflict.winner)
    .bind(conflict.status)
    .bind(conflict.journal_id)
    .execute(executor)
    .await?;
    Ok(())
}

/// Blanks the values of every conflict of the record (a privacy deletion); the rows keep
/// who, when, which fields and how each was settled. Returns the conflicts touched.
pub async fn forget_values<'e>(
    executor: impl sqlx::PgExecutor<'e>,
    sync_name: &str,
    side: crate::config::Side,
    record_id: &str,
) -> sqlx::Result<u64> {
    let column = match side {
        crate::config::Side::Hubspot => "hubspot_id",
        crate::config::Side::External => "external_id",
    };
    let sql = format!(
        "update hubsync.conflicts set hubspot_value = null, external_value = null,
             hubspot_as_external = null, external_as_hubspot = null
         where sync_name = $1 and {column} = $2"
    );
    let done = sqlx::query(&sql).bind(sync_name).bind(record_id).execute(executor).await?;
    Ok(done.rows_affected())
}
