//! A TCP proxy a test can take down and bring up, to play a database outage.

use std::net::SocketAddr;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};

use tokio::net::{TcpListener, TcpStream};
use tokio_util::sync::CancellationToken;

pub struct ToggleProxy {
    pub addr: SocketAddr,
    up: Arc<AtomicBool>,
    connections: Arc<Mutex<CancellationToken>>,
    stop: CancellationToken,
}

impl ToggleProxy {
    /// Starts the proxy, down: connections are accepted and closed at once.
    pub async fn start(target: SocketAddr) -> ToggleProxy {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let proxy = ToggleProxy {
            addr: listener.local_addr().unwrap(),
            up: Arc::new(AtomicBool::new(false)),
            connections: Arc::new(Mutex::new(CancellationToken::new())),
            stop: CancellationToken::new(),
        };
        let (up, connections, stop) =
            (proxy.up.clone(), proxy.connections.clone(), proxy.stop.clone());
        tokio::spawn(async move {
            loop {
                let (client, _) = tokio::select! {
                    _ = stop.cancelled() => return,
                    accepted = listener.accept() => match accepted { Ok(a) => a, Err(_) => return },
                };
                if !up.load(Ordering::SeqCst) {
                    drop(client);
                    continue;
                }
                let cut = connections.lock().unwrap().clone();
                tokio::spawn(pipe(client, target, cut));
            }
        });
        proxy
    }

    pub fn bring_up(&self) {
        self.up.store(true, Ordering::SeqCst);
    }

    /// Refuses new connections and cuts every open one.
    pub fn take_down(&self) {
        self.up.store(false, Ordering::SeqCst);
        let mut current = self.connections.lock().unwrap();
        current.cancel();
        *current = CancellationToken::new();
    }
}

impl Drop for ToggleProxy {
    fn drop(&mut self) {
        self.stop.cancel();
        self.connections.lock().unwrap().cancel();
    }
}

async fn pipe(mut client: TcpStream, target: SocketAddr, cut: CancellationToken) {
    let Ok(mut server) = TcpStream::connect(target).await else { return };
    tokio::select! {
        _ = cut.cancelled() => {}
        _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
    }
}

/// The address of the Postgres server a database URL names.
pub fn postgres_addr(url: &str) -> SocketAddr {
    let parsed = reqwest::Url::parse(url).unwrap();
    let host = parsed.host_str().unwrap();
    let host = if host == "localhost" { "127.0.0.1" } else { host };
    format!("{host}:{}", parsed.port().unwrap_or(5432)).parse().unwrap()
}

/// `url` reaching its server through `proxy`.
pub fn through(url: &str, proxy: &ToggleProxy) -> String {
    let mut parsed = reqwest::Url::parse(url).unwrap();
    parsed.set_host(Some(&proxy.addr.ip().to_string())).unwrap();
    parsed.set_port(Some(proxy.addr.port())).unwrap();
    parsed.to_string()
}
