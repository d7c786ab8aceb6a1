//! One record's whole history across both sides, in time order: captures and the decisions
//! taken on them, processing attempts, writes with the API's answers, conflicts, links,
//! merges, and what operators chose to do with its changes.

use chrono::{DateTime, Utc};
use serde::Serialize;
use serde_json::{Value, json};
use sqlx::PgPool;

use super::record::{LinkInfo, RecordRef, Resolved, resolve, triples};
use super::{Conflict, OperateError};
use crate::config::{Settings, Side};
use crate::journal::{self, JournalRow};
use crate::store;
use crate::store::journal::{Attempt, JournalFilter};
use crate::store::read::timeline::{self, OutboxItem};

#[derive(Debug, Clone, Serialize)]
pub struct Timeline {
    pub key: String,
    pub links: Vec<LinkInfo>,
    pub records: Vec<RecordRef>,
    pub entries: Vec<TimelineEntry>,
}

/// One event: `what` is capture, decision, attempt, write, answer, conflict, link, merge or
/// operator (a retry or skip an operator chose).
#[derive(Debug, Clone, Serialize)]
pub struct TimelineEntry {
    pub at: DateTime<Utc>,
    pub what: &'static str,
    pub side: Option<Side>,
    pub summary: String,
    pub detail: Value,
}

/// The timeline of the record `key` names.
pub async fn timeline(
    pool: &PgPool,
    settings: &Settings,
    key: &str,
) -> Result<Timeline, OperateError> {
    let Resolved { links, records } = resolve(pool, settings, key).await?;
    let records: Vec<RecordRef> = records.into_iter().collect();
    let rows = journal_rows(pool, &records).await?;
    let mut entries = Vec::new();
    for (row, updated_at) in &rows {
        entries.extend(captured(row, *updated_at));
        let attempts = store::journal::attempts(pool, row.id).await.map_err(query_error)?;
        entries.extend(attempts.iter().map(|a| attempt(row, a)));
    }
    let journal_ids: Vec<i64> = rows.iter().map(|(row, _)| row.id).collect();
    let ids: Vec<String> = records.iter().map(|r| r.record_id.clone()).collect();
    for item in timeline::outbox(pool, &journal_ids, &ids).await? {
        entries.extend(item.entries());
    }
    entries.extend(operator_actions(pool, &journal_ids).await?);
    let link_ids: Vec<i64> = links.iter().map(|l| l.id).collect();
    entries.extend(timeline::conflicts(pool, &link_ids, &ids).await?.iter().map(conflict));
    entries.extend(links.iter().flat_map(link_entries));
    entries.sort_by_key(|entry| entry.at);
    Ok(Timeline { key: key.to_string(), links, records, entries })
}

fn query_error(err: journal::JournalError) -> OperateError {
    match err {
        journal::JournalError::Query(err) => OperateError::Query(err),
        other => OperateError::BadInput(other.to_string()),
    }
}

async fn journal_rows(
    pool: &PgPool,
    records: &[RecordRef],
) -> Result<Vec<(JournalRow, DateTime<Utc>)>, OperateError> {
    let list: Vec<&RecordRef> = records.iter().collect();
    let (c, o, r) = triples(&list);
    let found = timeline::journal_ids(pool, c, o, r).await?;
    let ids = found.iter().map(|(id, _)| *id);
    let rows =
        store::journal::query(pool, &JournalFilter::ids(ids), 5000).await.map_err(query_error)?;
    let updated: std::collections::HashMap<i64, DateTime<Utc>> = found.into_iter().collect();
    Ok(rows
        .into_iter()
        .map(|row| {
            let updated_at = updated[&row.id];
            (row, updated_at)
        })
        .collect())
}

/// What operators did to the record's journal rows (retry, skip), from the audit log.
async fn operator_actions(
    pool: &PgPool,
    journal_ids: &[i64],
) -> Result<Vec<TimelineEntry>, OperateError> {
    let actions = timeline::operator_actions(pool, journal_ids).await?;
    Ok(actions
        .into_iter()
        .map(|(at, actor, action, ids)| {
            let verb = action.trim_start_matches("journal.");
            let rows: Vec<String> = ids.iter().map(i64::to_string).collect();
            TimelineEntry {
                at,
                what: "operator",
                side: None,
                summary: format!("{actor} chose {verb} for journal row {}", rows.join(", ")),
                detail: json!({ "actor": actor, "action": action, "journal_ids": ids }),
            }
        })
        .collect())
}

/// The capture of a change, and the decision taken on it once settled.
fn captured(row: &JournalRow, updated_at: DateTime<Utc>) -> Vec<TimelineEntry> {
    let fields: Vec<&str> = row.properties.keys().map(String::as_str).collect();
    let mut entries = vec![TimelineEntry {
        at: row.received_at,
        what: "capture",
        side: Some(row.side),
        summary: format!(
            "{} {} {} `{}` via {} ({})",
            row.kind.as_str(),
            row.connector,
            row.object_type,
            row.record_id,
            row.source,
            if fields.is_empty() { "no fields".to_string() } else { fields.join(", ") }
        ),
        detail: json!({ "journal_id": row.id, "occurred_at": row.occurred_at,
                        "properties": row.properties, "dedup_key": row.dedup_key }),
    }];
    let status = row.status.as_str();
    if !matches!(status, "pending" | "processing") {
        let reason = row.reason.as_deref().map(|r| format!(" ({r})")).unwrap_or_default();
        let error = row.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
        entries.push(TimelineEntry {
            at: updated_at.max(row.received_at),
            what: "decision",
            side: Some(row.side),
            summary: format!("journal row {} {status}{reason}{error}", row.id),
            detail: json!({ "journal_id": row.id, "status": status, "reason": row.reason,
                            "error_kind": row.error_kind, "last_error": row.last_error,
                            "attempts": row.attempts }),
        });
    }
    entries
}

fn attempt(row: &JournalRow, attempt: &Attempt) -> TimelineEntry {
    let message = attempt.message.as_deref().map(|m| format!(": {m}")).unwrap_or_default();
    TimelineEntry {
        at: attempt.at,
        what: "attempt",
        side: Some(row.side),
        summary: format!(
            "journal row {} attempt {} {}{message}",
            row.id, attempt.attempt, attempt.outcome
        ),
        detail: json!({ "journal_id": row.id, "attempt": attempt }),
    }
}

impl OutboxItem {
    fn side(&self) -> Option<Side> {
        journal::parse_side(&self.target_side).ok()
    }

    /// The write as queued, and its outcome once settled.
    fn entries(&self) -> Vec<TimelineEntry> {
        let target = self.target_id.as_deref().or(self.unique_value.as_deref()).unwrap_or("new");
        let fields: Vec<&str> = self
            .properties
            .as_object()
            .map(|m| m.keys().map(String::as_str).collect())
            .unwrap_or_default();
        let mut entries = vec![TimelineEntry {
            at: self.created_at,
            what: "write",
            side: self.side(),
            summary: format!(
                "{} queued: {} {} {} `{target}` ({})",
                self.intent,
                self.operation,
                self.connector,
                self.object_type,
                fields.join(", ")
            ),
            detail: json!({ "outbox_id": self.id, "sync": self.sync_name, "journal_id": self.journal_id,
                            "properties": self.properties }),
        }];
        if matches!(self.status.as_str(), "done" | "failed" | "dead" | "held") {
            let error = self.last_error.as_deref().map(|e| format!(": {e}")).unwrap_or_default();
            entries.push(TimelineEntry {
                at: self.updated_at.max(self.created_at),
                what: "answer",
                side: self.side(),
                summary: format!(
                    "outbox item {} {} after {} attempt(s){error}",
                    self.id, self.status, self.attempts
                ),
                detail: json!({ "outbox_id": self.id, "status": self.status,
                                "error_kind": self.error_kind, "last_error": self.last_error,
                                "last_result": self.last_result }),
            });
        }
        entries
    }
}

fn conflict(c: &Conflict) -> TimelineEntry {
    let outcome = match (c.status.as_str(), c.winner.as_deref()) {
        ("open", _) => "held for an operator".to_string(),
        (_, Some(winner)) => format!("{winner} won ({})", c.status),
        (status, None) => status.to_string(),
    };
    TimelineEntry {
        at: c.created_at,
        what: "conflict",
        side: None,
        summary: format!(
            "conflict {}: {} = {:?} vs {} = {:?}, {} by {}",
            c.id,
            c.hubspot_field,
            c.hubspot_value.as_deref().unwrap_or(""),
            c.external_field,
            c.external_value.as_deref().unwrap_or(""),
            outcome,
            c.policy
        ),
        detail: serde_json::to_value(c).unwrap_or(Value::Null),
    }
}

fn link_entries(link: &LinkInfo) -> Vec<TimelineEntry> {
    let mut entries = vec![TimelineEntry {
        at: link.created_at,
        what: "link",
        side: None,
        summary: format!(
            "linked in {}: hubspot `{}` ↔ external `{}`",
            link.sync_name, link.hubspot_id, link.external_id
        ),
        detail: json!({ "link_id": link.id }),
    }];
    for merged in &link.merged_from {
        entries.push(TimelineEntry {
            at: link.updated_at,
            what: "merge",
            side: Some(Side::Hubspot),
            summary: format!("hubspot `{merged}` merged into `{}`", link.hubspot_id),
            detail: json!({ "link_id": link.id, "merged_from": merged }),
        });
    }
    entries
}
