//! The demo's own database: dropped and recreated on the configured Postgres server at each
//! run, so the demo starts from a clean slate and never touches the user's data.

use sqlx::Connection;
use sqlx::postgres::PgConnection;

use crate::store::server;

use super::DemoError;

/// The database the demo uses unless told otherwise.
pub const DEFAULT_NAME: &str = "hubsync_demo";

/// Only names starting with this are accepted: the demo drops the database it is given.
const REQUIRED_PREFIX: &str = "hubsync_demo";

/// Checks a demo database name: `hubsync_demo`, or `hubsync_demo_` plus lowercase letters,
/// digits and underscores.
pub fn check_name(name: &str) -> Result<(), DemoError> {
    let tail = name.strip_prefix(REQUIRED_PREFIX);
    let valid = tail.is_some_and(|t| {
        t.is_empty()
            || (t.starts_with('_')
                && t.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_'))
    }) && name.len() <= 63;
    if valid { Ok(()) } else { Err(DemoError::DatabaseName(name.to_string())) }
}

/// `server_url` with its database replaced by `name`.
pub fn url_for(server_url: &str, name: &str) -> Result<String, DemoError> {
    let mut url =
        reqwest::Url::parse(server_url).map_err(|err| DemoError::DatabaseUrl(err.to_string()))?;
    url.set_path(&format!("/{name}"));
    Ok(url.to_string())
}

/// The server of a database URL (host and port), to print without credentials.
pub fn server_of(url: &str) -> String {
    match reqwest::Url::parse(url) {
        Ok(url) => format!("{}:{}", url.host_str().unwrap_or("?"), url.port().unwrap_or(5432)),
        Err(_) => "the configured server".into(),
    }
}

/// Drops `name` if it exists (closing its connections) and creates it empty; returns its URL.
pub async fn recreate(server_url: &str, name: &str) -> Result<String, DemoError> {
    check_name(name)?;
    let mut conn = PgConnection::connect(server_url).await.map_err(DemoError::DatabaseServer)?;
    server::recreate_database(&mut conn, name).await.map_err(DemoError::DatabaseServer)?;
    conn.close().await.map_err(DemoError::DatabaseServer)?;
    url_for(server_url, name)
}

/// Drops `name`, e.g. after a test run.
pub async fn drop_database(server_url: &str, name: &str) -> Result<(), DemoError> {
    check_name(name)?;
    let mut conn = PgConnection::connect(server_url).await.map_err(DemoError::DatabaseServer)?;
    server::drop_database(&mut conn, name).await.map_err(DemoError::DatabaseServer)?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_demo_databases_may_be_dropped_and_recreated() {
        assert!(check_name("hubsync_demo").is_ok());
        assert!(check_name("hubsync_demo_test_42").is_ok());
        for bad in ["postgres", "hubsync", "hubsync_demo; drop", "hubsync_demoX", "Hubsync_demo"] {
            assert!(check_name(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn the_demo_url_keeps_the_server_and_credentials_and_names_the_demo_database() {
        let url = url_for(
            "postgres://postgres:pw@127.0.0.1:5432/postgres?sslmode=disable",
            "hubsync_demo",
        )
        .unwrap();
        assert_eq!(url, "postgres://postgres:pw@127.0.0.1:5432/hubsync_demo?sslmode=disable");
    }
}
