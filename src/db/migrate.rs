//! hubsync's schema migrations: applying them, and sqlx's bookkeeping table, which lives in
//! the `hubsync` schema with everything else hubsync owns (never in `public`, where another
//! application's sqlx migrations keep theirs).

use sqlx::migrate::Migrator;
use sqlx::{Connection, PgConnection, PgPool};

use super::DbError;

/// The migrations in `migrations/`, embedded in the binary.
pub static MIGRATOR: Migrator = sqlx::migrate!("./migrations");

/// Where hubsync's bookkeeping lives, and where releases before 2026-12 left it.
const BOOKKEEPING: &str = "hubsync._sqlx_migrations";
const LEGACY_BOOKKEEPING: &str = "public._sqlx_migrations";

/// Serializes adopting the legacy bookkeeping across replicas starting at once.
const ADOPT_LOCK: i64 = 0x6875_6273_796e_6301;

/// What `migrate` did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MigrationReport {
    pub applied_now: Vec<i64>,
    pub latest: i64,
}

/// Creates the schema and applies pending migrations. Safe to run again, and from several
/// replicas at once: the migrator holds an advisory lock.
pub async fn migrate(pool: &PgPool) -> Result<MigrationReport, DbError> {
    sqlx::query("create schema if not exists hubsync").execute(pool).await?;
    adopt_legacy_bookkeeping(pool).await?;
    let before = applied_versions(pool).await?;
    // sqlx names its table unqualified: on a connection of its own whose search path is
    // `hubsync`, it lands there; the connection is closed after, never back in the pool
    let mut conn = pool.acquire().await?.detach();
    sqlx::query("select set_config('search_path', 'hubsync', false)").execute(&mut conn).await?;
    // `run_direct` is `run` on a connection; `run(&mut conn)` makes the daemon's future
    // not `Send` ("implementation of `Acquire` is not general enough", as sqlx notes)
    let ran = MIGRATOR.run_direct(&mut conn).await;
    conn.close().await.ok();
    ran?;
    let after = applied_versions(pool).await?;
    let applied_now = after.iter().copied().filter(|v| !before.contains(v)).collect();
    Ok(MigrationReport { applied_now, latest: latest_embedded() })
}

/// Moves hubsync's rows of a bookkeeping table an earlier release kept in `public` into
/// `hubsync`, once. Rows are hubsync's when version and checksum both match an embedded
/// migration; any other application's rows stay, and the table is dropped only if empty.
async fn adopt_legacy_bookkeeping(pool: &PgPool) -> Result<(), DbError> {
    let mut tx = pool.begin().await?;
    sqlx::query("select pg_advisory_xact_lock($1)").bind(ADOPT_LOCK).execute(&mut *tx).await?;
    if exists(&mut tx, BOOKKEEPING).await? || !exists(&mut tx, LEGACY_BOOKKEEPING).await? {
        return Ok(());
    }
    let versions: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    let checksums: Vec<Vec<u8>> = MIGRATOR.iter().map(|m| m.checksum.to_vec()).collect();
    sqlx::query(&format!("create table {BOOKKEEPING} (like {LEGACY_BOOKKEEPING} including all)"))
        .execute(&mut *tx)
        .await?;
    let adopted = sqlx::query(&format!(
        "with moved as (
             delete from {LEGACY_BOOKKEEPING} l
             using unnest($1::bigint[], $2::bytea[]) as m (version, checksum)
             where l.version = m.version and l.checksum = m.checksum
             returning l.*)
         insert into {BOOKKEEPING} select * from moved"
    ))
    .bind(&versions)
    .bind(&checksums)
    .execute(&mut *tx)
    .await?
    .rows_affected();
    let left: i64 = sqlx::query_scalar(&format!("select count(*) from {LEGACY_BOOKKEEPING}"))
        .fetch_one(&mut *tx)
        .await?;
    if left == 0 {
        sqlx::query(&format!("drop table {LEGACY_BOOKKEEPING}")).execute(&mut *tx).await?;
    }
    tx.commit().await?;
    tracing::info!(adopted, left_for_others = left, "migration bookkeeping moved into `hubsync`");
    Ok(())
}

async fn exists(conn: &mut PgConnection, table: &str) -> Result<bool, DbError> {
    let found: Option<String> =
        sqlx::query_scalar("select to_regclass($1)::text").bind(table).fetch_one(conn).await?;
    Ok(found.is_some())
}

/// The newest migration this binary knows.
pub fn latest_embedded() -> i64 {
    MIGRATOR.iter().map(|m| m.version).max().unwrap_or(0)
}

/// Whether the database has every embedded migration applied.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MigrationStatus {
    UpToDate,
    Pending { applied: usize, known: usize },
}

pub async fn migration_status(pool: &PgPool) -> Result<MigrationStatus, DbError> {
    let applied = applied_versions(pool).await?;
    let known: Vec<i64> = MIGRATOR.iter().map(|m| m.version).collect();
    let done = known.iter().filter(|v| applied.contains(v)).count();
    if done == known.len() {
        Ok(MigrationStatus::UpToDate)
    } else {
        Ok(MigrationStatus::Pending { applied: done, known: known.len() })
    }
}

/// Versions recorded in the bookkeeping table: hubsync's own, or on a database no release
/// since has migrated, the legacy one in `public`.
async fn applied_versions(pool: &PgPool) -> Result<Vec<i64>, DbError> {
    let mut conn = pool.acquire().await?;
    let table = if exists(&mut conn, BOOKKEEPING).await? {
        BOOKKEEPING
    } else if exists(&mut conn, LEGACY_BOOKKEEPING).await? {
        LEGACY_BOOKKEEPING
    } else {
        return Ok(Vec::new());
    };
    let sql = format!("select version from {table} where success");
    Ok(sqlx::query_scalar(&sql).fetch_all(&mut *conn).await?)
}
