//! A fresh Postgres database per test: from DATABASE_URL, else a testcontainers Postgres.

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::sync::OnceCell;

const HOW_TO: &str = "integration tests need PostgreSQL: set DATABASE_URL \
    (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres) or start a Docker engine \
    so testcontainers can run one";

/// A database created for one test and dropped when the value is dropped.
pub struct TestDatabase {
    pub url: String,
    pub name: String,
    admin_url: String,
}

impl TestDatabase {
    pub async fn create() -> TestDatabase {
        let admin_url = server_url().await;
        let name = format!("hubsync_test_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|err| panic!("cannot connect to {admin_url}: {err}\n{HOW_TO}"));
        sqlx::query(&format!("create database {name}")).execute(&mut conn).await.unwrap();
        let url = with_database(&admin_url, &name);
        TestDatabase { url, name, admin_url }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let admin_url = self.admin_url.clone();
        let name = self.name.clone();
        // Drop runs inside the test's runtime; do the async cleanup on a thread of its own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
            runtime.expect("cleanup runtime").block_on(async move {
                if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                    let sql = format!("drop database if exists {name} with (force)");
                    let _ = sqlx::query(&sql).execute(&mut conn).await;
                }
            });
        });
        let _ = cleanup.join();
    }
}

fn with_database(url: &str, name: &str) -> String {
    let mut parsed = reqwest::Url::parse(url).expect("DATABASE_URL is a URL");
    parsed.set_path(&format!("/{name}"));
    parsed.to_string()
}

/// The server to create test databases on.
async fn server_url() -> String {
    match std::env::var("DATABASE_URL") {
        Ok(url) if !url.is_empty() => url,
        _ => container_url().await,
    }
}

/// One Postgres container per test binary: the first test to need it starts it, and tests
/// asking meanwhile wait for that one rather than starting their own.
static CONTAINER_URL: OnceCell<String> = OnceCell::const_new();

async fn container_url() -> String {
    CONTAINER_URL.get_or_init(|| super::container::start_postgres(HOW_TO)).await.clone()
}
