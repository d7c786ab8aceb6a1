//! Helpers shared by the integration tests; the kit (`crates/testkit`) holds what the
//! benchmarks need too.

#![allow(dead_code)]

pub mod app;
pub mod binary;
pub mod operate;
pub mod proxy;

pub use testkit::{database, init_test_log};
