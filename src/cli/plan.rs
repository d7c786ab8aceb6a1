//! `hubsync plan`: what the reconciler would create, update, delete and hold, per sync
//! block, without writing anything.

use chrono::{DateTime, Utc};
use clap::Args;
use sqlx::PgPool;

use super::CliError;
use crate::config::Settings;
use crate::operate::{BlockPlan, Preview, preview};
use crate::reconcile::gather::Sources;

#[derive(Debug, Args)]
pub struct PlanArgs {
    /// Also read the sources' changes since this RFC 3339 time or age (`2h`), without
    /// journalling them; otherwise only pending journal rows are planned.
    #[arg(long, value_parser = crate::journal::parse_when)]
    pub since: Option<DateTime<Utc>>,
    /// Only these [[sync]] blocks (repeatable).
    #[arg(long = "object", value_name = "SYNC_BLOCK")]
    pub objects: Vec<String>,
    /// Print JSON for scripts.
    #[arg(long)]
    pub json: bool,
}

pub async fn run(settings: &Settings, pool: &PgPool, args: PlanArgs) -> Result<(), CliError> {
    for name in &args.objects {
        if !settings.sync.iter().any(|rule| &rule.name == name) {
            let known: Vec<&str> = settings.sync.iter().map(|r| r.name.as_str()).collect();
            return Err(CliError::Usage(format!(
                "--object {name}: no such [[sync]] block; configured: {}",
                known.join(", ")
            )));
        }
    }
    let connectors =
        crate::ingest::plan::connectors(settings).map_err(crate::app::AppError::from)?;
    let sources = Sources::new(settings, connectors);
    let plan = preview(settings, pool, &sources, args.since, &args.objects)
        .await
        .map_err(|err| CliError::Usage(crate::error_kind::report(&err)))?;
    if args.json {
        println!("{}", serde_json::to_string_pretty(&plan).expect("a plan serializes"));
    } else {
        print_plan(&plan);
    }
    Ok(())
}

fn print_plan(plan: &Preview) {
    println!(
        "Planned {} pending journal rows and {} changes read from the sources. Nothing was written.",
        plan.pending_rows, plan.source_changes
    );
    if plan.blocks.is_empty() {
        println!("Nothing to do.");
        return;
    }
    let header = [
        "block",
        "create",
        "update",
        "delete",
        "associate",
        "conflicts",
        "held",
        "failing",
        "no write",
        "queued",
    ];
    let rows: Vec<Vec<String>> = plan.blocks.iter().map(|(name, block)| row(name, block)).collect();
    print!("{}", super::table::render(&header, &rows));
    println!(
        "create/update/delete read `hubspot+external`; conflicts are settled by the block's policy."
    );
}

fn row(name: &str, b: &BlockPlan) -> Vec<String> {
    let pair = |h: u64, e: u64| format!("{h}+{e}");
    vec![
        name.to_string(),
        pair(b.create_on_hubspot, b.create_on_external),
        pair(b.update_on_hubspot, b.update_on_external),
        pair(b.delete_on_hubspot, b.delete_on_external),
        b.associate.to_string(),
        (b.conflicts_won_by_hubspot + b.conflicts_won_by_external).to_string(),
        b.conflicts_held.to_string(),
        b.failures.to_string(),
        b.no_write.to_string(),
        b.queued_behind.to_string(),
    ]
}
