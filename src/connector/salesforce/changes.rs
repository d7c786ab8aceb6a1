//! Incremental reads with `queryAll` on `SystemModstamp`: a (timestamp, Id) cursor, each
//! poll starting an overlap window before it to catch late commits, pages followed by
//! their query locator, duplicates within the overlap dropped, and deleted or merged rows
//! returned as delete and merge changes.

use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::Mutex;
use std::time::Duration;

use chrono::{DateTime, Utc};
use reqwest::Method;
use serde_json::Value;

use super::client::{Client, SfRequest};
use super::request::changes_soql;
use super::sobject::record;
use crate::connector::{Change, ChangeCursor, ChangeKind, ChangePage, ConnectorError};

/// Changes already delivered inside the overlap window, per object, so a poll's overlap
/// does not deliver them again (after a restart the journal's dedup key catches them).
///
/// Only what the cursor covers is ever held back. The cursor a poll starts from is the one
/// its poller committed, so a change after it was never journalled, even if an earlier read
/// delivered it: that read's commit failed, and the change must come again.
#[derive(Default)]
pub struct Delivered {
    seen: Mutex<HashMap<String, HashSet<Seen>>>,
}

/// A delivered version: the record, its stamp and a hash of what was read. Salesforce
/// stamps whole seconds, so two edits within one second share a stamp but not a hash.
#[derive(Hash, PartialEq, Eq)]
struct Seen {
    id: String,
    ms: i64,
    content: u64,
}

impl Seen {
    fn of(change: &Change) -> Seen {
        let mut hasher = std::hash::DefaultHasher::new();
        if let Some(record) = &change.record {
            record
                .properties
                .iter()
                .for_each(|(name, value)| (name, value.to_string()).hash(&mut hasher));
        }
        let ms = change.modified_at.timestamp_millis();
        Seen { id: change.id.clone(), ms, content: hasher.finish() }
    }
}

impl Delivered {
    fn contains(&self, object: &str, seen: &Seen) -> bool {
        let delivered = self.seen.lock().expect("delivered lock");
        delivered.get(object).is_some_and(|o| o.contains(seen))
    }

    /// Remembers `change` as delivered; forgets what fell out of the window.
    fn remember(&self, object: &str, seen: Seen, horizon: i64) {
        let mut delivered = self.seen.lock().expect("delivered lock");
        let object = delivered.entry(object.to_string()).or_default();
        if object.len() > 50_000 {
            object.retain(|s| s.ms >= horizon);
        }
        object.insert(seen);
    }
}

fn change(row: &Value) -> Option<Change> {
    let record = record(row)?;
    let kind = match (row["IsDeleted"].as_bool(), row["MasterRecordId"].as_str()) {
        (Some(true), Some(master)) => ChangeKind::Merge { into: master.to_string() },
        (Some(true), None) => ChangeKind::Delete,
        _ => ChangeKind::Upsert,
    };
    let (id, modified_at) = (record.id.clone(), record.modified_at);
    let record = (kind == ChangeKind::Upsert).then_some(record);
    Some(Change { id, kind, modified_at, record })
}

/// One page of changes after `cursor`.
pub async fn read_changes(
    client: &Client,
    delivered: &Delivered,
    object: &str,
    cursor: &ChangeCursor,
    fields: &[String],
    overlap: Duration,
) -> Result<ChangePage, ConnectorError> {
    let fresh = || {
        let from = DateTime::<Utc>::from_timestamp_millis(cursor.modified_ms).unwrap_or_default()
            - chrono::Duration::from_std(overlap).expect("overlap");
        let soql = changes_soql(object, fields, from.max(DateTime::UNIX_EPOCH))?;
        Ok::<_, ConnectorError>(SfRequest::new(Method::GET, "/queryAll").query("q", soql))
    };
    let body = match &cursor.resume {
        Some(locator) => {
            let request =
                SfRequest { absolute: true, ..SfRequest::new(Method::GET, locator.clone()) };
            match client.call(&request).await {
                // the locator is gone: expired, or its last page was served to a process
                // that died before committing it; read again from the cursor's position
                Err(err) if err.code() == Some("INVALID_QUERY_LOCATOR") => {
                    tracing::info!(object, "query locator no longer valid; querying again");
                    client.call(&fresh()?).await?
                }
                other => other?,
            }
        }
        None => client.call(&fresh()?).await?,
    };
    let horizon = cursor.modified_ms - 2 * overlap.as_millis() as i64;
    let mut next = ChangeCursor { resume: None, ..cursor.clone() };
    let mut changes = Vec::new();
    for row in body["records"].as_array().into_iter().flatten() {
        let Some(change) = change(row) else { continue };
        let ms = change.modified_at.timestamp_millis();
        let seen = Seen::of(&change);
        if !cursor.covers(ms, &change.id) {
            delivered.remember(object, seen, horizon);
        } else if delivered.contains(object, &seen) {
            continue;
        }
        // else a late commit inside the overlap: delivered each time the overlap reads it
        // (the journal's dedup key keeps one), since this poll's own commit may yet fail
        if !next.covers(ms, &change.id) {
            (next.modified_ms, next.id) = (ms, change.id.clone());
        }
        changes.push(change);
    }
    let locator = body["nextRecordsUrl"].as_str().filter(|_| body["done"] == false);
    next.resume = locator.map(str::to_string);
    Ok(ChangePage { changes, more: next.resume.is_some(), next })
}
