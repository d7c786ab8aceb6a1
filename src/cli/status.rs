//! `hubsync status`: per sync block, lag, queues, rates, failures, pollers and pauses; per
//! connector, the rate budget left.

use clap::Args;
use sqlx::PgPool;

use super::CliError;
use super::confirm::print_json;
use super::table::render;
use crate::config::Settings;
use crate::operate::{self, StatusReport};

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[arg(long)]
    pub json: bool,
}

pub async fn run(pool: &PgPool, settings: &Settings, args: StatusArgs) -> Result<(), CliError> {
    let report = operate::status(pool, settings).await?;
    if args.json {
        print_json(&report);
    } else {
        print!("{}", describe(&report));
    }
    Ok(())
}

fn describe(report: &StatusReport) -> String {
    let mut out = String::new();
    if report.syncs.is_empty() {
        out.push_str("no [[sync]] blocks are configured\n");
    }
    for sync in &report.syncs {
        out.push_str(&block(sync));
    }
    let budgets: Vec<Vec<String>> = report
        .connectors
        .iter()
        .map(|c| match &c.budget {
            Some(b) => vec![
                c.connector.clone(),
                b.requests_per_second.map_or("unlimited".into(), |r| format!("{r:.1} req/s")),
                b.daily_remaining.map_or("-".into(), |d| d.to_string()),
                b.paused_until.map_or("-".into(), |t| t.to_rfc3339()),
                b.updated_at.format("%Y-%m-%d %H:%M:%S").to_string(),
            ],
            None => vec![c.connector.clone(), "not published (is the daemon running?)".into()],
        })
        .collect();
    out.push_str("\nrate budget:\n");
    out.push_str(&render(&["CONNECTOR", "BURST", "DAILY LEFT", "PAUSED UNTIL", "AS OF"], &budgets));
    out
}

fn block(sync: &operate::SyncStatus) -> String {
    let lag = match &sync.lag {
        Some(lag) => format!(
            "{:.0}s (journal row {} on {}, received {})",
            lag.age_seconds,
            lag.journal_id,
            lag.side.as_str(),
            lag.received_at.to_rfc3339()
        ),
        None => "none (nothing pending)".into(),
    };
    let rates = &sync.rates_5m;
    let mut out = format!(
        "sync {}\n  lag:        {lag}\n  queues:     journal {} pending, outbox {} pending\n  \
         last 5 min: {} changes received, {} writes done, {} writes failed\n",
        sync.name,
        sync.journal_depth,
        sync.outbox_depth,
        rates.changes_received,
        rates.writes_done,
        rates.writes_failed
    );
    out.push_str(&format!(
        "  failures:   journal {}; outbox {}\n",
        kinds(&sync.failures.journal),
        kinds(&sync.failures.outbox)
    ));
    for side in &sync.sides {
        out.push_str(&side_line(side));
    }
    match &sync.paused {
        Some(p) => out.push_str(&format!(
            "  PAUSED:     {} by {} at {}; resume with: {}\n",
            p.reason,
            p.paused_by,
            p.paused_at.to_rfc3339(),
            p.resume_command
        )),
        None => out.push_str("  paused:     no\n"),
    }
    out
}

fn side_line(side: &operate::SideStatus) -> String {
    let cursors: Vec<String> = side
        .cursors
        .iter()
        .map(|c| {
            format!(
                "{} at {} (updated {})",
                c.stream,
                c.position_ts.to_rfc3339(),
                c.updated_at.format("%Y-%m-%d %H:%M:%S")
            )
        })
        .collect();
    format!(
        "  {:<10}  {}/{}: poller {}, {} pending, cursors: {}\n",
        format!("{}:", side.side.as_str()),
        side.connector,
        side.object,
        if side.poller_live { "live" } else { "not running" },
        side.journal_depth,
        if cursors.is_empty() { "none".to_string() } else { cursors.join("; ") }
    )
}

fn kinds(counts: &std::collections::BTreeMap<String, i64>) -> String {
    if counts.is_empty() {
        return "none".into();
    }
    counts.iter().map(|(kind, n)| format!("{kind} {n}")).collect::<Vec<_>>().join(", ")
}
