//! Statements on the database server rather than on a hubsync table: the probe that the
//! database answers, whether it is migrated, and creating and dropping a whole (demo)
//! database.

use sqlx::{PgConnection, PgExecutor};

/// Answers once the database does.
pub async fn ping<'e>(executor: impl PgExecutor<'e>) -> sqlx::Result<()> {
    sqlx::query("select 1").execute(executor).await?;
    Ok(())
}

/// Whether hubsync's migrations have run (its last table exists).
pub async fn migrated<'e>(executor: impl PgExecutor<'e>) -> sqlx::Result<bool> {
    let probe = "select to_regclass('hubsync.conflicts') is not null";
    sqlx::query_scalar(probe).fetch_one(executor).await
}

/// Drops database `name` if it exists (closing its connections) and creates it empty.
/// `name` must already be checked as a plain identifier.
pub async fn recreate_database(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    for sql in
        [format!("drop database if exists {name} with (force)"), format!("create database {name}")]
    {
        sqlx::query(&sql).execute(&mut *conn).await?;
    }
    Ok(())
}

/// Drops database `name` if it exists. `name` must already be checked as a plain identifier.
pub async fn drop_database(conn: &mut PgConnection, name: &str) -> sqlx::Result<()> {
    let sql = format!("drop database if exists {name} with (force)");
    sqlx::query(&sql).execute(&mut *conn).await?;
    Ok(())
}
