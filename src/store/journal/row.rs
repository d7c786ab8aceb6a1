//! The journal's rows as Postgres holds them: the columns of a batched append, the columns a
//! read returns, and their conversion into [`JournalRow`]s.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use serde::Serialize;
use sqlx::FromRow;

use crate::config::Side;
use crate::journal::{ChangeKind, JournalError, JournalRow, NewChange, PropertyChange, Status};

/// The columns of a batch of changes, for one `unnest` insert, borrowed from the changes.
pub(crate) struct Columns<'c> {
    pub side: Vec<&'static str>,
    pub connector: Vec<&'c str>,
    pub object_type: Vec<&'c str>,
    pub record_id: Vec<&'c str>,
    pub kind: Vec<&'static str>,
    pub merged_into: Vec<Option<String>>,
    pub properties: Vec<sqlx::types::Json<StoredProperties<'c>>>,
    pub occurred_at: Vec<DateTime<Utc>>,
    pub source: Vec<&'static str>,
    pub dedup_key: Vec<&'c str>,
}

impl<'c> From<&'c [NewChange]> for Columns<'c> {
    fn from(changes: &'c [NewChange]) -> Self {
        Columns {
            side: changes.iter().map(|c| Side::as_str(c.side)).collect(),
            connector: changes.iter().map(|c| c.connector.as_str()).collect(),
            object_type: changes.iter().map(|c| c.object_type.as_str()).collect(),
            record_id: changes.iter().map(|c| c.record_id.as_str()).collect(),
            kind: changes.iter().map(|c| c.kind.as_str()).collect(),
            merged_into: changes.iter().map(|c| c.kind.merged_into()).collect(),
            properties: changes.iter().map(|c| sqlx::types::Json(StoredProperties(c))).collect(),
            occurred_at: changes.iter().map(|c| c.occurred_at).collect(),
            source: changes.iter().map(|c| c.source.as_str()).collect(),
            dedup_key: changes.iter().map(|c| c.dedup_key.as_str()).collect(),
        }
    }
}

/// A change's properties as the journal stores them, written straight into the insert: a
/// property's timestamp is kept only where it differs from the change's `occurred_at`,
/// which stands for it otherwise. A polled record's properties all carry the record's
/// modification time, so its row holds each value once instead of beside a copy of that
/// time: about half the bytes of every polled row.
pub(crate) struct StoredProperties<'c>(&'c NewChange);

impl Serialize for StoredProperties<'_> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let occurred_at = self.0.occurred_at;
        serializer.collect_map(self.0.properties.iter().map(|(name, change)| {
            let timestamp = change.timestamp.filter(|at| *at != occurred_at);
            (name, StoredProperty { value: &change.value, timestamp })
        }))
    }
}

/// [`PropertyChange`]'s stored shape, borrowed.
#[derive(Serialize)]
struct StoredProperty<'c> {
    value: &'c Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    timestamp: Option<DateTime<Utc>>,
}

/// The row as Postgres returns it, before its text columns are checked.
#[derive(FromRow)]
pub(crate) struct RawRow {
    id: i64,
    side: String,
    connector: String,
    object_type: String,
    record_id: String,
    kind: String,
    merged_into: Option<String>,
    properties: sqlx::types::Json<BTreeMap<String, PropertyChange>>,
    occurred_at: DateTime<Utc>,
    received_at: DateTime<Utc>,
    source: String,
    dedup_key: String,
    status: String,
    attempts: i32,
    next_attempt_at: DateTime<Utc>,
    claimed_by: Option<String>,
    error_kind: Option<String>,
    last_error: Option<String>,
    reason: Option<String>,
}

/// The condition of a queue row (journal or outbox) being processed. A claimed row stays
/// `pending` in the table, so claiming it changes no indexed column (a HOT update); it is
/// `processing` while its lease is live.
macro_rules! leased {
    () => {
        "status = 'pending' and coalesce(lease_until > now(), false)"
    };
}
pub(crate) use leased;

/// [`leased!`] as a constant, for status filters.
pub(crate) const LEASED: &str = leased!();

/// The columns `RawRow` reads, for `returning` and `select` lists; a leased row reads as
/// `processing`.
pub(crate) const ROW_COLUMNS: &str = concat!(
    "id, side, connector, object_type, record_id, kind, merged_into, properties, occurred_at, \
     received_at, source, dedup_key, case when ",
    leased!(),
    " then 'processing' else status end as status, attempts, next_attempt_at, claimed_by, \
     error_kind, last_error, reason"
);

impl TryFrom<RawRow> for JournalRow {
    type Error = JournalError;

    fn try_from(raw: RawRow) -> Result<Self, Self::Error> {
        use JournalError::Corrupt;
        let side = match raw.side.as_str() {
            "hubspot" => Side::Hubspot,
            "external" => Side::External,
            other => return Err(Corrupt(raw.id, "side", other.into())),
        };
        let kind = ChangeKind::from_parts(&raw.kind, raw.merged_into)
            .ok_or_else(|| Corrupt(raw.id, "kind", raw.kind.clone()))?;
        let status =
            Status::parse(&raw.status).ok_or_else(|| Corrupt(raw.id, "status", raw.status))?;
        // a property stored without its own timestamp changed when the record did
        let mut properties = raw.properties.0;
        for change in properties.values_mut() {
            change.timestamp.get_or_insert(raw.occurred_at);
        }
        Ok(JournalRow {
            id: raw.id,
            side,
            connector: raw.connector,
            object_type: raw.object_type,
            record_id: raw.record_id,
            kind,
            properties,
            occurred_at: raw.occurred_at,
            received_at: raw.received_at,
            source: raw.source,
            dedup_key: raw.dedup_key,
            status,
            attempts: raw.attempts,
            next_attempt_at: raw.next_attempt_at,
            claimed_by: raw.claimed_by,
            error_kind: raw.error_kind,
            last_error: raw.last_error,
            reason: raw.reason,
        })
    }
}

pub(crate) fn convert(rows: Vec<RawRow>) -> Result<Vec<JournalRow>, JournalError> {
    rows.into_iter().map(JournalRow::try_from).collect()
}
