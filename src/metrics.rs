//! Every metric hubsync exports, declared once here with its name and help text.

use std::sync::OnceLock;

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};

pub const BUILD_INFO: &str = "hubsync_build_info";
pub const DATABASE_READY: &str = "hubsync_database_ready";
pub const READYZ_FAILURES: &str = "hubsync_readyz_failures_total";

static HANDLE: OnceLock<PrometheusHandle> = OnceLock::new();

/// Installs the Prometheus recorder on first call and returns the handle that renders it.
/// Later calls (several apps in one test process) share the same recorder.
pub fn install() -> PrometheusHandle {
    HANDLE
        .get_or_init(|| {
            let handle = match PrometheusBuilder::new().install_recorder() {
                Ok(handle) => handle,
                // another recorder is already global: render our own, unattached one
                Err(_) => PrometheusBuilder::new().build_recorder().handle(),
            };
            describe();
            handle
        })
        .clone()
}

fn describe() {
    metrics::describe_gauge!(BUILD_INFO, "Always 1; the version label names the running build.");
    metrics::describe_gauge!(
        DATABASE_READY,
        "1 when the database is reachable and fully migrated, else 0."
    );
    metrics::describe_counter!(READYZ_FAILURES, "Readiness probes answered 503, by reason.");
    metrics::gauge!(BUILD_INFO, "version" => env!("CARGO_PKG_VERSION")).set(1.0);
}
