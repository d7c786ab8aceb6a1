//! `hubsync demo`: parses its flags, runs [`crate::demo`], and exits 0 only when both sides
//! agree apart from the conflicts and failures it reported.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use clap::Args;

use super::CliError;
use crate::demo::{self, DemoOptions};

/// The demo's sync rules, relative to the repository root.
pub const DEFAULT_CONFIG: &str = "config/demo.toml";

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// How long to sync with live edits before stopping and verifying, e.g. `20s`, `2m`.
    #[arg(long, default_value = "2m", value_parser = humantime::parse_duration)]
    pub duration: Duration,
    /// Seed of the generated data and the live edits: the same seed, the same data.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Address of the demo daemon's admin API and webhook receiver (port 0 picks one).
    /// Defaults to `admin.listen` of the configuration.
    #[arg(long, value_name = "ADDR")]
    pub listen: Option<SocketAddr>,
    /// The database the demo drops and recreates on the configured Postgres server. Only
    /// `hubsync_demo` or `hubsync_demo_…` are accepted.
    #[arg(long, default_value = demo::database::DEFAULT_NAME)]
    pub database: String,
}

/// Runs the demo with `config` (default `config/demo.toml`) until Ctrl-C or `--duration`.
pub async fn run(config: Option<PathBuf>, args: DemoArgs) -> Result<ExitCode, CliError> {
    let options = DemoOptions {
        config: config.unwrap_or_else(|| PathBuf::from(DEFAULT_CONFIG)),
        env: std::env::vars().collect(),
        duration: args.duration,
        seed: args.seed,
        listen: args.listen,
        database: args.database,
    };
    let stop = crate::shutdown::on_signals();
    let verification = demo::run(options, stop).await?;
    Ok(if verification.passed() { ExitCode::SUCCESS } else { ExitCode::from(1) })
}
