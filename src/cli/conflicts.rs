//! `hubsync conflicts ls|resolve`: the queue of same-field conflicts and their resolution.

use clap::{Args, Subcommand};
use sqlx::PgPool;

use super::CliError;
use super::confirm::{confirm, print_json};
use super::table::{clip, render};
use crate::config::Settings;
use crate::operate::{self, Conflict, ConflictFilter, ConflictStatus, Take};

#[derive(Debug, Subcommand)]
pub enum ConflictsCommand {
    /// List conflicts, newest first.
    Ls {
        /// open, resolved, auto or all.
        #[arg(long, default_value = "open", value_parser = ConflictStatus::parse)]
        status: ConflictStatus,
        /// Only this `[[sync]]` block.
        #[arg(long)]
        sync: Option<String>,
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Conflicts older than this id: the last id of the previous page.
        #[arg(long)]
        before: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Pick the value of an open conflict and write it.
    Resolve(ResolveArgs),
}

#[derive(Debug, Args)]
pub struct ResolveArgs {
    pub id: i64,
    /// hubspot, external, or value=TEXT (written to both sides).
    #[arg(long, value_parser = Take::parse)]
    pub take: Take,
    /// Act without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(
    pool: &PgPool,
    settings: &Settings,
    command: ConflictsCommand,
) -> Result<(), CliError> {
    match command {
        ConflictsCommand::Ls { status, sync, limit, before, json } => {
            if let Some(sync) = &sync {
                operate::find_block(settings, sync)?;
            }
            let filter = ConflictFilter { status, sync, before };
            let rows = operate::list_conflicts(pool, &filter, limit.clamp(1, 10_000)).await?;
            print_list(&rows, json);
            Ok(())
        }
        ConflictsCommand::Resolve(args) => resolve(pool, settings, args).await,
    }
}

fn print_list(rows: &[Conflict], json: bool) {
    if json {
        return print_json(&rows);
    }
    let headers = [
        "ID",
        "SYNC",
        "HUBSPOT",
        "EXTERNAL",
        "FIELD",
        "HUBSPOT VALUE",
        "EXTERNAL VALUE",
        "STATUS",
        "WINNER",
    ];
    let cells: Vec<Vec<String>> = rows.iter().map(cells).collect();
    print!("{}", render(&headers, &cells));
    match rows.last() {
        Some(last) => println!("({} conflicts; next page: --before {})", rows.len(), last.id),
        None => println!("(no conflicts)"),
    }
}

fn cells(c: &Conflict) -> Vec<String> {
    vec![
        c.id.to_string(),
        c.sync_name.clone(),
        c.hubspot_id.clone().unwrap_or_default(),
        c.external_id.clone().unwrap_or_default(),
        format!("{} / {}", c.hubspot_field, c.external_field),
        clip(c.hubspot_value.as_deref().unwrap_or(""), 30),
        clip(c.external_value.as_deref().unwrap_or(""), 30),
        c.status.clone(),
        c.winner.clone().unwrap_or_default(),
    ]
}

async fn resolve(pool: &PgPool, settings: &Settings, args: ResolveArgs) -> Result<(), CliError> {
    let filter =
        ConflictFilter { status: ConflictStatus::All, before: Some(args.id + 1), sync: None };
    let found = operate::list_conflicts(pool, &filter, 1).await?;
    let conflict = found
        .into_iter()
        .find(|c| c.id == args.id)
        .ok_or(CliError::NotFound(format!("conflict {}", args.id)))?;
    if !args.json {
        print_list(std::slice::from_ref(&conflict), false);
    }
    let question = format!("resolve conflict {} with {:?}?", args.id, args.take);
    if !args.yes && !confirm("conflicts resolve", &question)? {
        println!("nothing changed");
        return Ok(());
    }
    let actor = crate::store::audit::cli_actor();
    let done = operate::resolve_conflict(pool, settings, args.id, &args.take, &actor).await?;
    if args.json {
        print_json(&done);
    } else {
        println!(
            "resolved conflict {}; queued outbox item(s) {:?}",
            done.conflict.id, done.outbox_ids
        );
    }
    Ok(())
}
