//! The daemon's HTTP listeners: each accepts at most `max_connections` connections at once
//! (more wait in the backlog) and disconnects a client whose request headers take longer
//! than the header read timeout. (Bodies are bounded by the routes: the admin API's
//! [`crate::admin::read_bodies`], the webhook receiver's own read.) On shutdown, open
//! connections finish their requests and close.

use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use hyper_util::rt::{TokioExecutor, TokioIo, TokioTimer};
use hyper_util::server::conn::auto;
use hyper_util::service::TowerToHyperService;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

use crate::config::HttpSettings;

/// How long to wait before accepting again after `accept` failed (e.g. out of descriptors).
const ACCEPT_BACKOFF: Duration = Duration::from_millis(100);

/// Serves `routes` on `listener` within `limits` until `shutdown` fires, then lets open
/// connections finish their requests.
pub async fn serve(
    listener: TcpListener,
    routes: Router,
    limits: HttpSettings,
    shutdown: CancellationToken,
) {
    let slots = Arc::new(Semaphore::new(limits.max_connections.get() as usize));
    let mut connections = JoinSet::new();
    loop {
        while connections.try_join_next().is_some() {}
        let slot = tokio::select! {
            _ = shutdown.cancelled() => break,
            slot = slots.clone().acquire_owned() => slot.expect("the semaphore is never closed"),
        };
        let stream = tokio::select! {
            _ = shutdown.cancelled() => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(err) => {
                    tracing::warn!(error = %err, "cannot accept a connection");
                    tokio::time::sleep(ACCEPT_BACKOFF).await;
                    continue;
                }
            },
        };
        let header_timeout = limits.header_read_timeout;
        let connection = connection(stream, routes.clone(), header_timeout, slot, shutdown.clone());
        connections.spawn(connection);
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
}

/// Serves one connection, holding its slot until it closes.
async fn connection(
    stream: TcpStream,
    routes: Router,
    header_timeout: Duration,
    _slot: OwnedSemaphorePermit,
    shutdown: CancellationToken,
) {
    let mut builder = auto::Builder::new(TokioExecutor::new());
    builder.http1().timer(TokioTimer::new()).header_read_timeout(header_timeout);
    let service = TowerToHyperService::new(routes);
    let connection = builder.serve_connection_with_upgrades(TokioIo::new(stream), service);
    tokio::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => return,
        _ = shutdown.cancelled() => {}
    }
    connection.as_mut().graceful_shutdown();
    let _ = connection.await;
}
