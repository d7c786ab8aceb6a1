//! Turns SIGTERM and SIGINT into the cancellation token every task watches.

use std::future::Future;

use tokio_util::sync::CancellationToken;

/// A token cancelled by the first SIGTERM or SIGINT. The handlers are installed before this
/// returns, so a signal sent as soon as the process says it is ready stops it gracefully
/// instead of killing it (a spawned task might not have installed them yet).
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
