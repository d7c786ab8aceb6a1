//! What every benchmark needs from Postgres: the server DATABASE_URL names (default the
//! local one) and a throwaway database on it per run. Included by each bench with
//! `#[path = "support/mod.rs"] mod support;`.

use sqlx::{Connection, PgConnection};

/// The Postgres server: DATABASE_URL, or the local default.
pub fn server() -> String {
    std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into())
}

/// Creates `hubsync_bench_{tag}_<uuid>` on `server`; returns its URL and the future that
/// drops it again.
pub async fn fresh_database(
    server: &str,
    tag: &str,
) -> (String, impl std::future::Future<Output = ()> + Send + 'static) {
    let name = format!("hubsync_bench_{tag}_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(server).await.expect("DATABASE_URL server reachable");
    sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
    let mut url = reqwest::Url::parse(server).unwrap();
    url.set_path(&format!("/{name}"));
    let cleanup = async move {
        let sql = format!("drop database if exists {name} with (force)");
        sqlx::query(&sql).execute(&mut admin).await.unwrap();
    };
    (url.to_string(), cleanup)
}
