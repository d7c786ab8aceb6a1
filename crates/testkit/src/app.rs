//! Starts the real app on port 0 against a fresh database.

use std::net::SocketAddr;
use std::time::Duration;

use hubsync::app::App;
use hubsync::config::Settings;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::database::TestDatabase;
use crate::settings::{test_settings, test_settings_with_file};

pub struct TestApp {
    pub addr: SocketAddr,
    /// The webhook listener, when `webhooks.listen` gives the receivers one of their own.
    pub webhook_addr: Option<SocketAddr>,
    pub http: reqwest::Client,
    pub db: Option<TestDatabase>,
    pub pool: sqlx::PgPool,
    shutdown: CancellationToken,
    task: JoinHandle<Result<(), hubsync::app::AppError>>,
}

/// The app with a config file layered in, ready when this returns.
pub async fn spawn_app_with(file: &str, extra: &[(&str, &str)]) -> TestApp {
    let db = TestDatabase::create().await;
    let settings = test_settings_with_file(&db.url, Some(file), extra);
    let app = start(settings, Some(db)).await;
    app.wait_until_ready().await;
    app
}

/// The app against a fresh database, ready (migrated) when this returns.
pub async fn spawn_app() -> TestApp {
    let db = TestDatabase::create().await;
    let settings = test_settings(&db.url, &[]);
    let app = start(settings, Some(db)).await;
    app.wait_until_ready().await;
    app
}

/// The app with the given settings, not waiting for readiness.
pub async fn start(settings: Settings, db: Option<TestDatabase>) -> TestApp {
    let app = App::build(settings).await.expect("app builds");
    run(app, db)
}

/// The app on a listener the test bound, ready when this returns.
pub async fn start_on(
    listener: tokio::net::TcpListener,
    settings: Settings,
    db: TestDatabase,
) -> TestApp {
    let app = run_on(listener, settings, db);
    app.wait_until_ready().await;
    app
}

/// The app on a listener the test bound, not waiting for readiness.
pub fn run_on(listener: tokio::net::TcpListener, settings: Settings, db: TestDatabase) -> TestApp {
    run(App::with_listener(settings, listener).expect("app builds"), Some(db))
}

fn run(app: App, db: Option<TestDatabase>) -> TestApp {
    let addr = app.admin_addr();
    let webhook_addr = app.webhook_addr();
    let pool = app.pool().clone();
    let shutdown = CancellationToken::new();
    let task = tokio::spawn(app.run_until_stopped(shutdown.clone()));
    TestApp { addr, webhook_addr, http: reqwest::Client::new(), db, pool, shutdown, task }
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.http.get(self.url(path)).send().await.expect("admin server answers")
    }

    /// Polls `/readyz` until it answers 200, for at most 10 s.
    /// Start-up (connecting, migrating, checking the rules against the simulators) takes
    /// well under a second alone, but a whole suite starting daemons at once on two cores
    /// has been seen to need more than ten.
    pub async fn wait_until_ready(&self) {
        self.wait_for_readyz(200, Duration::from_secs(30)).await;
    }

    pub async fn wait_for_readyz(&self, status: u16, within: Duration) -> serde_json::Value {
        self.wait_for_readyz_where(status, within, |_| true).await
    }

    /// Polls `/readyz` until it answers 503 with this `code` in its body.
    pub async fn wait_for_unready_code(&self, code: &str, within: Duration) -> serde_json::Value {
        self.wait_for_readyz_where(503, within, |body| body["code"] == code).await
    }

    async fn wait_for_readyz_where(
        &self,
        status: u16,
        within: Duration,
        wanted: impl Fn(&serde_json::Value) -> bool,
    ) -> serde_json::Value {
        let deadline = tokio::time::Instant::now() + within;
        loop {
            let response = self.get("/readyz").await;
            let code = response.status().as_u16();
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            if code == status && wanted(&body) {
                return body;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "/readyz did not answer as wanted within {within:?}; last: {code} {body}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Cancels the app and returns how `run_until_stopped` ended.
    /// Waits for the app to stop by itself, at most `within`.
    pub async fn exited(self, within: Duration) -> Result<(), hubsync::app::AppError> {
        match tokio::time::timeout(within, self.task).await {
            Ok(joined) => joined.expect("app task"),
            Err(_) => panic!("the app did not stop by itself within {within:?}"),
        }
    }

    pub async fn stop(self) -> Result<(), hubsync::app::AppError> {
        self.shutdown.cancel();
        self.task.await.expect("app task")
    }
}
