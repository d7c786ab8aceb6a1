//! `hubsync backfill`: reads every record of an object into the journal, resumably, with a
//! progress bar on a terminal and log lines otherwise.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use clap::{Args, ValueEnum};
use indicatif::{ProgressBar, ProgressStyle};
use sqlx::PgPool;

use super::CliError;
use crate::config::{Settings, Side};
use crate::connector;
use crate::ingest::backfill::{Backfill, Checkpoint};
use crate::rules::feeds::{PollerSpec, specs};

#[derive(Debug, Args)]
pub struct BackfillArgs {
    /// A [[sync]] block's name, or an object on either side (`contacts`, `Contact`).
    #[arg(long)]
    pub object: String,
    #[arg(long, value_enum, default_value_t = SideChoice::Both)]
    pub side: SideChoice,
    /// Only records modified at or after this RFC 3339 time, date (`2026-11-30`, midnight
    /// UTC) or age (`30days`).
    #[arg(long, value_parser = crate::journal::parse_when)]
    pub since: Option<DateTime<Utc>>,
    /// Start over instead of resuming from the last checkpoint.
    #[arg(long)]
    pub restart: bool,
    /// How often a progress line is logged when stderr is not a terminal.
    #[arg(long, value_parser = humantime::parse_duration, default_value = "5s")]
    pub progress_every: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum SideChoice {
    Hubspot,
    External,
    Both,
}

pub async fn run(settings: &Settings, pool: &PgPool, args: BackfillArgs) -> Result<(), CliError> {
    let specs = chosen(settings, &args)?;
    for spec in specs {
        let config = &settings.connectors[&spec.connector];
        let api = connector::from_settings(&spec.connector, config, &settings.instance.id)
            .map_err(crate::ingest::IngestError::from)?;
        let backfill = Backfill::new(spec, api, pool.clone(), args.since);
        if args.restart {
            backfill.restart().await?;
        }
        drive(&backfill, args.progress_every).await?;
    }
    Ok(())
}

/// The pollers' specs the arguments name.
fn chosen(settings: &Settings, args: &BackfillArgs) -> Result<Vec<PollerSpec>, CliError> {
    let rules: Vec<_> = settings
        .sync
        .iter()
        .filter(|r| [&r.name, &r.hubspot_object, &r.external_object].contains(&&args.object))
        .collect();
    if rules.is_empty() {
        let known: Vec<_> = settings.sync.iter().map(|r| r.name.as_str()).collect();
        return Err(CliError::Usage(format!(
            "backfill: no [[sync]] block names object `{}`; configured: {}",
            args.object,
            if known.is_empty() { "none".to_string() } else { known.join(", ") }
        )));
    }
    let wanted = |spec: &PollerSpec| {
        let side_ok = match args.side {
            SideChoice::Both => true,
            SideChoice::Hubspot => spec.side == Side::Hubspot,
            SideChoice::External => spec.side == Side::External,
        };
        side_ok
            && rules.iter().any(|r| match spec.side {
                Side::Hubspot => {
                    r.hubspot_connector == spec.connector && r.hubspot_object == spec.object
                }
                Side::External => {
                    r.external_connector == spec.connector && r.external_object == spec.object
                }
            })
    };
    Ok(specs(settings).into_iter().filter(wanted).collect())
}

async fn drive(backfill: &Backfill, log_every: Duration) -> Result<(), CliError> {
    let spec = backfill.spec();
    let name = format!("{}/{}", spec.connector, spec.object);
    if backfill.checkpoint().await? == Checkpoint::Complete {
        println!("backfill {name}: already complete (use --restart to read everything again)");
        return Ok(());
    }
    let total = backfill.expected_total().await;
    // a resumed backfill's position starts at what its earlier runs read
    let before = backfill.records_read().await?;
    let progress = Progress::new(&name, total, before, log_every);
    let (mut read, mut appended) = (0usize, 0u64);
    loop {
        let page = backfill.next_page().await?;
        read += page.read;
        appended += page.appended;
        progress.update(before + read as u64, appended);
        if page.done {
            break;
        }
    }
    let elapsed = progress.finish();
    let rate = read as f64 / elapsed.as_secs_f64().max(0.001);
    let resumed = if before > 0 {
        format!(" (after {before} read before it resumed)")
    } else {
        String::new()
    };
    println!(
        "backfill {name}: {read} records read{resumed}, {appended} newly journalled in {:.1} s ({rate:.0} records/s)",
        elapsed.as_secs_f64()
    );
    Ok(())
}

/// A progress bar with records per second on a terminal; a log line every few seconds
/// otherwise. Positions count every record read since the backfill began, earlier runs
/// included; rates count this run's.
struct Progress {
    bar: Option<ProgressBar>,
    name: String,
    total: Option<u64>,
    /// Records read before this run.
    before: u64,
    started: Instant,
    log_every: Duration,
    last_log: std::cell::Cell<Instant>,
}

impl Progress {
    /// With a known total the bar shows its share done and an ETA; without, a spinner.
    fn new(name: &str, total: Option<u64>, before: u64, log_every: Duration) -> Self {
        let bar = std::io::stderr().is_terminal().then(|| {
            let (bar, template) = match total {
                Some(total) => (
                    ProgressBar::new(total),
                    "{prefix}: [{bar:30}] {pos}/{len} records ({per_sec}, ETA {eta}), {msg}",
                ),
                None => (
                    ProgressBar::new_spinner(),
                    "{spinner} {prefix}: {pos} records read ({per_sec}), {msg} [{elapsed_precise}]",
                ),
            };
            let style = ProgressStyle::with_template(template).expect("a valid template");
            bar.set_style(style);
            bar.set_prefix(name.to_string());
            // the rate and ETA measure this run: start the estimate at the earlier position
            bar.set_position(before);
            bar.tick();
            bar.reset_eta();
            bar.enable_steady_tick(Duration::from_millis(200));
            bar
        });
        let now = Instant::now();
        let last_log = std::cell::Cell::new(now);
        let name = name.to_string();
        Progress { bar, name, total, before, started: now, log_every, last_log }
    }

    /// `read` counts every record read since the backfill began.
    fn update(&self, read: u64, appended: u64) {
        if let Some(bar) = &self.bar {
            bar.set_position(read);
            bar.set_message(format!("{appended} journalled"));
        } else if self.last_log.get().elapsed() >= self.log_every {
            self.last_log.set(Instant::now());
            let elapsed = self.started.elapsed().as_secs_f64().max(0.001);
            let rate = read.saturating_sub(self.before) as f64 / elapsed;
            let eta_s = self
                .total
                .map(|t| (t.saturating_sub(read) as f64 / rate.max(0.001)).round() as u64);
            tracing::info!(backfill = %self.name, read, appended, total = self.total, rate = rate.round() as u64, eta_s, "backfill progress");
        }
    }

    fn finish(&self) -> Duration {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        self.started.elapsed()
    }
}
