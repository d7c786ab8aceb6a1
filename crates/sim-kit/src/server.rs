//! Running a simulator: bind, serve until cancelled, and report the base URL.

use std::net::SocketAddr;

use axum::Router;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

/// A simulator serving in the background, with its state handle `S` for tests.
pub struct RunningSim<S> {
    pub base_url: String,
    pub addr: SocketAddr,
    pub state: S,
    shutdown: CancellationToken,
    task: JoinHandle<std::io::Result<()>>,
}

impl<S> RunningSim<S> {
    /// Serves `router` on `listener` until [`RunningSim::stop`] or `shutdown` fires.
    pub fn spawn(
        listener: TcpListener,
        router: Router,
        state: S,
        shutdown: CancellationToken,
    ) -> Self {
        let addr = listener.local_addr().expect("a bound listener has an address");
        let token = shutdown.clone();
        let task = tokio::spawn(async move {
            axum::serve(listener, router.into_make_service_with_connect_info::<SocketAddr>())
                .with_graceful_shutdown(token.cancelled_owned())
                .await
        });
        RunningSim { base_url: format!("http://{addr}"), addr, state, shutdown, task }
    }

    /// Stops serving and waits for in-flight requests to finish.
    pub async fn stop(self) -> std::io::Result<S> {
        self.shutdown.cancel();
        self.task.await.map_err(std::io::Error::other)??;
        Ok(self.state)
    }
}
