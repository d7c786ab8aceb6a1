//! The shapes every connector speaks: object descriptions, records, change pages with their
//! cursors, per-item write results, associations and the rate budget.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error_kind::ErrorKind;

/// Field values by field name. HubSpot sends every value as a string; Salesforce sends
/// numbers and booleans as JSON. `Value::Null` is an empty field.
pub type Properties = BTreeMap<String, Value>;

/// What kind of data a field holds, in words both CRMs share.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FieldKind {
    Text,
    Number,
    Bool,
    Date,
    DateTime,
    /// One value from `options`.
    Enumeration,
    /// Several values from `options`, `;`-separated.
    MultiEnumeration,
    /// The id of another record (Salesforce lookups, HubSpot owner fields).
    Reference,
    /// Anything else, with the API's own type name.
    Other(String),
}

/// One allowed value of an enumeration field.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FieldOption {
    pub value: String,
    pub label: String,
    pub active: bool,
}

/// A field as the API describes it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FieldDescription {
    pub name: String,
    pub label: String,
    pub kind: FieldKind,
    /// The API's own type name (`enumeration`, `picklist`, …).
    pub api_type: String,
    pub options: Vec<FieldOption>,
    /// Neither set on create nor updated (system and calculated fields).
    pub read_only: bool,
    /// Can be set when a record is created.
    pub createable: bool,
    /// Can be changed on an existing record; a create-only field is createable only.
    pub updateable: bool,
    pub required: bool,
    /// Usable as an upsert key (HubSpot `hasUniqueValue`, Salesforce External ID).
    pub unique: bool,
}

/// An object type and its fields.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ObjectDescription {
    pub name: String,
    pub fields: Vec<FieldDescription>,
}

impl ObjectDescription {
    pub fn field(&self, name: &str) -> Option<&FieldDescription> {
        self.fields.iter().find(|f| f.name.eq_ignore_ascii_case(name))
    }

    /// Checks a mapped field against the API: that it exists, can be written when hubsync
    /// writes it, has the expected kind, and accepts each of `values` (for enumerations).
    pub fn check(&self, mapped: &MappedField) -> Vec<FieldProblem> {
        let Some(field) = self.field(&mapped.name) else {
            return vec![FieldProblem::Missing];
        };
        let mut problems = Vec::new();
        if mapped.written && field.read_only {
            problems.push(FieldProblem::ReadOnly);
        } else if mapped.written && !field.updateable {
            problems.push(FieldProblem::NotUpdateable);
        }
        if mapped.kind.as_ref().is_some_and(|kind| *kind != field.kind) {
            problems.push(FieldProblem::Kind { actual: field.kind.clone() });
        }
        let enumerated = matches!(field.kind, FieldKind::Enumeration | FieldKind::MultiEnumeration);
        for value in mapped.values.iter().filter(|_| enumerated) {
            if !field.options.iter().any(|o| o.active && o.value == *value) {
                problems.push(FieldProblem::UnknownOption(value.clone()));
            }
        }
        problems
    }
}

/// How a sync rule uses a field, to check against [`ObjectDescription`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MappedField {
    pub name: String,
    /// hubsync writes this field on this side.
    pub written: bool,
    /// The kind the mapping's transform expects, if it cares.
    pub kind: Option<FieldKind>,
    /// Values a value map sends to this field.
    pub values: Vec<String>,
}

/// What is wrong with a mapped field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum FieldProblem {
    Missing,
    ReadOnly,
    /// Set on create only, but hubsync also updates existing records through it.
    NotUpdateable,
    Kind {
        actual: FieldKind,
    },
    UnknownOption(String),
}

/// A record as read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Record {
    pub id: String,
    pub properties: Properties,
    pub modified_at: DateTime<Utc>,
    pub archived: bool,
}

/// Where a change-read stands: the last change delivered, ordered by (timestamp, id).
/// Ingest stores it as an opaque string ([`ChangeCursor::encode`]).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ChangeCursor {
    /// Milliseconds since the epoch of the last delivered change (0 = from the start).
    pub modified_ms: i64,
    /// Id of the last delivered change at `modified_ms`.
    pub id: String,
    /// Connector-specific paging state inside one read (a query locator, a tie mode).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resume: Option<String>,
}

impl ChangeCursor {
    /// From the beginning: a full backfill through the change feed.
    pub fn start() -> Self {
        ChangeCursor::default()
    }

    pub fn encode(&self) -> String {
        serde_json::to_string(self).expect("a cursor serializes")
    }

    pub fn decode(text: &str) -> Result<Self, serde_json::Error> {
        serde_json::from_str(text)
    }

    /// Whether `(ms, id)` comes at or before this cursor.
    pub fn covers(&self, ms: i64, id: &str) -> bool {
        (ms, id_order(id)) <= (self.modified_ms, id_order(&self.id))
    }
}

/// Orders ids numerically when they are numbers (HubSpot), else as text (Salesforce).
pub fn id_order(id: &str) -> (u8, u64, &str) {
    match id.parse::<u64>() {
        Ok(n) => (0, n, ""),
        Err(_) => (1, 0, id),
    }
}

/// What happened to a record.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum ChangeKind {
    /// Created or updated; the record is attached.
    Upsert,
    /// Deleted (archived, moved to the recycle bin).
    Delete,
    /// Merged away into the record `into`.
    Merge { into: String },
}

/// One observed change.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Change {
    pub id: String,
    pub kind: ChangeKind,
    pub modified_at: DateTime<Utc>,
    /// The record's values for an upsert.
    pub record: Option<Record>,
}

/// One page of changes and where the next one starts.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangePage {
    pub changes: Vec<Change>,
    pub next: ChangeCursor,
    /// More changes are ready now; false means caught up (poll again later).
    pub more: bool,
}

/// One page of a full listing.
#[derive(Debug, Clone, PartialEq)]
pub struct RecordPage {
    pub records: Vec<Record>,
    /// Pass back to get the next page; `None` on the last page.
    pub next: Option<String>,
}

/// A record that was deleted, from the delete safety net.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    pub id: String,
    pub deleted_at: DateTime<Utc>,
    /// The surviving record, when the delete was the losing side of a merge.
    pub merged_into: Option<String>,
}

/// How records are looked up in a batch read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Lookup {
    /// By the API's record id.
    Id,
    /// By a unique field's value.
    Unique(String),
    /// By a field that need not be unique, such as a contact's email or a company's domain
    /// (a natural key); compared case-insensitively, and the oldest matching record wins.
    Field(String),
}

/// One record to upsert: the unique key's value and the fields to set.
#[derive(Debug, Clone, PartialEq)]
pub struct UpsertItem {
    pub key: String,
    pub properties: Properties,
}

/// One record to update by id.
#[derive(Debug, Clone, PartialEq)]
pub struct UpdateItem {
    pub id: String,
    pub properties: Properties,
}

/// Why an item may succeed if tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RetryReason {
    RateLimited,
    ServerError,
    Lock,
    Timeout,
}

/// The outcome of one item of a batch.
#[derive(Debug, Clone, PartialEq)]
pub enum ItemResult {
    /// Written (or read); `created` where the API says whether it was new.
    Success {
        id: String,
        created: Option<bool>,
    },
    /// Try again later, after `wait` if the API named one.
    Retryable {
        reason: RetryReason,
        wait: Option<Duration>,
        message: String,
    },
    /// The API refused it; the same input fails the same way.
    Permanent {
        code: String,
        message: String,
        field: Option<String>,
    },
    NotFound,
}

impl ItemResult {
    pub fn is_success(&self) -> bool {
        matches!(self, ItemResult::Success { .. })
    }

    /// The shared classification, for the writer's retry decision.
    pub fn error_kind(&self) -> Option<ErrorKind> {
        match self {
            ItemResult::Success { .. } => None,
            ItemResult::Retryable { reason: RetryReason::RateLimited, .. } => {
                Some(ErrorKind::RateLimited)
            }
            ItemResult::Retryable { .. } => Some(ErrorKind::Transient),
            ItemResult::Permanent { .. } | ItemResult::NotFound => Some(ErrorKind::Permanent),
        }
    }

    pub(crate) fn permanent(code: &str, message: impl Into<String>, field: Option<String>) -> Self {
        ItemResult::Permanent { code: code.to_string(), message: message.into(), field }
    }
}

/// The result of reading one requested key.
#[derive(Debug, Clone, PartialEq)]
pub enum ReadResult {
    Found(Record),
    /// Positive proof that no live record has this key: by id, the API named this exact id
    /// as not found or deleted (HubSpot `OBJECT_NOT_FOUND` or `archived`, Salesforce
    /// `IsDeleted` or a 404 `NOT_FOUND`); by a unique or natural key, a complete answer
    /// listed no match.
    NotFound,
    /// The answer proved neither: no result and no not-found error for this key, or an
    /// error of another kind. Never proof that a record is gone; read again later.
    Unknown {
        reason: String,
    },
}

/// A link between two records of two object types.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct AssociationLink {
    pub from_id: String,
    pub to_id: String,
    /// The API's association type (HubSpot type id, Salesforce lookup field); `None` for
    /// the default.
    pub label: Option<String>,
}

/// The records one record is linked to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AssociationSet {
    pub from_id: String,
    pub links: Vec<AssociationLink>,
}

/// An owner (HubSpot owner, Salesforce user): who a record is assigned to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Owner {
    pub id: String,
    pub email: Option<String>,
    pub active: bool,
}

/// What the connector may spend right now, for status pages and schedulers.
#[derive(Debug, Clone, PartialEq)]
pub struct RateBudget {
    /// Sustained requests per second the limiter allows.
    pub requests_per_second: f64,
    /// Requests left today (HubSpot daily budget, Salesforce share of the allocation).
    pub daily_remaining: Option<u64>,
    /// Spending is stopped until this instant (daily budget out, limit exceeded).
    pub paused_until: Option<DateTime<Utc>>,
}

/// Parses a timestamp as the APIs send them: ISO 8601 (with `Z` or `+0000`) or epoch ms.
pub fn parse_time(text: &str) -> Option<DateTime<Utc>> {
    if let Ok(ms) = text.parse::<i64>() {
        return DateTime::from_timestamp_millis(ms);
    }
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S%.f%z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cursor_survives_being_stored_as_text() {
        let cursor = ChangeCursor { modified_ms: 5, id: "12".into(), resume: None };
        assert_eq!(ChangeCursor::decode(&cursor.encode()).unwrap(), cursor);
    }

    #[test]
    fn numeric_ids_order_as_numbers_at_one_timestamp() {
        let cursor = ChangeCursor { modified_ms: 5, id: "9".into(), resume: None };
        assert!(cursor.covers(5, "8") && cursor.covers(4, "100"));
        assert!(!cursor.covers(5, "10") && !cursor.covers(6, "1"));
    }

    #[test]
    fn a_mapping_is_checked_for_existence_writability_kind_and_picklist_values() {
        let field = |name: &str, kind: FieldKind, read_only: bool| FieldDescription {
            name: name.into(),
            label: name.into(),
            kind,
            api_type: String::new(),
            options: vec![FieldOption { value: "Open".into(), label: "Open".into(), active: true }],
            read_only,
            createable: !read_only,
            updateable: !read_only,
            required: false,
            unique: false,
        };
        let object = ObjectDescription {
            name: "Lead".into(),
            fields: vec![
                field("Status", FieldKind::Enumeration, false),
                field("CreatedDate", FieldKind::DateTime, true),
            ],
        };
        let mapped = |name: &str, kind: Option<FieldKind>, values: &[&str]| MappedField {
            name: name.into(),
            written: true,
            kind,
            values: values.iter().map(|v| v.to_string()).collect(),
        };
        assert!(object.check(&mapped("status", None, &["Open"])).is_empty());
        assert_eq!(
            object.check(&mapped("Status", None, &["Closed"])),
            vec![FieldProblem::UnknownOption("Closed".into())]
        );
        assert_eq!(object.check(&mapped("Nope", None, &[])), vec![FieldProblem::Missing]);
        assert_eq!(
            object.check(&mapped("CreatedDate", Some(FieldKind::Date), &[])),
            vec![FieldProblem::ReadOnly, FieldProblem::Kind { actual: FieldKind::DateTime }]
        );
    }

    #[test]
    fn a_create_only_field_is_reported_when_hubsync_writes_it_and_fine_when_it_only_reads() {
        let object = ObjectDescription {
            name: "Contact".into(),
            fields: vec![FieldDescription {
                name: "Origin__c".into(),
                label: "Origin".into(),
                kind: FieldKind::Text,
                api_type: "string".into(),
                options: Vec::new(),
                read_only: false,
                createable: true,
                updateable: false,
                required: false,
                unique: false,
            }],
        };
        let mapped = |written| MappedField {
            name: "Origin__c".into(),
            written,
            kind: None,
            values: Vec::new(),
        };
        assert_eq!(object.check(&mapped(true)), vec![FieldProblem::NotUpdateable]);
        assert!(object.check(&mapped(false)).is_empty());
    }

    #[test]
    fn both_apis_timestamp_formats_parse() {
        let a = parse_time("2013-05-20T20:49:32.000+0000").unwrap();
        let b = parse_time("2013-05-20T20:49:32.000Z").unwrap();
        assert_eq!(a, b);
        assert_eq!(parse_time(&a.timestamp_millis().to_string()), Some(a));
    }
}
