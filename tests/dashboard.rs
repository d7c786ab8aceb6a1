//! The dashboard at `/`: served open and embedded, and driven in headless Chromium through
//! chromedriver's WebDriver API: paste an operate token, retry a failed change, see it land.

use std::process::{Child, Command, Stdio};
use std::time::Duration;

use serde_json::{Value, json};

use crate::support::app::TestApp;
use crate::support::operate::{self, OPERATE, Row};

const CHROMIUM: &str = "/usr/bin/chromium";
const CHROMEDRIVER: &str = "/usr/bin/chromedriver";
const ELEMENT: &str = "element-6066-11e4-a52e-4f735466cecf";

#[tokio::test(flavor = "multi_thread")]
async fn the_dashboard_page_is_served_without_a_token_and_holds_no_data() {
    let app = operate::app().await;
    let page = app.get("/").await;
    assert_eq!(page.status().as_u16(), 200);
    assert!(page.headers()["content-type"].to_str().unwrap().starts_with("text/html"));
    let html = page.text().await.unwrap();
    assert!(html.contains("<script src=\"/dashboard.js\">"), "{html}");
    let script = app.get("/dashboard.js").await.text().await.unwrap();
    assert!(script.contains("sessionStorage") && script.contains("/api/journal/"));
    app.stop().await.unwrap();
}

/// chromedriver on a free port, killed on drop.
struct Driver {
    child: Child,
    url: String,
    http: reqwest::Client,
    session: String,
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Driver {
    async fn start(profile: &std::path::Path) -> Driver {
        let port = std::net::TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port();
        let child = Command::new(CHROMEDRIVER)
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver starts");
        let mut driver = Driver {
            child,
            url: format!("http://127.0.0.1:{port}"),
            http: reqwest::Client::new(),
            session: String::new(),
        };
        driver.wait_until_up().await;
        let args = [
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-quic",
            "--no-first-run",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-dev-shm-usage",
            "--window-size=1400,1000",
        ];
        let mut args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
        args.push(format!("--user-data-dir={}", profile.display()));
        let capabilities = json!({ "capabilities": { "alwaysMatch": {
            "browserName": "chrome",
            "goog:chromeOptions": { "binary": CHROMIUM, "args": args }
        }}});
        let created = driver.post("/session", capabilities).await;
        driver.session = created["sessionId"].as_str().expect("a session id").to_string();
        driver
    }

    async fn wait_until_up(&self) {
        for _ in 0..100 {
            if self.http.get(format!("{}/status", self.url)).send().await.is_ok() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("chromedriver did not start");
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        let response =
            self.http.post(format!("{}{path}", self.url)).json(&body).send().await.unwrap();
        let body: Value = response.json().await.unwrap();
        body["value"].clone()
    }

    async fn get(&self, path: &str) -> Value {
        let response = self.http.get(format!("{}{path}", self.url)).send().await.unwrap();
        let body: Value = response.json().await.unwrap();
        body["value"].clone()
    }

    fn at(&self, path: &str) -> String {
        format!("/session/{}{path}", self.session)
    }

    async fn goto(&self, url: &str) {
        self.post(&self.at("/url"), json!({ "url": url })).await;
    }

    /// The element `css` selects, waiting up to 10 s for it to appear.
    async fn find(&self, css: &str) -> String {
        for _ in 0..100 {
            if let Some(id) = self.try_find(css).await {
                return id;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let message = match self.try_find("#message").await {
            Some(id) => self.get(&self.at(&format!("/element/{id}/text"))).await,
            None => Value::Null,
        };
        panic!("no element {css} on the page; the page says {message}");
    }

    async fn try_find(&self, css: &str) -> Option<String> {
        let found =
            self.post(&self.at("/element"), json!({ "using": "css selector", "value": css })).await;
        found[ELEMENT].as_str().map(str::to_string)
    }

    async fn type_into(&self, css: &str, text: &str) {
        let element = self.find(css).await;
        self.post(&self.at(&format!("/element/{element}/value")), json!({ "text": text })).await;
    }

    async fn click(&self, css: &str) {
        let element = self.find(css).await;
        self.post(&self.at(&format!("/element/{element}/click")), json!({})).await;
    }

    async fn screenshot(&self, path: &std::path::Path) {
        let shot = self.get(&self.at("/screenshot")).await;
        let png = base64::Engine::decode(
            &base64::engine::general_purpose::STANDARD,
            shot.as_str().expect("a screenshot"),
        )
        .unwrap();
        std::fs::write(path, png).unwrap();
    }

    async fn quit(&self) {
        let _ = self.http.delete(format!("{}{}", self.url, self.at(""))).send().await;
    }
}

async fn status_of(app: &TestApp, id: i64) -> String {
    sqlx::query_scalar("select status from hubsync.journal where id = $1")
        .bind(id)
        .fetch_one(&app.pool)
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn an_operator_retries_a_failed_change_from_the_dashboard_in_a_real_browser() {
    if !std::path::Path::new(CHROMIUM).exists() || !std::path::Path::new(CHROMEDRIVER).exists() {
        let why = "headless Chromium is not installed (apt-get install chromium chromium-driver)";
        assert!(std::env::var_os("CI").is_none(), "{why}; CI must install it");
        eprintln!("skipped: {why}");
        return;
    }
    let app = operate::app().await;
    let failed = |record_id, kind, message| Row {
        record_id,
        status: "failed",
        error_kind: Some(kind),
        last_error: Some(message),
        ..Default::default()
    };
    let retried = operate::journal(
        &app.pool,
        failed("101", "permanent", "INVALID_EMAIL: not-an-email is invalid"),
    )
    .await;
    let other = operate::journal(
        &app.pool,
        failed("102", "needs_operator", "Property `region` does not exist"),
    )
    .await;
    let profile = tempfile::tempdir().unwrap();
    let driver = Driver::start(profile.path()).await;
    driver.goto(&app.url("/")).await;
    driver.type_into("#token", OPERATE).await;
    driver.click("#save-token").await;
    driver.find("body[data-loaded='true']").await;
    driver.find(&format!("button.retry[data-id='{other}']")).await;
    driver.click(&format!("button.retry[data-id='{retried}']")).await;
    let mut status = String::new();
    for _ in 0..100 {
        status = status_of(&app, retried).await;
        if status == "pending" {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(status, "pending", "the retry did not land");
    assert_eq!(status_of(&app, other).await, "failed", "only the clicked row moves");
    // cargo's scratch directory for integration tests, wherever the target directory is
    let shot = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("dashboard.png");
    driver.screenshot(&shot).await;
    driver.quit().await;
    assert!(std::fs::metadata(&shot).unwrap().len() > 1000);
    let (actor, action, ..) = operate::last_audit(&app.pool).await;
    assert_eq!((actor.as_str(), action.as_str()), ("token:oncall", "journal.retry"));
    app.stop().await.unwrap();
}
