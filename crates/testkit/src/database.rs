//! A fresh Postgres database per test or benchmark, dropped again with its value.
//!
//! Tests take theirs from [`TestDatabase::create`]: on DATABASE_URL's server, else in a
//! testcontainers Postgres, else they fail saying how to provide one. Benchmarks name
//! their server with [`TestDatabase::on_server`], usually [`bench_server`]'s: DATABASE_URL,
//! else the local default, and never a container (a benchmark measures the server it is
//! told to).

use sqlx::Connection;
use sqlx::postgres::PgConnection;
use tokio::sync::OnceCell;

const HOW_TO: &str = "integration tests need PostgreSQL: set DATABASE_URL \
    (e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres) or start a Docker engine \
    so testcontainers can run one";

/// The server benchmarks use when DATABASE_URL is unset.
const LOCAL_SERVER: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database created for one test and dropped when the value is dropped.
pub struct TestDatabase {
    pub url: String,
    pub name: String,
    admin_url: String,
}

impl TestDatabase {
    /// `hubsync_test_<uuid>` on DATABASE_URL's server, else on a testcontainers Postgres.
    pub async fn create() -> TestDatabase {
        TestDatabase::on_server(&server_url().await, "test").await
    }

    /// `hubsync_{tag}_<uuid>` on `server` (a URL naming any database on it).
    pub async fn on_server(server: &str, tag: &str) -> TestDatabase {
        let name = format!("hubsync_{tag}_{}", uuid::Uuid::new_v4().simple());
        let mut conn = PgConnection::connect(server)
            .await
            .unwrap_or_else(|err| panic!("cannot connect to {server}: {err}\n{HOW_TO}"));
        sqlx::query(&format!("create database {name}")).execute(&mut conn).await.unwrap();
        let url = with_database(server, &name);
        TestDatabase { url, name, admin_url: server.to_string() }
    }
}

/// The benchmarks' server: DATABASE_URL, or the local default.
pub fn bench_server() -> String {
    std::env::var("DATABASE_URL").unwrap_or_else(|_| LOCAL_SERVER.into())
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
    CONTAINER_URL.get_or_init(|| crate::container::start_postgres(HOW_TO)).await.clone()
}
