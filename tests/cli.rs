//! The `hubsync` binary as an operator runs it: check-config, run and its shutdown.

use std::time::Duration;

use crate::support::binary::{RunningBinary, hubsync, run, text};
use crate::support::database::TestDatabase;

const TOKEN: &str = "pat-na1-11111111-2222-3333-4444-555555555555";
const SF_SECRET: &str = "sf-client-secret-0123456789";

/// The example config, its secrets from the environment, and its CRMs moved to a local
/// port where nothing listens: tests never reach out to the real APIs.
fn example_config() -> std::process::Command {
    let mut command = hubsync();
    command
        .args(["--config", "config/example.toml"])
        .env("HUBSPOT_TOKEN", TOKEN)
        .env("SF_CLIENT_SECRET", SF_SECRET)
        .env("HUBSYNC__CONNECTORS__HUBSPOT__BASE_URL", "http://127.0.0.1:9")
        .env("HUBSYNC__CONNECTORS__SALESFORCE__LOGIN_URL", "http://127.0.0.1:9");
    command
}

#[test]
fn check_config_prints_the_effective_config_with_secrets_redacted() {
    let output = run(example_config().arg("check-config"));
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    assert!(stdout.contains("token = \"[redacted]\""), "{stdout}");
    assert!(stdout.contains("client_secret = \"[redacted]\""), "{stdout}");
    assert!(stdout.contains("burst_per_10s = 190"), "tier limits are shown: {stdout}");
    for secret in [TOKEN, SF_SECRET] {
        assert!(!stdout.contains(secret) && !text(&output.stderr).contains(secret));
    }
}

/// The example config as shipped, in a shell where none of its secrets is set.
fn example_config_without_secrets() -> std::process::Command {
    let mut command = hubsync();
    command.args(["--config", "config/example.toml"]);
    command
}

#[test]
fn check_config_exits_non_zero_naming_the_bad_key_whether_or_not_the_secrets_are_set() {
    for mut config in [example_config(), example_config_without_secrets()] {
        let output = run(config
            .arg("check-config")
            .env("HUBSYNC__CONNECTORS__HUBSPOT__RATE_LIMIT__BURST_PER_10S", "0"));
        assert_eq!(output.status.code(), Some(1));
        let stderr = text(&output.stderr);
        assert!(
            stderr.contains(
                "connectors.hubspot.rate_limit.burst_per_10s: must be 1..=250, got 0 (from \
                 environment variable HUBSYNC__CONNECTORS__HUBSPOT__RATE_LIMIT__BURST_PER_10S)"
            ),
            "{stderr}"
        );
        assert!(text(&output.stdout).is_empty(), "no config is printed when it is invalid");
    }
}

#[test]
fn check_config_prints_the_config_when_its_secrets_are_not_set_here_and_warns_that_run_would_refuse()
 {
    let output = run(example_config_without_secrets().arg("check-config"));
    let stderr = text(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{stderr}");
    let stdout = text(&output.stdout);
    assert!(stdout.contains("token = \"[redacted: env HUBSPOT_TOKEN is not set]\""), "{stdout}");
    assert!(
        stdout.contains("client_secret = \"[redacted: env SF_CLIENT_SECRET is not set]\""),
        "{stdout}"
    );
    assert!(stdout.contains("name = \"contacts\""), "the whole config is printed: {stdout}");
    let warnings: Vec<&str> = stderr.lines().filter(|line| line.starts_with("warning: ")).collect();
    assert_eq!(
        warnings,
        [
            "warning: connectors.hubspot.auth.token: environment variable HUBSPOT_TOKEN is not \
             set (from config/example.toml); `hubsync run` will refuse to start until \
             it is available",
            "warning: connectors.salesforce.auth.client_secret: environment variable \
             SF_CLIENT_SECRET is not set (from config/example.toml); `hubsync run` \
             will refuse to start until it is available",
        ],
        "{stderr}"
    );
}

#[test]
fn run_refuses_to_start_naming_the_secret_that_is_not_set() {
    let output = run(example_config_without_secrets()
        .arg("run")
        .env("HUBSPOT_TOKEN", TOKEN)
        .env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0")
        .env("HUBSYNC__DATABASE__STARTUP_ATTEMPTS", "1"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(stderr.contains("secrets are not available, so hubsync cannot start"), "{stderr}");
    assert!(
        stderr.contains(
            "connectors.salesforce.auth.client_secret: environment variable SF_CLIENT_SECRET is \
             not set (from config/example.toml)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("connectors.hubspot.auth.token"), "HUBSPOT_TOKEN is set: {stderr}");
    assert!(!stderr.contains(TOKEN), "{stderr}");
}

#[test]
fn a_database_url_that_does_not_parse_is_refused_without_echoing_its_password() {
    let output = run(example_config()
        .arg("check-config")
        .env("DATABASE_URL", "postgres://hubsync:hunter2@db.internal:port/hubsync"));
    assert_eq!(output.status.code(), Some(1));
    let stderr = text(&output.stderr);
    assert!(
        stderr.contains(
            "database.url: `postgres://[redacted]@db.internal:port/hubsync` is not a URL: invalid \
             port number (from environment variable DATABASE_URL)"
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("hunter2"), "{stderr}");
}

#[test]
fn pretty_logs_on_a_pipe_are_plain_text_lines_without_colour_codes() {
    let output = run(hubsync()
        .args(["--log-level", "info", "run"])
        .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
        .env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0")
        .env("HUBSYNC__DATABASE__STARTUP_ATTEMPTS", "2")
        .env("HUBSYNC__DATABASE__ACQUIRE_TIMEOUT", "200ms")
        .env("HUBSYNC__DATABASE__STARTUP_RETRY_DELAY", "50ms"));
    let stderr = text(&output.stderr);
    assert!(!stderr.contains('\u{1b}'), "ANSI escape codes on a pipe: {stderr:?}");
    let lines: Vec<&str> = stderr.lines().filter(|line| !line.starts_with("error: ")).collect();
    let waiting = lines.iter().find(|line| line.contains("waiting for the database"));
    let waiting = waiting.unwrap_or_else(|| panic!("no start-up line: {stderr}"));
    assert!(waiting.contains(" INFO ") && waiting.contains("hubsync::app"), "{waiting}");
    let retrying = lines.iter().find(|line| line.contains("database not reachable yet, retrying"));
    assert!(retrying.is_some_and(|line| line.contains(" WARN ")), "{stderr}");
    for line in lines {
        assert!(serde_json::from_str::<serde_json::Value>(line).is_err(), "a JSON line: {line}");
    }
}

#[test]
fn an_unknown_command_or_log_format_is_a_usage_error() {
    let output = run(hubsync().arg("frobnicate"));
    assert_eq!(output.status.code(), Some(2));
    let output = run(hubsync().args(["--log-format", "xml", "check-config"]));
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("xml"), "{}", text(&output.stderr));
}

#[tokio::test]
async fn run_becomes_ready_and_exits_zero_on_sigterm_without_logging_secrets() {
    run_until_signal("TERM").await;
}

#[tokio::test]
async fn run_exits_zero_on_sigint_too() {
    run_until_signal("INT").await;
}

async fn run_until_signal(signal: &str) {
    let db = TestDatabase::create().await;
    let url_with_password =
        db.url.replacen("postgres://postgres@", "postgres://postgres:db-hunter2@", 1);
    let mut daemon = RunningBinary::spawn(
        example_config()
            .args(["--log-format", "json", "--log-level", "trace", "run"])
            .env("DATABASE_URL", &url_with_password)
            .env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0"),
    );
    let line = daemon.wait_for_line("admin server listening", Duration::from_secs(10));
    let log: serde_json::Value = serde_json::from_str(&line).expect("json log line");
    let admin = log["admin"].as_str().expect("admin address field").to_string();

    let ready = wait_ready(&admin, Duration::from_secs(5)).await;
    assert!(ready, "/readyz did not answer 200 within 5 s");

    daemon.send_signal(signal);
    let code = tokio::task::spawn_blocking(move || {
        let code = daemon.wait_for_exit(Duration::from_secs(5));
        (code, daemon.all_output())
    })
    .await
    .unwrap();
    assert_eq!(code.0, Some(0), "exit status after SIG{signal}; output:\n{}", code.1);
    for secret in [TOKEN, SF_SECRET, "db-hunter2"] {
        assert!(!code.1.contains(secret), "a secret reached the log");
    }
}

#[tokio::test]
async fn run_exits_non_zero_when_the_database_never_comes_up() {
    let mut daemon = RunningBinary::spawn(
        hubsync()
            .arg("run")
            .env("DATABASE_URL", "postgres://postgres@127.0.0.1:1/none")
            .env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0")
            .env("HUBSYNC__DATABASE__STARTUP_ATTEMPTS", "3")
            .env("HUBSYNC__DATABASE__ACQUIRE_TIMEOUT", "500ms")
            .env("HUBSYNC__DATABASE__STARTUP_RETRY_DELAY", "50ms"),
    );
    let (code, output) = tokio::task::spawn_blocking(move || {
        let code = daemon.wait_for_exit(Duration::from_secs(10));
        (code, daemon.all_output())
    })
    .await
    .unwrap();
    assert_eq!(code, Some(1), "{output}");
    let retries = output.matches("database not reachable yet, retrying").count();
    assert!((1..=3).contains(&retries), "one line per attempt at most, not a flood:\n{output}");
    assert!(output.contains("database unreachable after 3 attempts"), "{output}");
    assert!(!output.contains("panicked"), "no panic:\n{output}");
}

async fn wait_ready(admin: &str, within: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + within;
    while tokio::time::Instant::now() < deadline {
        let answer = reqwest::get(format!("http://{admin}/readyz")).await;
        if answer.is_ok_and(|r| r.status() == 200) {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    false
}
