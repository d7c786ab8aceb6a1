//! Reads: records by id or unique value (batch/read), the full listing for backfills,
//! archived records for delete detection, owners, and property discovery.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use super::client::Client;
use super::request::{self, ApiRequest, modified_property};
use super::required;
use super::response::{self, text};
use crate::connector::{
    ConnectorError, Deleted, FieldDescription, FieldKind, FieldOption, Lookup, ObjectDescription,
    Owner, ReadResult, Record, RecordPage, parse_time,
};

/// The properties to ask for: the caller's, plus the id and last-modified ones.
pub fn wanted(object: &str, fields: &[String]) -> Vec<String> {
    let mut all: Vec<String> = fields.to_vec();
    for extra in ["hs_object_id", modified_property(object), "hs_merged_object_ids"] {
        if !all.iter().any(|f| f == extra) {
            all.push(extra.to_string());
        }
    }
    all
}

/// Records by id or unique value. A key is `NotFound` only when HubSpot names it in an
/// `OBJECT_NOT_FOUND` error (or returns it archived); a key it neither returns nor names
/// is `Unknown`, as is one it refused for another reason.
pub async fn read_batch(
    client: &Client,
    object: &str,
    lookup: &Lookup,
    keys: &[String],
    fields: &[String],
) -> Result<Vec<ReadResult>, ConnectorError> {
    let id_property = match lookup {
        Lookup::Id => None,
        Lookup::Unique(property) => Some(property.as_str()),
        Lookup::Field(property) => {
            return super::changes::find_by_field(client, object, property, keys, fields).await;
        }
    };
    let mut properties = wanted(object, fields);
    if let Some(property) = id_property.filter(|p| !properties.iter().any(|f| f == p)) {
        properties.push(property.to_string());
    }
    let mut answer = ReadAnswer::default();
    for chunk in keys.chunks(super::batch::BATCH_SIZE) {
        let read = read_answer(client, object, chunk, &properties, id_property, false).await?;
        answer.absorb(read, id_property);
    }
    Ok(keys.iter().map(|key| answer.result(key)).collect())
}

/// What `batch/read` answered, by lowercased key: records (an id merged away resolves to
/// its survivor), keys named not found, and keys refused with another error.
#[derive(Default)]
struct ReadAnswer {
    records: Vec<Record>,
    found: HashMap<String, Record>,
    not_found: HashSet<String>,
    refused: HashMap<String, String>,
}

impl ReadAnswer {
    fn absorb(&mut self, other: ReadAnswer, id_property: Option<&str>) {
        for record in other.records {
            let key = match id_property {
                None => record.id.clone(),
                Some(p) => record.properties.get(p).and_then(text).unwrap_or_default(),
            };
            if id_property.is_none() {
                for merged in response::merged_ids(&record) {
                    self.found.entry(merged.to_lowercase()).or_insert_with(|| record.clone());
                }
            }
            self.found.insert(key.to_lowercase(), record);
        }
        self.not_found.extend(other.not_found);
        self.refused.extend(other.refused);
    }

    fn result(&self, key: &str) -> ReadResult {
        let key = key.to_lowercase();
        match self.found.get(&key) {
            Some(record) if record.archived => ReadResult::NotFound,
            Some(record) => ReadResult::Found(record.clone()),
            None if self.not_found.contains(&key) => ReadResult::NotFound,
            None => ReadResult::Unknown {
                reason: self.refused.get(&key).cloned().unwrap_or_else(|| {
                    "HubSpot returned neither a record nor OBJECT_NOT_FOUND for this key".into()
                }),
            },
        }
    }
}

/// `batch/read` of up to 100 keys; missing keys are simply absent.
pub async fn read_records(
    client: &Client,
    object: &str,
    keys: &[String],
    properties: &[String],
    id_property: Option<&str>,
    archived: bool,
) -> Result<Vec<Record>, ConnectorError> {
    Ok(read_answer(client, object, keys, properties, id_property, archived).await?.records)
}

/// `batch/read` of up to 100 keys, with what its errors say about the keys it left out.
async fn read_answer(
    client: &Client,
    object: &str,
    keys: &[String],
    properties: &[String],
    id_property: Option<&str>,
    archived: bool,
) -> Result<ReadAnswer, ConnectorError> {
    if keys.is_empty() {
        return Ok(ReadAnswer::default());
    }
    let path = format!("{}/batch/read", client.paths.objects(object));
    let body = request::read_body(keys, properties, id_property);
    let request = ApiRequest::post(path, body).query("archived", archived.to_string());
    let answer = client.call(&request).await?;
    let mut read = ReadAnswer::default();
    for error in answer.body["errors"].as_array().into_iter().flatten() {
        let ids = response::error_ids(error).into_iter().map(|id| id.to_lowercase());
        match error["category"].as_str() {
            Some("OBJECT_NOT_FOUND") => read.not_found.extend(ids),
            category => {
                let message = error["message"].as_str().unwrap_or_default();
                let reason = format!("{}: {message}", category.unwrap_or("ERROR"));
                read.refused.extend(ids.map(|id| (id, reason.clone())));
            }
        }
    }
    let modified = modified_property(object);
    read.records = response::results(answer.body)?
        .into_iter()
        .filter_map(|r| response::record(r, modified))
        .collect();
    Ok(read)
}

/// One page of ids from the list endpoint (`properties` kept to the id so the query string
/// stays short), and the cursor of the next page.
async fn list_ids(
    client: &Client,
    object: &str,
    after: Option<&str>,
    archived: bool,
) -> Result<(Vec<Value>, Option<String>), ConnectorError> {
    let mut request = ApiRequest::get(client.paths.objects(object))
        .query("limit", "100")
        .query("properties", "hs_object_id")
        .query("archived", archived.to_string());
    if let Some(after) = after {
        request = request.query("after", after);
    }
    let answer = client.call(&request).await?;
    let next = answer.body["paging"]["next"]["after"].as_str().map(str::to_string);
    let results = response::results(answer.body)?;
    Ok((results, next))
}

/// A full backfill page: ids from the list endpoint, then their properties by batch/read.
pub async fn read_all(
    client: &Client,
    object: &str,
    page: Option<&str>,
    fields: &[String],
) -> Result<RecordPage, ConnectorError> {
    let (results, next) = list_ids(client, object, page, false).await?;
    let ids: Vec<String> = results.iter().filter_map(|r| text(&r["id"])).collect();
    let properties = wanted(object, fields);
    let mut records = read_records(client, object, &ids, &properties, None, false).await?;
    let order: HashMap<&String, usize> = ids.iter().enumerate().map(|(i, id)| (id, i)).collect();
    records.sort_by_key(|r| order.get(&r.id).copied().unwrap_or(usize::MAX));
    Ok(RecordPage { records, next })
}

/// Records archived at or after `since`, from the archived listing.
pub async fn read_deletes(
    client: &Client,
    object: &str,
    since: DateTime<Utc>,
) -> Result<Vec<Deleted>, ConnectorError> {
    let mut deleted = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let (results, next) = list_ids(client, object, after.as_deref(), true).await?;
        for result in &results {
            let at = result["archivedAt"].as_str().and_then(parse_time);
            if let (Some(id), Some(at)) = (text(&result["id"]), at.filter(|at| *at >= since)) {
                deleted.push(Deleted { id, deleted_at: at, merged_into: None });
            }
        }
        match next {
            Some(next) => after = Some(next),
            None => return Ok(deleted),
        }
    }
}

pub async fn owners(client: &Client) -> Result<Vec<Owner>, ConnectorError> {
    let mut owners = Vec::new();
    let mut after: Option<String> = None;
    loop {
        let mut request = ApiRequest::get(client.paths.owners()).query("limit", "100");
        if let Some(after) = &after {
            request = request.query("after", after.clone());
        }
        let answer = client.call(&request).await?;
        let next = answer.body["paging"]["next"]["after"].as_str().map(str::to_string);
        for owner in response::results(answer.body)? {
            let Some(id) = text(&owner["id"]) else { continue };
            let email = owner["email"].as_str().map(str::to_string);
            owners.push(Owner { id, email, active: !owner["archived"].as_bool().unwrap_or(false) });
        }
        match next {
            Some(next) => after = Some(next),
            None => return Ok(owners),
        }
    }
}

/// A custom object type the portal defines.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CustomObject {
    /// `2-123456`: usable as `{objectType}` in every path.
    pub type_id: String,
    pub name: String,
    pub fully_qualified_name: String,
    pub required: Vec<String>,
}

/// The portal's custom object schemas.
pub async fn schemas(client: &Client) -> Result<Vec<CustomObject>, ConnectorError> {
    let answer = client.call(&ApiRequest::get("/crm-object-schemas/v3/schemas".into())).await?;
    let strings = |v: &Value| -> Vec<String> {
        v.as_array().into_iter().flatten().filter_map(|s| s.as_str().map(str::to_string)).collect()
    };
    Ok(answer.body["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|schema| {
            Some(CustomObject {
                type_id: schema["objectTypeId"].as_str()?.to_string(),
                name: schema["name"].as_str().unwrap_or_default().to_string(),
                fully_qualified_name: schema["fullyQualifiedName"].as_str()?.to_string(),
                required: strings(&schema["requiredProperties"]),
            })
        })
        .collect())
}

/// Fields from the properties API, flagged required as [`required::on_create`] says.
pub async fn describe(client: &Client, object: &str) -> Result<ObjectDescription, ConnectorError> {
    let answer = client.call(&ApiRequest::get(client.paths.properties(object))).await?;
    let required = required::on_create(client, object).await?;
    let fields = answer.body["results"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| field(p, &required))
        .collect();
    Ok(ObjectDescription { name: object.to_string(), fields })
}

fn field(property: &Value, required: &[String]) -> Option<FieldDescription> {
    let name = property["name"].as_str()?.to_string();
    let api_type = property["type"].as_str().unwrap_or("string").to_string();
    let field_type = property["fieldType"].as_str().unwrap_or_default();
    let kind = match (api_type.as_str(), field_type) {
        ("enumeration", "checkbox") => FieldKind::MultiEnumeration,
        ("enumeration", "booleancheckbox") | ("bool", _) => FieldKind::Bool,
        ("enumeration", _) => FieldKind::Enumeration,
        ("number", _) => FieldKind::Number,
        ("date", _) => FieldKind::Date,
        ("datetime", _) => FieldKind::DateTime,
        ("string" | "phone_number", _) => FieldKind::Text,
        (other, _) => FieldKind::Other(other.to_string()),
    };
    let options = property["options"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| FieldOption {
            value: o["value"].as_str().unwrap_or_default().to_string(),
            label: o["label"].as_str().unwrap_or_default().to_string(),
            active: !o["hidden"].as_bool().unwrap_or(false),
        })
        .collect();
    let read_only = property["modificationMetadata"]["readOnlyValue"].as_bool().unwrap_or(false)
        || property["calculated"].as_bool().unwrap_or(false);
    Some(FieldDescription {
        required: required.contains(&name),
        label: property["label"].as_str().unwrap_or(&name).to_string(),
        unique: property["hasUniqueValue"].as_bool().unwrap_or(false) || name == "email",
        name,
        kind,
        api_type,
        options,
        read_only,
        createable: !read_only,
        updateable: !read_only,
    })
}
