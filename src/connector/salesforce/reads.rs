//! Reads: by Id or External ID, a full listing, `getDeleted` as the delete safety net,
//! owners (users), describe, and associations as lookup fields.

use std::collections::HashMap;

use chrono::{DateTime, Duration, SecondsFormat, Utc};
use reqwest::Method;
use serde_json::{Value, json};

use super::client::{Client, SfRequest};
use super::request::{all_soql, mergeable, where_in_soql};
use super::sobject::record;
use crate::connector::{
    AssociationLink, AssociationSet, ConnectorError, Deleted, FieldDescription, FieldKind,
    FieldOption, Lookup, ObjectDescription, Owner, ReadResult, Record, RecordPage, parse_time,
};
use crate::error_kind::ErrorKind;

/// Rows of a SOQL query, following its locators to the end.
pub async fn query_all_pages(client: &Client, soql: String) -> Result<Vec<Value>, ConnectorError> {
    every_page(client, "/query", soql).await
}

/// Every row of `soql` through `endpoint` (`/query`, or `/queryAll` for deleted rows too).
async fn every_page(
    client: &Client,
    endpoint: &str,
    soql: String,
) -> Result<Vec<Value>, ConnectorError> {
    let mut rows = Vec::new();
    let mut request = SfRequest::new(Method::GET, endpoint).query("q", soql);
    loop {
        let body = client.call(&request).await?;
        rows.extend(records_of(&body)?.iter().cloned());
        match body["nextRecordsUrl"].as_str().filter(|_| body["done"] == false) {
            Some(next) => {
                request = SfRequest { absolute: true, ..SfRequest::new(Method::GET, next) }
            }
            None => return Ok(rows),
        }
    }
}

/// A query answer's `records`. An answer without them (an empty or foreign body) says
/// nothing, and is an error to retry, never an empty result.
fn records_of(body: &Value) -> Result<&[Value], ConnectorError> {
    body["records"]
        .as_array()
        .map(Vec::as_slice)
        .ok_or_else(|| ConnectorError::unreadable("salesforce", 200, "no `records` array"))
}

/// The number of live records: `SELECT COUNT() FROM object`.
pub async fn count(client: &Client, object: &str) -> Result<Option<u64>, ConnectorError> {
    let soql = super::request::count_soql(object)?;
    let body = client.call(&SfRequest::new(Method::GET, "/query").query("q", soql)).await?;
    Ok(body["totalSize"].as_u64())
}

/// Records by Id, External ID or natural key. By Id, a record is `NotFound` only on proof:
/// `queryAll` lists it with `IsDeleted`, or reading it alone answers 404 `NOT_FOUND` or
/// `ENTITY_IS_DELETED`; an Id proved neither way is `Unknown`. By another field, a
/// complete query that lists no match is `NotFound` (no record has that value).
pub async fn read_batch(
    client: &Client,
    object: &str,
    lookup: &Lookup,
    keys: &[String],
    fields: &[String],
) -> Result<Vec<ReadResult>, ConnectorError> {
    let (field, endpoint) = match lookup {
        Lookup::Id => ("Id", "/queryAll"),
        Lookup::Unique(field) | Lookup::Field(field) => (field.as_str(), "/query"),
    };
    let mut wanted = fields.to_vec();
    if field == "Id" {
        wanted.push("IsDeleted".into());
    }
    let mut found: HashMap<String, Record> = HashMap::new();
    for chunk in keys.chunks(IN_CHUNK) {
        let soql = where_in_soql(object, &wanted, field, chunk)?;
        for row in every_page(client, endpoint, soql).await? {
            let key = row[field].as_str().map(str::to_lowercase);
            if let (Some(key), Some(record)) = (key, record(&row)) {
                // a natural key can match several records: keep the oldest, every time
                let kept = found.entry(key).or_insert_with(|| record.clone());
                if crate::connector::id_order(&record.id) < crate::connector::id_order(&kept.id) {
                    *kept = record;
                }
            }
        }
    }
    let mut results = Vec::with_capacity(keys.len());
    let mut confirmations = 0;
    for key in keys {
        let result = match hit(&found, field, key) {
            Some(record) if record.archived => ReadResult::NotFound,
            Some(record) => ReadResult::Found(record.clone()),
            None if field != "Id" => ReadResult::NotFound,
            None if confirmations >= MAX_CONFIRMATIONS => ReadResult::Unknown {
                reason: "not listed by queryAll; left for a later read".into(),
            },
            None => {
                confirmations += 1;
                confirm_gone(client, object, key).await?
            }
        };
        results.push(result);
    }
    Ok(results)
}

/// The record `key` names; 15- and 18-character ids name the same record.
fn hit<'f>(found: &'f HashMap<String, Record>, field: &str, key: &str) -> Option<&'f Record> {
    let key = key.to_lowercase();
    found.get(&key).or_else(|| {
        found.iter().find(|(k, _)| field == "Id" && k.starts_with(&key)).map(|(_, r)| r)
    })
}

/// Ids `queryAll` did not list that one read may confirm gone, per call.
const MAX_CONFIRMATIONS: usize = 200;

/// Reads one Id `queryAll` did not list: a 404 `NOT_FOUND` or `ENTITY_IS_DELETED` proves it
/// gone; anything else leaves it unknown (an operator's problem is still an error).
async fn confirm_gone(
    client: &Client,
    object: &str,
    id: &str,
) -> Result<ReadResult, ConnectorError> {
    super::request::check_name(object)?;
    if !id.chars().all(|c| c.is_ascii_alphanumeric()) {
        return Ok(ReadResult::Unknown { reason: "not a Salesforce Id".into() });
    }
    let request =
        SfRequest::new(Method::GET, format!("/sobjects/{object}/{id}")).query("fields", "Id");
    match client.call(&request).await {
        Err(ConnectorError::Api { status: 404, code, .. })
            if code == "NOT_FOUND" || code == "ENTITY_IS_DELETED" =>
        {
            Ok(ReadResult::NotFound)
        }
        Err(err) if err.kind() == ErrorKind::NeedsOperator => Err(err),
        Err(err) => Ok(ReadResult::Unknown { reason: err.to_string() }),
        Ok(_) => {
            Ok(ReadResult::Unknown { reason: "queryAll did not list it, yet it reads back".into() })
        }
    }
}

/// Records per backfill page.
pub const ALL_PAGE: usize = 2000;

/// Values per `IN (…)` list: short enough that the query's URL stays well under the limit.
const IN_CHUNK: usize = 200;

/// A backfill page: live records in Id order after `page`, the last Id of the page before.
/// Each page is a fresh keyset query, never a query locator: locators expire (after about
/// 15 idle minutes, or once their last page was served to a process that then died), and a
/// checkpoint holding one could never be resumed.
pub async fn read_all(
    client: &Client,
    object: &str,
    page: Option<&str>,
    fields: &[String],
) -> Result<RecordPage, ConnectorError> {
    let soql = all_soql(object, fields, page, ALL_PAGE)?;
    let body = client.call(&SfRequest::new(Method::GET, "/query").query("q", soql)).await?;
    let rows = records_of(&body)?;
    // fewer rows than asked for ends the listing; a partial batch (Salesforce may shorten
    // one) continues after its last Id rather than through the locator
    let more = rows.len() >= ALL_PAGE || body["done"] == false;
    let last = rows.last().and_then(|row| row["Id"].as_str()).map(str::to_string);
    let records = rows.iter().filter_map(record).collect();
    Ok(RecordPage { records, next: last.filter(|_| more) })
}

/// `getDeleted` from `since` (clamped to the 15 days Salesforce keeps) to now.
pub async fn read_deletes(
    client: &Client,
    object: &str,
    since: DateTime<Utc>,
) -> Result<Vec<Deleted>, ConnectorError> {
    // the org's time: it refuses an end in its future
    let now = client.crm_clock.now();
    // getDeleted wants more than a minute between start and end, and no end in the future:
    // a recent `since` reads a slightly wider window (deletes are journalled once anyway)
    let start = since.max(now - Duration::days(15)).min(now - Duration::minutes(2));
    let end = now;
    super::request::check_name(object)?;
    let request = SfRequest::new(Method::GET, format!("/sobjects/{object}/deleted/"))
        .query("start", start.to_rfc3339_opts(SecondsFormat::Secs, false))
        .query("end", end.to_rfc3339_opts(SecondsFormat::Secs, false));
    let body = client.call(&request).await?;
    let earliest = body["earliestDateAvailable"].as_str().and_then(parse_time);
    if earliest.is_some_and(|earliest| earliest > since) {
        return Err(ConnectorError::Api {
            api: "salesforce",
            status: 200,
            code: "DELETES_PURGED".into(),
            message: format!("deletes before {earliest:?} are no longer available: re-sync"),
            wait: None,
        });
    }
    let mut deleted: Vec<Deleted> = body["deletedRecords"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|d| {
            let id = d["id"].as_str()?.to_string();
            let deleted_at = d["deletedDate"].as_str().and_then(parse_time)?;
            Some(Deleted { id, deleted_at, merged_into: None })
        })
        .collect();
    if mergeable(object) {
        name_merge_survivors(client, object, &mut deleted).await?;
    }
    Ok(deleted)
}

/// getDeleted also lists the losers of a merge. Each one still in the recycle bin names its
/// survivor in `MasterRecordId`, so it is reported as the merge it was (as `queryAll` reports
/// it), never as a plain delete that would delete its partner on the other side.
async fn name_merge_survivors(
    client: &Client,
    object: &str,
    deleted: &mut [Deleted],
) -> Result<(), ConnectorError> {
    let ids: Vec<String> = deleted.iter().map(|d| d.id.clone()).collect();
    let mut survivors = HashMap::new();
    for chunk in ids.chunks(IN_CHUNK) {
        let soql = where_in_soql(object, &["MasterRecordId".to_string()], "Id", chunk)?;
        for row in every_page(client, "/queryAll", soql).await? {
            if let (Some(id), Some(master)) = (row["Id"].as_str(), row["MasterRecordId"].as_str()) {
                survivors.insert(id.to_string(), master.to_string());
            }
        }
    }
    for record in deleted {
        record.merged_into = survivors.remove(&record.id);
    }
    Ok(())
}

pub async fn owners(client: &Client) -> Result<Vec<Owner>, ConnectorError> {
    let rows = query_all_pages(client, "SELECT Id, Email, IsActive FROM User".into()).await?;
    Ok(rows
        .iter()
        .filter_map(|row| {
            Some(Owner {
                id: row["Id"].as_str()?.to_string(),
                email: row["Email"].as_str().map(str::to_string),
                active: row["IsActive"].as_bool().unwrap_or(true),
            })
        })
        .collect())
}

pub async fn describe(client: &Client, object: &str) -> Result<ObjectDescription, ConnectorError> {
    super::request::check_name(object)?;
    let request = SfRequest::new(Method::GET, format!("/sobjects/{object}/describe"));
    let body = client.call(&request).await?;
    let fields = body["fields"].as_array().into_iter().flatten().filter_map(field).collect();
    let name = body["name"].as_str().unwrap_or(object).to_string();
    Ok(ObjectDescription { name, fields })
}

fn field(field: &Value) -> Option<FieldDescription> {
    let name = field["name"].as_str()?.to_string();
    let api_type = field["type"].as_str().unwrap_or("string").to_string();
    let kind = match api_type.as_str() {
        "string" | "textarea" | "email" | "phone" | "url" | "id" | "encryptedstring" => {
            FieldKind::Text
        }
        "int" | "double" | "currency" | "percent" | "long" => FieldKind::Number,
        "boolean" => FieldKind::Bool,
        "date" => FieldKind::Date,
        "datetime" => FieldKind::DateTime,
        "picklist" | "combobox" => FieldKind::Enumeration,
        "multipicklist" => FieldKind::MultiEnumeration,
        "reference" => FieldKind::Reference,
        other => FieldKind::Other(other.to_string()),
    };
    let flag = |name: &str| field[name].as_bool().unwrap_or(false);
    let options = field["picklistValues"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|p| FieldOption {
            value: p["value"].as_str().unwrap_or_default().to_string(),
            label: p["label"].as_str().unwrap_or_default().to_string(),
            active: p["active"].as_bool().unwrap_or(true),
        })
        .collect();
    Some(FieldDescription {
        label: field["label"].as_str().unwrap_or(&name).to_string(),
        read_only: !flag("updateable") && !flag("createable"),
        createable: flag("createable"),
        updateable: flag("updateable"),
        required: flag("createable") && !flag("nillable") && !flag("defaultedOnCreate"),
        unique: flag("externalId") || flag("unique"),
        name,
        kind,
        api_type,
        options,
    })
}

/// The lookup field on `from` that points at `to`: the link's label, else the first.
pub async fn lookup_field(
    client: &Client,
    from: &str,
    to: &str,
    label: Option<&str>,
) -> Result<String, ConnectorError> {
    if let Some(label) = label {
        return Ok(label.to_string());
    }
    let request = SfRequest::new(Method::GET, format!("/sobjects/{from}/describe"));
    let body = client.call(&request).await?;
    body["fields"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| {
            let targets = f["referenceTo"].as_array().cloned().unwrap_or_default();
            f["updateable"] == true && targets.iter().any(|t| t.as_str() == Some(to))
        })
        .and_then(|f| f["name"].as_str().map(str::to_string))
        .ok_or_else(|| ConnectorError::Unsupported {
            api: "salesforce",
            what: format!("a link from {from} to {to}: no writable lookup field"),
        })
}

/// Associations read through the lookup field.
pub async fn read_associations(
    client: &Client,
    from: &str,
    to: &str,
    ids: &[String],
) -> Result<Vec<AssociationSet>, ConnectorError> {
    let field = lookup_field(client, from, to, None).await?;
    let mut links: HashMap<String, String> = HashMap::new();
    for chunk in ids.chunks(200) {
        let soql = where_in_soql(from, std::slice::from_ref(&field), "Id", chunk)?;
        for row in query_all_pages(client, soql).await? {
            if let (Some(id), Some(target)) = (row["Id"].as_str(), row[&field].as_str()) {
                links.insert(id.to_string(), target.to_string());
            }
        }
    }
    Ok(ids
        .iter()
        .map(|id| AssociationSet {
            from_id: id.clone(),
            links: links
                .get(id)
                .map(|to_id| AssociationLink {
                    from_id: id.clone(),
                    to_id: to_id.clone(),
                    label: Some(field.clone()),
                })
                .into_iter()
                .collect(),
        })
        .collect())
}

/// The lookup values to write for links (`to_id`, or null to remove).
pub fn lookup_updates(
    field: &str,
    links: &[AssociationLink],
    remove: bool,
) -> Vec<(String, Value)> {
    links
        .iter()
        .map(|link| {
            let value = if remove { Value::Null } else { json!(link.to_id) };
            (link.from_id.clone(), json!({ field: value }))
        })
        .collect()
}
