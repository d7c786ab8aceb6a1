//! Incremental reads by search, sorted by the last-modified property, with a (timestamp,
//! id) cursor. Each page restarts the search from the cursor with `GTE` and drops what the
//! cursor already covers, so paging never passes the 10,000-result cap and a record
//! updated mid-poll moves forward instead of shifting a page. The upper bound stays a
//! safety lag behind now, for the search index lag. When one timestamp fills a whole page,
//! its records are paged by `hs_object_id GT` inside that timestamp ("tie" mode).

use std::time::Duration;

use serde_json::Value;

use super::client::Client;
use super::reads::wanted;
use super::request::{self, ApiRequest, modified_property};
use super::response;
use crate::connector::{Change, ChangeCursor, ChangeKind, ChangePage, ConnectorError, Record};

/// Results per search call (HubSpot's maximum).
pub const PAGE: usize = 200;
const TIE: &str = "tie";
const DONE: &str = "done";

fn millis(record: &Record) -> i64 {
    record.modified_at.timestamp_millis()
}

fn upsert(record: Record) -> Change {
    Change {
        id: record.id.clone(),
        kind: ChangeKind::Upsert,
        modified_at: record.modified_at,
        record: Some(record),
    }
}

async fn search(
    client: &Client,
    object: &str,
    body: Value,
) -> Result<(Vec<Record>, bool), ConnectorError> {
    let mut request = ApiRequest::post(format!("{}/search", client.paths.objects(object)), body);
    request.search = true;
    let answer = client.call(&request).await?;
    let modified = modified_property(object);
    let paged = answer.body["paging"]["next"]["after"].is_string();
    let results = response::results(answer.body)?;
    let more = paged || results.len() >= PAGE;
    let records = results.into_iter().filter_map(|r| response::record(r, modified)).collect();
    Ok((records, more))
}

/// The number of live records, from a one-result search's `total`.
pub async fn count(client: &Client, object: &str) -> Result<Option<u64>, ConnectorError> {
    let body = serde_json::json!({ "limit": 1, "properties": ["hs_object_id"] });
    let mut request = ApiRequest::post(format!("{}/search", client.paths.objects(object)), body);
    request.search = true;
    let answer = client.call(&request).await?;
    Ok(answer.body["total"].as_u64())
}

/// One page of changes after `cursor`, never newer than `now - lag`.
pub async fn read_changes(
    client: &Client,
    object: &str,
    cursor: &ChangeCursor,
    fields: &[String],
    lag: Duration,
) -> Result<ChangePage, ConnectorError> {
    let properties = wanted(object, fields);
    if cursor.resume.as_deref() == Some(TIE) {
        return tie_page(client, object, cursor.modified_ms, &cursor.id, &properties).await;
    }
    // the portal's time, not this host's: a host clock running ahead would move the bound
    // past records the search index has not taken in yet
    let upper =
        (client.crm_clock.now() - chrono::Duration::from_std(lag).expect("lag")).timestamp_millis();
    let lower = match cursor.resume.as_deref() {
        Some(DONE) => cursor.modified_ms + 1,
        _ => cursor.modified_ms,
    };
    if lower > upper {
        return Ok(ChangePage { changes: Vec::new(), next: cursor.clone(), more: false });
    }
    let property = modified_property(object);
    let filters =
        vec![request::filter(property, "GTE", lower), request::filter(property, "LTE", upper)];
    let body = request::search_body(filters, property, &properties, PAGE);
    let (mut records, full) = search(client, object, body).await?;
    records.sort_by_key(|r| (millis(r), id_key(&r.id)));
    let fresh = || records.iter().filter(|r| !cursor.covers(millis(r), &r.id)).cloned();
    if !full {
        return Ok(deliver(fresh().collect(), cursor, false));
    }
    let newest = records.last().map(millis).unwrap_or(lower);
    let complete: Vec<Record> = fresh().filter(|r| millis(r) < newest).collect();
    if !complete.is_empty() {
        return Ok(deliver(complete, cursor, true));
    }
    if records.first().map(millis) == Some(newest) {
        let after = if newest == cursor.modified_ms { cursor.id.as_str() } else { "0" };
        return tie_page(client, object, newest, after, &properties).await;
    }
    // a full page of records the cursor already covers, then `newest`: its time is done
    let next = ChangeCursor { resume: Some(DONE.into()), ..cursor.clone() };
    Ok(ChangePage { changes: Vec::new(), next, more: true })
}

fn id_key(id: &str) -> (u8, u64, String) {
    let (kind, number, text) = crate::connector::id_order(id);
    (kind, number, text.to_string())
}

fn deliver(records: Vec<Record>, cursor: &ChangeCursor, more: bool) -> ChangePage {
    let next = match records.last() {
        Some(last) => ChangeCursor { modified_ms: millis(last), id: last.id.clone(), resume: None },
        None => cursor.clone(),
    };
    ChangePage { changes: records.into_iter().flat_map(with_merges).collect(), next, more }
}

/// A survivor of merges reports the records merged into it (`hs_merged_object_ids`)
/// before its own upsert, so the other side's partners are relinked, not duplicated.
fn with_merges(record: Record) -> Vec<Change> {
    let mut changes: Vec<Change> = response::merged_ids(&record)
        .into_iter()
        .map(|id| Change {
            id,
            kind: ChangeKind::Merge { into: record.id.clone() },
            modified_at: record.modified_at,
            record: None,
        })
        .collect();
    changes.push(upsert(record));
    changes
}

/// Records modified exactly at `at` with ids above `after`, in id order.
async fn tie_page(
    client: &Client,
    object: &str,
    at: i64,
    after: &str,
    properties: &[String],
) -> Result<ChangePage, ConnectorError> {
    let property = modified_property(object);
    let filters =
        vec![request::filter(property, "EQ", at), request::filter("hs_object_id", "GT", after)];
    let body = request::search_body(filters, "hs_object_id", properties, PAGE);
    let (mut records, full) = search(client, object, body).await?;
    records.sort_by_key(|r| id_key(&r.id));
    let last = records.last().map_or(after.to_string(), |r| r.id.clone());
    let resume = if full { TIE } else { DONE };
    let next = ChangeCursor { modified_ms: at, id: last, resume: Some(resume.into()) };
    Ok(ChangePage { changes: records.into_iter().map(upsert).collect(), next, more: true })
}

/// HubSpot refuses search bodies over 3,000 characters and `IN` lists over 100 values:
/// splits `keys` into lists that fit beside the requested properties.
fn search_chunks<'k>(keys: &'k [String], properties: &[String]) -> Vec<&'k [String]> {
    const BODY_LIMIT: usize = 3_000;
    let fixed = 300 + properties.iter().map(|p| p.len() + 3).sum::<usize>();
    let budget = BODY_LIMIT.saturating_sub(fixed).max(200);
    let mut chunks = Vec::new();
    let (mut start, mut size) = (0, 0);
    for (index, key) in keys.iter().enumerate() {
        let cost = key.len() + 3;
        if index > start && (size + cost > budget || index - start == 100) {
            chunks.push(&keys[start..index]);
            (start, size) = (index, 0);
        }
        size += cost;
    }
    if start < keys.len() {
        chunks.push(&keys[start..]);
    }
    chunks
}

/// Records by a property that need not be unique (email, domain), through search: one
/// `IN` search per 100 keys; where several records match a key, the oldest id wins.
pub async fn find_by_field(
    client: &Client,
    object: &str,
    property: &str,
    keys: &[String],
    fields: &[String],
) -> Result<Vec<crate::connector::ReadResult>, ConnectorError> {
    use crate::connector::ReadResult;
    let mut properties = super::reads::wanted(object, fields);
    if !properties.iter().any(|p| p == property) {
        properties.push(property.to_string());
    }
    let mut found: std::collections::HashMap<String, Record> = Default::default();
    for chunk in search_chunks(keys, &properties) {
        let filter = serde_json::json!({
            "propertyName": property, "operator": "IN", "values": chunk,
        });
        let body = request::search_body(vec![filter], "hs_object_id", &properties, PAGE);
        let (records, _) = search(client, object, body).await?;
        for record in records {
            let Some(key) = record.properties.get(property).and_then(|v| v.as_str()) else {
                continue;
            };
            let key = key.to_lowercase();
            let older = found.get(&key).is_none_or(|kept| id_key(&record.id) < id_key(&kept.id));
            if older {
                found.insert(key, record);
            }
        }
    }
    Ok(keys
        .iter()
        .map(|key| match found.get(&key.to_lowercase()) {
            Some(record) => ReadResult::Found(record.clone()),
            None => ReadResult::NotFound,
        })
        .collect())
}
