//! What the demo prints as it runs, read from the daemon's database: a one-line progress
//! summary, and each new conflict and failure as it appears.

use std::collections::HashSet;
use std::fmt;

use sqlx::PgPool;

use crate::store::read::demo;

/// The sync's state at one moment.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Progress {
    pub to_hubspot: i64,
    pub to_external: i64,
    /// Writes waiting to be sent, not counting `blocked`.
    pub queued: i64,
    /// Associations of a record whose write the other side refused: they wait for an
    /// operator to fix and retry that write (or fail once `writer.link_wait` passes).
    pub blocked: i64,
    pub links: i64,
    pub conflicts: i64,
    pub held: i64,
    pub failures: i64,
    pub pending: i64,
    /// Age of the oldest unprocessed journal row, in seconds.
    pub lag_seconds: Option<f64>,
}

impl Progress {
    /// Nothing left to do: no journal row or outbox item waiting.
    pub fn is_quiet(&self) -> bool {
        self.pending == 0 && self.queued == 0
    }

    /// The counts that show work moving (the lag changes by itself as time passes).
    pub fn movement(&self) -> [i64; 6] {
        [self.to_hubspot, self.to_external, self.queued, self.blocked, self.pending, self.failures]
    }
}

impl fmt::Display for Progress {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let lag = self.lag_seconds.map_or("-".to_string(), |s| format!("{s:.1}s"));
        let blocked = match self.blocked {
            0 => String::new(),
            n => format!(", {n} waiting on refused writes"),
        };
        write!(
            f,
            "writes done: {} to HubSpot, {} to Salesforce ({} queued{blocked}) | linked pairs: {} \
             | conflicts: {} ({} held) | failures: {} | journal pending: {} (lag {lag})",
            self.to_hubspot,
            self.to_external,
            self.queued,
            self.links,
            self.conflicts,
            self.held,
            self.failures,
            self.pending
        )
    }
}

/// Reads the progress summary.
pub async fn progress(pool: &PgPool) -> Result<Progress, sqlx::Error> {
    let row = demo::progress(pool).await?;
    let (to_hubspot, to_external, waiting, blocked, links, conflicts, held, failures, pending, lag) =
        row;
    Ok(Progress {
        to_hubspot,
        to_external,
        queued: waiting - blocked,
        blocked,
        links,
        conflicts,
        held,
        failures,
        pending,
        lag_seconds: lag,
    })
}

/// Remembers what was already printed, so each conflict and failure is printed once.
#[derive(Debug, Default)]
pub struct Watcher {
    last_conflict: i64,
    outbox_failures: HashSet<i64>,
    journal_failures: HashSet<i64>,
    paused: HashSet<String>,
}

impl Watcher {
    /// Lines for conflicts recorded since the last call.
    pub async fn new_conflicts(&mut self, pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
        let rows = demo::conflicts_after(pool, self.last_conflict).await?;
        let mut lines = Vec::with_capacity(rows.len());
        for (id, block, hs_field, ext_field, hs_value, ext_value, policy, winner, status) in rows {
            self.last_conflict = id;
            let outcome = match (winner.as_deref(), status.as_str()) {
                (Some("hubspot"), _) => "HubSpot's value wins".to_string(),
                (Some(_), _) => "Salesforce's value wins".to_string(),
                (None, "open") => "held for an operator".to_string(),
                (None, other) => other.to_string(),
            };
            lines.push(format!(
                "conflict #{id}: [{block}] {hs_field} / {ext_field}: HubSpot {} vs Salesforce {} \
                 → {outcome} ({policy})",
                quoted(hs_value.as_deref()),
                quoted(ext_value.as_deref()),
            ));
        }
        Ok(lines)
    }

    /// Lines for sync blocks paused since the last call (by the blast-radius guard or an
    /// operator), and for blocks resumed.
    pub async fn paused_blocks(&mut self, pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
        let rows = demo::paused(pool).await?;
        let now: HashSet<String> = rows.iter().map(|(block, _, _)| block.clone()).collect();
        let mut lines: Vec<String> = self
            .paused
            .difference(&now)
            .map(|block| format!("resumed: [{block}] writes flow again"))
            .collect();
        for (block, reason, detail) in rows {
            if !self.paused.contains(&block) {
                lines.push(format!(
                    "paused: [{block}] writes held ({reason}: {detail}); resume with \
                     `hubsync resume {block}`"
                ));
            }
        }
        self.paused = now;
        Ok(lines)
    }

    /// Lines for writes and changes that failed since the last call, with the API's message.
    pub async fn new_failures(&mut self, pool: &PgPool) -> Result<Vec<String>, sqlx::Error> {
        let mut lines = Vec::new();
        let outbox = demo::outbox_failures(pool).await?;
        for (id, block, side, object, source, target, journal, error) in outbox {
            if let Some(journal) = journal {
                self.journal_failures.insert(journal);
            }
            if !self.outbox_failures.insert(id) {
                continue;
            }
            let record = source.or(target).unwrap_or_else(|| "?".into());
            let towards = if side == "hubspot" { "HubSpot" } else { "Salesforce" };
            let message = error.unwrap_or_else(|| "no message".into());
            lines.push(format!(
                "failure: [{block}] write of {record} to {towards} {object} refused: {message}"
            ));
        }
        let journal = demo::journal_failures(pool).await?;
        for (id, side, object, record, error, reason) in journal {
            if !self.journal_failures.insert(id) {
                continue;
            }
            let message = error.or(reason).unwrap_or_else(|| "no message".into());
            lines.push(format!("failure: {side} {object} {record}: {message}"));
        }
        Ok(lines)
    }
}

fn quoted(value: Option<&str>) -> String {
    value.map_or("(blank)".into(), |v| format!("{v:?}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_progress_line_names_every_figure_an_operator_watches() {
        let progress = Progress {
            to_hubspot: 12,
            to_external: 30,
            queued: 4,
            blocked: 0,
            links: 40,
            conflicts: 3,
            held: 1,
            failures: 2,
            pending: 9,
            lag_seconds: Some(1.3),
        };
        let line = progress.to_string();
        for part in ["12 to HubSpot", "30 to Salesforce", "(4 queued)", "conflicts: 3 (1 held)"] {
            assert!(line.contains(part), "{part} in {line}");
        }
        assert!(line.contains("failures: 2") && line.contains("journal pending: 9 (lag 1.3s)"));
        assert!(!progress.is_quiet());
        let blocked = Progress { queued: 0, blocked: 3, pending: 0, ..progress };
        assert!(blocked.to_string().contains("(0 queued, 3 waiting on refused writes)"));
        assert!(blocked.is_quiet(), "writes waiting on a refused write do not keep a drain going");
    }
}
