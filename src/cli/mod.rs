//! The command line: `hubsync [--config FILE] <command>`, and what each command does.

mod backfill;
mod confirm;
mod conflicts;
mod demo;
mod journal;
mod pause;
mod plan;
mod quarantine;
mod record;
mod sim;
mod status;
mod table;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use tokio_util::sync::CancellationToken;

use crate::app::App;
use crate::config::{self, ConfigSources, Settings};
use crate::db;
use crate::telemetry::LogFormat;

#[derive(Debug, Parser)]
#[command(name = "hubsync", version, about = "Two-way sync between HubSpot and another CRM")]
pub struct Cli {
    /// A TOML file layered over the built-in defaults.
    #[arg(long, global = true, value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Log as human-readable lines or as JSON objects, on stderr.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Pretty)]
    pub log_format: LogFormat,
    /// Log filter, e.g. `info` or `debug,sqlx=warn`. Defaults to RUST_LOG, else `info`.
    #[arg(long, global = true, value_name = "FILTER")]
    pub log_level: Option<String>,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the daemon until SIGTERM or SIGINT.
    Run,
    /// Create hubsync's schema and apply pending migrations, then exit.
    Migrate,
    /// Validate the configuration and print it, secrets redacted.
    CheckConfig,
    /// Read every record of an object into the journal; resumable.
    Backfill(backfill::BackfillArgs),
    /// Show what the reconciler would create, update, delete and hold, writing nothing.
    Plan(plan::PlanArgs),
    /// Read and steer the change journal.
    Journal {
        #[command(subcommand)]
        command: journal::JournalCommand,
    },
    /// Per sync block: lag, queues, rates, failures, pollers, pauses; rate budgets.
    Status(status::StatusArgs),
    /// One record's whole history across both sides, in time order.
    Record(record::RecordArgs),
    /// The queue of same-field conflicts, and resolving them.
    Conflicts {
        #[command(subcommand)]
        command: conflicts::ConflictsCommand,
    },
    /// Stop a sync block's writes (they stay queued).
    Pause(pause::PauseArgs),
    /// Let a paused sync block's writes go again.
    Resume(pause::ResumeArgs),
    /// Sync two in-process simulators with live edits, report as it goes, then verify.
    Demo(demo::DemoArgs),
    /// Run a local simulator of a CRM API until SIGTERM or SIGINT.
    Sim {
        #[command(subcommand)]
        which: sim::SimCommand,
    },
}

impl Cli {
    /// The log filter: `--log-level`, else RUST_LOG, else `info` (`warn` for the demo, whose
    /// own report goes to stdout).
    pub fn log_filter(&self) -> String {
        let default = if matches!(self.command, Command::Demo(_)) { "warn" } else { "info" };
        self.log_level
            .clone()
            .or_else(|| std::env::var("RUST_LOG").ok().filter(|v| !v.is_empty()))
            .unwrap_or_else(|| default.into())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CliError {
    #[error(transparent)]
    Config(#[from] config::ConfigError),
    #[error(transparent)]
    Database(#[from] db::DbError),
    #[error(transparent)]
    App(#[from] crate::app::AppError),
    #[error(transparent)]
    Journal(#[from] crate::journal::JournalError),
    #[error(transparent)]
    Ingest(#[from] crate::ingest::IngestError),
    #[error(transparent)]
    Operate(#[from] crate::operate::OperateError),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Sim(#[from] sim::SimRunError),
    #[error(transparent)]
    Demo(#[from] crate::demo::DemoError),
}

/// Runs one command to completion.
pub async fn execute(cli: Cli) -> Result<ExitCode, CliError> {
    if let Command::Sim { which } = cli.command {
        sim::run(which).await?;
        return Ok(ExitCode::SUCCESS);
    }
    if let Command::Demo(args) = cli.command {
        return demo::run(cli.config, args).await;
    }
    if let Command::CheckConfig = cli.command {
        return check_config(&config::check(&ConfigSources::from_process(cli.config))?);
    }
    let settings = config::load(&ConfigSources::from_process(cli.config.clone()))?;
    match cli.command {
        Command::Migrate => migrate(&settings).await,
        Command::Run => run(settings).await,
        Command::Backfill(args) => {
            backfill::run(&settings, &connect(&settings).await?, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Plan(args) => {
            plan::run(&settings, &connect(&settings).await?, args).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Journal { command } => {
            let hook = settings.webhooks.hubspot.as_ref();
            let connector = hook.map_or("hubspot", |hook| hook.connector.as_str());
            journal::run(&connect(&settings).await?, connector, command).await?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Sim { .. } | Command::Demo(_) | Command::CheckConfig => {
            unreachable!("handled before the configuration is loaded")
        }
        command => operate(&settings, command).await,
    }
}

/// The operator commands on sync blocks: status, record, conflicts, pause, resume.
async fn operate(settings: &Settings, command: Command) -> Result<ExitCode, CliError> {
    let pool = connect(settings).await?;
    match command {
        Command::Status(args) => status::run(&pool, settings, args).await?,
        Command::Record(args) => record::run(&pool, settings, args).await?,
        Command::Conflicts { command } => conflicts::run(&pool, settings, command).await?,
        Command::Pause(args) => pause::pause(&pool, settings, args).await?,
        Command::Resume(args) => pause::resume(&pool, settings, args).await?,
        other => unreachable!("not an operator command: {other:?}"),
    }
    Ok(ExitCode::SUCCESS)
}

/// A pool for an operator command: the database must answer now, with no start-up wait.
async fn connect(settings: &Settings) -> Result<sqlx::PgPool, CliError> {
    let pool = db::lazy_pool(&settings.database)?;
    crate::store::server::ping(&pool).await.map_err(db::DbError::Query)?;
    Ok(pool)
}

/// Prints the effective config. Secrets that cannot be read here are shown as such and
/// warned about on stderr, but do not fail the check: `run` is where they are needed.
fn check_config(checked: &config::Checked) -> Result<ExitCode, CliError> {
    for problem in &checked.unavailable_secrets {
        eprintln!("warning: {problem}; `hubsync run` will refuse to start until it is available");
    }
    match checked.unavailable_secrets.len() {
        0 => println!("# configuration is valid; effective settings follow (secrets redacted)"),
        n => println!(
            "# configuration is valid, but {n} secret(s) cannot be read here (see the warnings); \
             effective settings follow (secrets redacted)"
        ),
    }
    print!("{}", config::render_redacted(&checked.settings));
    Ok(ExitCode::SUCCESS)
}

async fn migrate(settings: &Settings) -> Result<ExitCode, CliError> {
    let pool = db::lazy_pool(&settings.database)?;
    let shutdown = crate::shutdown::on_signals();
    db::wait_until_reachable(&settings.database, &shutdown).await?;
    let report = db::migrate(&pool).await?;
    match report.applied_now.as_slice() {
        [] => println!("schema is up to date (latest migration {})", report.latest),
        applied => println!("applied {} migration(s): {applied:?}", applied.len()),
    }
    Ok(ExitCode::SUCCESS)
}

async fn run(settings: Settings) -> Result<ExitCode, CliError> {
    let shutdown: CancellationToken = crate::shutdown::on_signals();
    let app = App::build(settings).await?;
    match app.webhook_addr() {
        Some(webhooks) => {
            tracing::info!(admin = %app.admin_addr(), %webhooks, "admin server listening")
        }
        None => tracing::info!(admin = %app.admin_addr(), "admin server listening"),
    }
    app.run_until_stopped(shutdown).await?;
    tracing::info!("stopped");
    Ok(ExitCode::SUCCESS)
}
