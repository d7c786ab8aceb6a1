//! What a journal row says: the change observed, where it came from, and what became of it.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::config::Side;

/// One property's new value, with the source's timestamp for it where the source gives one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PropertyChange {
    pub value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub timestamp: Option<DateTime<Utc>>,
}

/// What happened to the record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    Upsert,
    Delete,
    /// The record was merged into `into`, which survives.
    Merge {
        into: String,
    },
    Restore,
    AssociationAdded,
    AssociationRemoved,
}

impl ChangeKind {
    pub fn as_str(&self) -> &'static str {
        match self {
            ChangeKind::Upsert => "upsert",
            ChangeKind::Delete => "delete",
            ChangeKind::Merge { .. } => "merge",
            ChangeKind::Restore => "restore",
            ChangeKind::AssociationAdded => "association_added",
            ChangeKind::AssociationRemoved => "association_removed",
        }
    }

    pub(crate) fn merged_into(&self) -> Option<String> {
        match self {
            ChangeKind::Merge { into } => Some(into.clone()),
            _ => None,
        }
    }

    pub(crate) fn from_parts(kind: &str, merged_into: Option<String>) -> Option<ChangeKind> {
        Some(match (kind, merged_into) {
            ("upsert", _) => ChangeKind::Upsert,
            ("delete", _) => ChangeKind::Delete,
            ("merge", Some(into)) => ChangeKind::Merge { into },
            ("restore", _) => ChangeKind::Restore,
            ("association_added", _) => ChangeKind::AssociationAdded,
            ("association_removed", _) => ChangeKind::AssociationRemoved,
            _ => return None,
        })
    }
}

/// How the change reached hubsync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Arrival {
    Poll,
    Webhook,
    Backfill,
    Sweep,
    Operator,
}

impl Arrival {
    pub fn as_str(self) -> &'static str {
        match self {
            Arrival::Poll => "poll",
            Arrival::Webhook => "webhook",
            Arrival::Backfill => "backfill",
            Arrival::Sweep => "sweep",
            Arrival::Operator => "operator",
        }
    }
}

/// Where a row stands in processing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    Pending,
    Processing,
    Applied,
    Echo,
    Stale,
    Skipped,
    Conflict,
    Failed,
    Dead,
}

impl Status {
    pub const ALL: [Status; 9] = [
        Status::Pending,
        Status::Processing,
        Status::Applied,
        Status::Echo,
        Status::Stale,
        Status::Skipped,
        Status::Conflict,
        Status::Failed,
        Status::Dead,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Status::Pending => "pending",
            Status::Processing => "processing",
            Status::Applied => "applied",
            Status::Echo => "echo",
            Status::Stale => "stale",
            Status::Skipped => "skipped",
            Status::Conflict => "conflict",
            Status::Failed => "failed",
            Status::Dead => "dead",
        }
    }

    pub fn parse(text: &str) -> Option<Status> {
        Status::ALL.into_iter().find(|s| s.as_str() == text)
    }
}

/// A change to append.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewChange {
    pub side: Side,
    pub connector: String,
    pub object_type: String,
    pub record_id: String,
    pub kind: ChangeKind,
    pub properties: BTreeMap<String, PropertyChange>,
    pub occurred_at: DateTime<Utc>,
    pub source: Arrival,
    /// Webhook event id, or object + id + modified timestamp for polls.
    pub dedup_key: String,
}

/// The property a delete carries when HubSpot announced it as a privacy deletion (GDPR):
/// the person asked to be forgotten, so the sync block's `privacy_deletion` policy applies.
pub const PRIVACY_DELETION: &str = "privacy_deletion";

/// A journal row as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct JournalRow {
    pub id: i64,
    pub side: Side,
    pub connector: String,
    pub object_type: String,
    pub record_id: String,
    pub kind: ChangeKind,
    pub properties: BTreeMap<String, PropertyChange>,
    pub occurred_at: DateTime<Utc>,
    pub received_at: DateTime<Utc>,
    pub source: String,
    pub dedup_key: String,
    pub status: Status,
    pub attempts: i32,
    pub next_attempt_at: DateTime<Utc>,
    pub claimed_by: Option<String>,
    pub error_kind: Option<String>,
    pub last_error: Option<String>,
    pub reason: Option<String>,
}

/// How a claimed row was settled by its consumer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Applied,
    Echo,
    Stale,
    Skipped,
    /// Held for an operator: both values kept, neither applied.
    Conflict,
}

impl Completion {
    pub fn status(self) -> Status {
        match self {
            Completion::Applied => Status::Applied,
            Completion::Echo => Status::Echo,
            Completion::Stale => Status::Stale,
            Completion::Skipped => Status::Skipped,
            Completion::Conflict => Status::Conflict,
        }
    }
}

impl JournalRow {
    /// A delete HubSpot announced as a privacy deletion.
    pub fn is_privacy_deletion(&self) -> bool {
        self.kind == ChangeKind::Delete && self.properties.contains_key(PRIVACY_DELETION)
    }
}
