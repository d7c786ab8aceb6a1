//! `hubsync journal ls|show|retry|skip|quarantine`: reading and steering the change journal.

use std::io::{BufRead, IsTerminal, Write};

use chrono::{DateTime, Utc};
use clap::{Args, Subcommand};
use serde_json::json;
use sqlx::PgPool;

use super::CliError;
use super::table::{clip, render};
use crate::config::Side;
use crate::journal::{self, JournalRow, Status};
use crate::store;
use crate::store::journal::{JournalFilter, OperatorAction};

#[derive(Debug, Subcommand)]
pub enum JournalCommand {
    /// List journal rows, newest first.
    Ls {
        #[command(flatten)]
        filter: FilterArgs,
        /// At most this many rows.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        /// Rows older than this id: the last id of the previous page.
        #[arg(long)]
        before: Option<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Show one row: the change, its payload and every attempt.
    Show {
        id: i64,
        #[arg(long)]
        json: bool,
    },
    /// Put failed, dead, skipped or conflicting rows back in the queue.
    Retry(Mutation),
    /// Mark pending, failed, dead or conflicting rows as skipped.
    Skip(Mutation),
    /// Signed webhook deliveries that did not parse: list, show, replay, drop.
    Quarantine {
        #[command(subcommand)]
        command: super::quarantine::QuarantineCommand,
    },
}

/// Which rows; every flag narrows the selection.
#[derive(Debug, Clone, Default, Args)]
pub struct FilterArgs {
    /// pending, processing, applied, echo, stale, skipped, conflict, failed or dead; repeatable.
    #[arg(long = "status", value_parser = parse_status)]
    pub statuses: Vec<Status>,
    /// Object type as the side names it, e.g. `contacts` or `Contact`.
    #[arg(long)]
    pub object: Option<String>,
    #[arg(long, value_parser = parse_side)]
    pub side: Option<Side>,
    /// Source record id.
    #[arg(long)]
    pub record: Option<String>,
    /// Received at or after: an RFC 3339 time, or an age such as `2h` or `3days`.
    #[arg(long, value_parser = journal::parse_when)]
    pub since: Option<DateTime<Utc>>,
    /// Received before: an RFC 3339 time, or an age.
    #[arg(long, value_parser = journal::parse_when)]
    pub until: Option<DateTime<Utc>>,
    /// transient, rate_limited, needs_operator or permanent.
    #[arg(long)]
    pub error_kind: Option<String>,
}

impl FilterArgs {
    fn is_empty(&self) -> bool {
        self.statuses.is_empty()
            && self.object.is_none()
            && self.side.is_none()
            && self.record.is_none()
            && self.since.is_none()
            && self.until.is_none()
            && self.error_kind.is_none()
    }

    fn to_filter(&self, ids: &[i64]) -> JournalFilter {
        JournalFilter {
            ids: ids.to_vec(),
            side: self.side,
            object_type: self.object.clone(),
            record_id: self.record.clone(),
            statuses: self.statuses.clone(),
            since: self.since,
            until: self.until,
            error_kind: self.error_kind.clone(),
            before_id: None,
        }
    }
}

#[derive(Debug, Args)]
pub struct Mutation {
    /// Row ids; or select rows with the filter flags instead.
    pub ids: Vec<i64>,
    #[command(flatten)]
    pub filter: FilterArgs,
    /// Act without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

/// Runs `command`; `webhook_connector` is the HubSpot connector whose webhooks are received.
pub async fn run(
    pool: &PgPool,
    webhook_connector: &str,
    command: JournalCommand,
) -> Result<(), CliError> {
    match command {
        JournalCommand::Ls { filter, limit, before, json } => {
            let filter = JournalFilter { before_id: before, ..filter.to_filter(&[]) };
            let rows = store::journal::query(pool, &filter, limit.clamp(1, 10_000)).await?;
            print_rows(&rows, json)
        }
        JournalCommand::Show { id, json } => show(pool, id, json).await,
        JournalCommand::Retry(mutation) => mutate(pool, mutation, OperatorAction::Retry).await,
        JournalCommand::Skip(mutation) => mutate(pool, mutation, OperatorAction::Skip).await,
        JournalCommand::Quarantine { command } => {
            super::quarantine::run(pool, webhook_connector, command).await
        }
    }
}

fn print_rows(rows: &[JournalRow], json: bool) -> Result<(), CliError> {
    if json {
        println!("{}", serde_json::to_string_pretty(rows).expect("rows serialize"));
        return Ok(());
    }
    let headers =
        ["ID", "RECEIVED", "SIDE", "OBJECT", "RECORD", "KIND", "STATUS", "TRIES", "ERROR"];
    let table: Vec<Vec<String>> = rows.iter().map(row_cells).collect();
    print!("{}", render(&headers, &table));
    if let Some(last) = rows.last() {
        println!("({} rows; next page: --before {})", rows.len(), last.id);
    } else {
        println!("(no rows)");
    }
    Ok(())
}

fn row_cells(row: &JournalRow) -> Vec<String> {
    vec![
        row.id.to_string(),
        row.received_at.format("%Y-%m-%d %H:%M:%S").to_string(),
        Side::as_str(row.side).to_string(),
        row.object_type.clone(),
        row.record_id.clone(),
        row.kind.as_str().to_string(),
        row.status.as_str().to_string(),
        row.attempts.to_string(),
        clip(row.last_error.as_deref().unwrap_or(""), 60),
    ]
}

async fn show(pool: &PgPool, id: i64, json: bool) -> Result<(), CliError> {
    let rows = store::journal::query(pool, &JournalFilter::ids([id]), 1).await?;
    let row = rows.into_iter().next().ok_or(CliError::NotFound(format!("journal row {id}")))?;
    let attempts = store::journal::attempts(pool, id).await?;
    if json {
        let body = json!({ "row": row, "attempts": attempts });
        println!("{}", serde_json::to_string_pretty(&body).expect("row serializes"));
        return Ok(());
    }
    print!("{}", describe(&row));
    let cells: Vec<Vec<String>> = attempts
        .iter()
        .map(|a| {
            vec![
                a.attempt.to_string(),
                a.at.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                a.outcome.clone(),
                a.error_kind.clone().unwrap_or_default(),
                a.message.clone().unwrap_or_default(),
            ]
        })
        .collect();
    println!("\nattempts:");
    print!("{}", render(&["#", "AT", "OUTCOME", "ERROR KIND", "ANSWER"], &cells));
    Ok(())
}

fn describe(row: &JournalRow) -> String {
    let mut out = format!(
        "journal row {}\n  change:    {} {} {} `{}` ({})\n  occurred:  {}\n  received:  {} by {}\n  status:    {} after {} attempt(s){}\n",
        row.id,
        Side::as_str(row.side),
        row.connector,
        row.object_type,
        row.record_id,
        row.kind.as_str(),
        row.occurred_at.to_rfc3339(),
        row.received_at.to_rfc3339(),
        row.source,
        row.status.as_str(),
        row.attempts,
        row.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default(),
    );
    if let Some(error) = &row.last_error {
        let kind = row.error_kind.as_deref().unwrap_or("unknown");
        out.push_str(&format!("  error:     [{kind}] {error}\n"));
    }
    out.push_str(&format!("  dedup key: {}\n  properties:\n", row.dedup_key));
    for (name, change) in &row.properties {
        let value = change.value.as_deref().unwrap_or("(blank)");
        let at = change.timestamp.map(|t| format!("  @ {}", t.to_rfc3339())).unwrap_or_default();
        out.push_str(&format!("    {name} = {value}{at}\n"));
    }
    out
}

/// Shows what the action will touch, asks unless `--yes`, then acts on exactly those rows
/// and audits it, in one transaction.
async fn mutate(pool: &PgPool, mutation: Mutation, action: OperatorAction) -> Result<(), CliError> {
    if mutation.ids.is_empty() && mutation.filter.is_empty() {
        return Err(CliError::Usage(format!(
            "journal {}: give row ids or at least one filter flag (--status, --object, …)",
            action.verb()
        )));
    }
    let targets = affected(pool, &mutation, action).await?;
    if targets.is_empty() {
        println!("no rows to {}", action.verb());
        return Ok(());
    }
    if !mutation.json {
        print_rows(&targets.iter().take(20).cloned().collect::<Vec<_>>(), false)?;
    }
    if !mutation.yes && !confirm(action, targets.len())? {
        println!("nothing changed");
        return Ok(());
    }
    let ids = JournalFilter::ids(targets.iter().map(|row| row.id));
    let changed =
        store::journal::act(pool, action, &ids, &crate::store::audit::cli_actor()).await?;
    report(action, &changed, mutation.json);
    Ok(())
}

async fn affected(
    pool: &PgPool,
    mutation: &Mutation,
    action: OperatorAction,
) -> Result<Vec<JournalRow>, CliError> {
    let mut filter = mutation.filter.to_filter(&mutation.ids);
    let allowed = action.movable();
    filter.statuses = if filter.statuses.is_empty() {
        allowed.to_vec()
    } else {
        filter.statuses.into_iter().filter(|s| allowed.contains(s)).collect()
    };
    if filter.statuses.is_empty() {
        return Ok(Vec::new());
    }
    Ok(store::journal::query(pool, &filter, 100_000).await?)
}

fn report(action: OperatorAction, changed: &[i64], json: bool) {
    if json {
        println!("{}", json!({ "action": action.verb(), "ids": changed }));
    } else {
        let done = match action {
            OperatorAction::Retry => "requeued",
            OperatorAction::Skip => "skipped",
        };
        println!("{done} {} row(s): {changed:?}", changed.len());
    }
}

fn confirm(action: OperatorAction, count: usize) -> Result<bool, CliError> {
    let stdin = std::io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::Usage(format!(
            "journal {}: refusing to change {count} row(s) without --yes (stdin is not a terminal)",
            action.verb()
        )));
    }
    print!("{} {count} row(s)? [y/N] ", action.verb());
    std::io::stdout().flush().ok();
    let mut answer = String::new();
    stdin.lock().read_line(&mut answer).ok();
    Ok(matches!(answer.trim(), "y" | "Y" | "yes"))
}

fn parse_status(text: &str) -> Result<Status, String> {
    journal::parse_status(text)
}

fn parse_side(text: &str) -> Result<Side, String> {
    journal::parse_side(text)
}
