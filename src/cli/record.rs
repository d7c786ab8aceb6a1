//! `hubsync record KEY`: one record's whole history across both sides, in time order.

use clap::Args;
use sqlx::PgPool;

use super::CliError;
use super::confirm::print_json;
use super::table::{clip, render};
use crate::config::Settings;
use crate::operate::{self, Timeline};

#[derive(Debug, Args)]
pub struct RecordArgs {
    /// A HubSpot hs_object_id, an external id, a unique key value or an email.
    pub key: String,
    #[arg(long)]
    pub json: bool,
}

pub async fn run(pool: &PgPool, settings: &Settings, args: RecordArgs) -> Result<(), CliError> {
    let timeline = operate::timeline(pool, settings, &args.key).await?;
    if args.json {
        print_json(&timeline);
    } else {
        print!("{}", describe(&timeline));
    }
    Ok(())
}

fn describe(timeline: &Timeline) -> String {
    let mut out = format!("record `{}`\n", timeline.key);
    for link in &timeline.links {
        let merged = if link.merged_from.is_empty() {
            String::new()
        } else {
            format!(" (merged from {})", link.merged_from.join(", "))
        };
        out.push_str(&format!(
            "  link {} in {}: hubspot {} <-> external {}{merged}\n",
            link.id, link.sync_name, link.hubspot_id, link.external_id
        ));
    }
    if timeline.links.is_empty() {
        out.push_str("  not linked\n");
    }
    let rows: Vec<Vec<String>> = timeline
        .entries
        .iter()
        .map(|e| {
            vec![
                e.at.format("%Y-%m-%d %H:%M:%S%.3f").to_string(),
                e.what.to_string(),
                e.side.map(|s| s.as_str().to_string()).unwrap_or_default(),
                clip(&e.summary, 140),
            ]
        })
        .collect();
    out.push('\n');
    out.push_str(&render(&["AT", "WHAT", "SIDE", "SUMMARY"], &rows));
    out
}
