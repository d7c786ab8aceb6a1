//! `hubsync journal quarantine ls|show|replay|drop`: the signed webhook deliveries that did
//! not parse, for an operator to read, replay after an upgrade, or drop.

use clap::Subcommand;
use serde_json::json;
use sqlx::PgPool;

use super::CliError;
use super::confirm::{confirm, print_json};
use super::table::{clip, render};
use crate::ingest::IngestError;
use crate::ingest::quarantine::{self, Replayed};
use crate::store::quarantine::Quarantined;

#[derive(Debug, Subcommand)]
pub enum QuarantineCommand {
    /// List quarantined deliveries, newest first.
    Ls {
        /// At most this many.
        #[arg(long, default_value_t = 50)]
        limit: i64,
        #[arg(long)]
        json: bool,
    },
    /// Print one delivery: why it was quarantined, then its body as received.
    Show { id: i64 },
    /// Parse deliveries again and journal their events if they parse now.
    Replay {
        #[arg(required = true)]
        ids: Vec<i64>,
        #[arg(long)]
        json: bool,
    },
    /// Delete deliveries for good.
    Drop {
        #[arg(required = true)]
        ids: Vec<i64>,
        /// Act without asking for confirmation.
        #[arg(long)]
        yes: bool,
    },
}

/// Runs `command`; replayed events are journalled for the HubSpot connector `connector`.
pub async fn run(
    pool: &PgPool,
    connector: &str,
    command: QuarantineCommand,
) -> Result<(), CliError> {
    match command {
        QuarantineCommand::Ls { limit, json } => {
            let entries = crate::store::quarantine::list(pool, limit.clamp(1, 10_000))
                .await
                .map_err(IngestError::from)?;
            print_entries(&entries, json);
            Ok(())
        }
        QuarantineCommand::Show { id } => show(pool, id).await,
        QuarantineCommand::Replay { ids, json } => replay(pool, connector, &ids, json).await,
        QuarantineCommand::Drop { ids, yes } => drop(pool, &ids, yes).await,
    }
}

fn print_entries(entries: &[Quarantined], json: bool) {
    if json {
        return print_json(&entries);
    }
    let headers = ["ID", "RECEIVED", "SOURCE", "BYTES", "REASON"];
    let rows: Vec<Vec<String>> = entries
        .iter()
        .map(|e| {
            let received = e.received_at.format("%Y-%m-%d %H:%M:%S").to_string();
            vec![
                e.id.to_string(),
                received,
                e.source.clone(),
                e.bytes.to_string(),
                clip(&e.reason, 80),
            ]
        })
        .collect();
    print!("{}", render(&headers, &rows));
    println!("({} quarantined)", entries.len());
}

async fn show(pool: &PgPool, id: i64) -> Result<(), CliError> {
    let found = crate::store::quarantine::get(pool, id).await.map_err(IngestError::from)?;
    let Some((entry, body)) = found else {
        return Err(CliError::NotFound(format!("quarantined delivery {id}")));
    };
    println!(
        "quarantined delivery {} from {}, received {}",
        entry.id,
        entry.source,
        entry.received_at.to_rfc3339()
    );
    println!("reason: {}", entry.reason);
    println!("body ({} bytes):", entry.bytes);
    println!("{}", String::from_utf8_lossy(&body));
    Ok(())
}

/// Replays each id in turn; a delivery that still does not parse stays, and the command
/// fails naming it once every other id was tried.
async fn replay(pool: &PgPool, connector: &str, ids: &[i64], json: bool) -> Result<(), CliError> {
    let actor = crate::store::audit::cli_actor();
    let mut outcomes = Vec::new();
    let mut refused = Vec::new();
    for &id in ids {
        let outcome = quarantine::replay(pool, id, connector, &actor).await?;
        let line = match &outcome {
            Replayed::Journalled { events, inserted } => {
                json!({"id": id, "replayed": true, "events": events, "journalled": inserted})
            }
            Replayed::StillMalformed(problem) => {
                refused.push(format!("{id}: still does not parse: {problem}"));
                json!({"id": id, "replayed": false, "problem": problem})
            }
            Replayed::NotFound => {
                refused.push(format!("{id}: no such quarantined delivery"));
                json!({"id": id, "replayed": false, "problem": "not found"})
            }
        };
        if !json && let Replayed::Journalled { events, inserted } = outcome {
            println!("replayed {id}: {events} event(s), {inserted} newly journalled");
        }
        outcomes.push(line);
    }
    if json {
        print_json(&outcomes);
    }
    if refused.is_empty() {
        Ok(())
    } else {
        Err(CliError::Usage(format!("not replayed (kept in quarantine): {}", refused.join("; "))))
    }
}

async fn drop(pool: &PgPool, ids: &[i64], yes: bool) -> Result<(), CliError> {
    let question = format!("delete {} quarantined deliver(ies) for good?", ids.len());
    if !yes && !confirm("journal quarantine drop", &question)? {
        println!("nothing changed");
        return Ok(());
    }
    let dropped = quarantine::drop(pool, ids, &crate::store::audit::cli_actor()).await?;
    println!("dropped {} deliver(ies): {dropped:?}", dropped.len());
    Ok(())
}
