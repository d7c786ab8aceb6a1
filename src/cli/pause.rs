//! `hubsync pause SYNC` and `hubsync resume SYNC`: stop and restart a block's writes.

use clap::Args;
use sqlx::PgPool;

use super::CliError;
use super::confirm::{confirm, print_json};
use crate::config::Settings;
use crate::operate::{self, PauseOutcome};

#[derive(Debug, Args)]
pub struct PauseArgs {
    /// The `[[sync]]` block, e.g. `contacts`.
    pub sync: String,
    /// Why, for the status page and the audit trail.
    #[arg(long, default_value = "operator")]
    pub reason: String,
    /// Act without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

#[derive(Debug, Args)]
pub struct ResumeArgs {
    /// The `[[sync]]` block, e.g. `contacts`.
    pub sync: String,
    /// Act without asking for confirmation.
    #[arg(long)]
    pub yes: bool,
    #[arg(long)]
    pub json: bool,
}

pub async fn pause(pool: &PgPool, settings: &Settings, args: PauseArgs) -> Result<(), CliError> {
    operate::find_block(settings, &args.sync)?;
    let question = format!("pause the writes of sync `{}` ({})?", args.sync, args.reason);
    if !args.yes && !confirm("pause", &question)? {
        println!("nothing changed");
        return Ok(());
    }
    let actor = crate::store::audit::cli_actor();
    let outcome = operate::pause(pool, settings, &args.sync, &args.reason, &actor).await?;
    report(&outcome, args.json);
    Ok(())
}

pub async fn resume(pool: &PgPool, settings: &Settings, args: ResumeArgs) -> Result<(), CliError> {
    operate::find_block(settings, &args.sync)?;
    let question = format!("resume the writes of sync `{}`?", args.sync);
    if !args.yes && !confirm("resume", &question)? {
        println!("nothing changed");
        return Ok(());
    }
    let outcome =
        operate::resume(pool, settings, &args.sync, &crate::store::audit::cli_actor()).await?;
    report(&outcome, args.json);
    Ok(())
}

fn report(outcome: &PauseOutcome, json: bool) {
    if json {
        return print_json(outcome);
    }
    let sync = &outcome.sync;
    match (outcome.paused, outcome.changed) {
        (true, true) => println!("paused sync `{sync}`; resume with: hubsync resume {sync}"),
        (true, false) => println!(
            "sync `{sync}` was already paused ({} by {}); nothing changed",
            outcome.reason.as_deref().unwrap_or(""),
            outcome.paused_by.as_deref().unwrap_or("")
        ),
        (false, true) => println!("resumed sync `{sync}`"),
        (false, false) => println!("sync `{sync}` was not paused; nothing changed"),
    }
}
