//! A simulator as a process: SIGTERM and SIGINT as a cancellation token, logs on stderr,
//! and one error report with its causes.

use std::future::Future;

use tokio_util::sync::CancellationToken;

/// A token cancelled by the first SIGTERM or SIGINT. The handlers are installed before this
/// returns, so a signal sent as soon as the process says it is ready stops it gracefully.
pub fn on_signals() -> CancellationToken {
    let token = CancellationToken::new();
    let trigger = token.clone();
    let signalled = signal_received();
    tokio::spawn(async move {
        signalled.await;
        tracing::info!("shutdown requested");
        trigger.cancel();
    });
    token
}

/// Installs the handlers now; the future resolves on the first signal.
#[cfg(unix)]
fn signal_received() -> impl Future<Output = ()> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let handlers = (signal(SignalKind::terminate()), signal(SignalKind::interrupt()));
    async move {
        let (Ok(mut term), Ok(mut int)) = handlers else {
            tracing::error!("cannot install signal handlers; stop with SIGKILL");
            return std::future::pending().await;
        };
        tokio::select! {
            _ = term.recv() => {}
            _ = int.recv() => {}
        }
    }
}

#[cfg(not(unix))]
fn signal_received() -> impl Future<Output = ()> + Send + 'static {
    async {
        let _ = tokio::signal::ctrl_c().await;
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`), so stdout carries only the
/// base URL a simulator prints when ready.
pub fn init_logs() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr).init();
}

/// Prints `err` and its causes on stderr, and returns the failure exit code.
pub fn report(err: &dyn std::error::Error) -> std::process::ExitCode {
    eprint!("error: {err}");
    let mut source = err.source();
    while let Some(cause) = source {
        eprint!(": {cause}");
        source = cause.source();
    }
    eprintln!();
    std::process::ExitCode::FAILURE
}
