//! hubsync's test kit, shared by the integration tests and the benchmarks: a fresh
//! database per test, settings for a test, both simulators and their connector config,
//! and the real app on port 0.

pub mod app;
mod container;
pub mod database;
pub mod settings;
pub mod sims;

/// Test logs go to stderr only when TEST_LOG is set.
pub fn init_test_log() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,sqlx=info")
            .with_test_writer()
            .try_init();
    }
}
