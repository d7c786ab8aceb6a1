//! Helpers shared by the integration tests.

#![allow(dead_code)]

pub mod app;
pub mod binary;
pub mod container;
pub mod database;
pub mod operate;
pub mod proxy;

/// Test logs go to stderr only when TEST_LOG is set.
pub fn init_test_log() {
    if std::env::var_os("TEST_LOG").is_some() {
        let _ = tracing_subscriber::fmt()
            .with_env_filter("debug,sqlx=info")
            .with_test_writer()
            .try_init();
    }
}
