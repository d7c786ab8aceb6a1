//! Building HubSpot requests: paths for the configured API version and JSON bodies, as
//! pure functions tested without a network. Properties always go in bodies, never in a
//! query string that could reach 414.

use reqwest::Method;
use serde_json::{Map, Value, json};

use crate::connector::{AssociationLink, Properties, UpdateItem, UpsertItem};

/// One HubSpot request, before credentials.
#[derive(Debug, Clone, PartialEq)]
pub struct ApiRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// Spends the search limit too.
    pub search: bool,
}

impl ApiRequest {
    pub fn get(path: String) -> Self {
        ApiRequest { method: Method::GET, path, query: Vec::new(), body: None, search: false }
    }

    pub fn post(path: String, body: Value) -> Self {
        ApiRequest {
            method: Method::POST,
            path,
            query: Vec::new(),
            body: Some(body),
            search: false,
        }
    }

    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }
}

/// Paths under the configured base URL and version (`v3` or a date version like `2026-03`).
#[derive(Debug, Clone)]
pub struct Paths {
    pub base_url: String,
    pub version: String,
}

impl Paths {
    pub fn new(base_url: &str, version: &str) -> Self {
        Paths { base_url: base_url.trim_end_matches('/').to_string(), version: version.into() }
    }

    fn numbered(&self) -> bool {
        self.version.starts_with('v')
    }

    /// `/crm/v3/objects/{object}` or `/crm/objects/2026-03/{object}`.
    pub fn objects(&self, object: &str) -> String {
        match self.numbered() {
            true => format!("/crm/{}/objects/{object}", self.version),
            false => format!("/crm/objects/{}/{object}", self.version),
        }
    }

    pub fn properties(&self, object: &str) -> String {
        match self.numbered() {
            true => format!("/crm/{}/properties/{object}", self.version),
            false => format!("/crm/properties/{}/{object}", self.version),
        }
    }

    /// Associations stay on v4 until HubSpot retires it.
    pub fn associations(&self, from: &str, to: &str, operation: &str) -> String {
        format!("/crm/v4/associations/{from}/{to}/batch/{operation}")
    }

    pub fn owners(&self) -> String {
        "/crm/v3/owners".to_string()
    }
}

/// HubSpot takes every property value as a string; an empty string clears a value.
pub fn property_strings(properties: &Properties) -> Value {
    let map: Map<String, Value> = properties
        .iter()
        .map(|(name, value)| {
            let text = match value {
                Value::Null => String::new(),
                Value::String(s) => s.clone(),
                Value::Bool(b) => b.to_string(),
                other => other.to_string(),
            };
            (name.clone(), Value::String(text))
        })
        .collect();
    Value::Object(map)
}

/// `batch/upsert` by `id_property`; each input carries its position as `objectWriteTraceId`
/// so errors can be matched back to it.
pub fn upsert_body(id_property: &str, items: &[(usize, &UpsertItem)]) -> Value {
    let inputs: Vec<Value> = items
        .iter()
        .map(|(index, item)| {
            json!({
                "id": item.key,
                "idProperty": id_property,
                "properties": property_strings(&item.properties),
                "objectWriteTraceId": index.to_string(),
            })
        })
        .collect();
    json!({ "inputs": inputs })
}

pub fn update_body(items: &[(usize, &UpdateItem)]) -> Value {
    let inputs: Vec<Value> = items
        .iter()
        .map(|(index, item)| {
            json!({
                "id": item.id,
                "properties": property_strings(&item.properties),
                "objectWriteTraceId": index.to_string(),
            })
        })
        .collect();
    json!({ "inputs": inputs })
}

pub fn ids_body(ids: &[String]) -> Value {
    let inputs: Vec<Value> = ids.iter().map(|id| json!({ "id": id })).collect();
    json!({ "inputs": inputs })
}

/// `batch/read` with the properties in the body; `id_property` to read by a unique value.
pub fn read_body(keys: &[String], properties: &[String], id_property: Option<&str>) -> Value {
    let mut body = ids_body(keys);
    body["properties"] = json!(properties);
    if let Some(id_property) = id_property {
        body["idProperty"] = json!(id_property);
    }
    body
}

/// A search filter.
pub fn filter(property: &str, operator: &str, value: impl ToString) -> Value {
    json!({ "propertyName": property, "operator": operator, "value": value.to_string() })
}

/// A search with AND-ed `filters`, one ascending sort, and explicit properties.
pub fn search_body(filters: Vec<Value>, sort: &str, properties: &[String], limit: usize) -> Value {
    json!({
        "filterGroups": [{ "filters": filters }],
        "sorts": [{ "propertyName": sort, "direction": "ASCENDING" }],
        "properties": properties,
        "limit": limit,
    })
}

/// Association type: `None` is the default type; `"279"` or `"USER_DEFINED:36"` a label.
pub fn association_type(label: &str) -> Value {
    let (category, id) = label.split_once(':').unwrap_or(("HUBSPOT_DEFINED", label));
    let id: u64 = id.parse().unwrap_or_default();
    json!({ "associationCategory": category, "associationTypeId": id })
}

pub fn association_create_body(links: &[&AssociationLink]) -> Value {
    let inputs: Vec<Value> = links
        .iter()
        .map(|link| {
            let mut input = json!({ "from": { "id": link.from_id }, "to": { "id": link.to_id } });
            if let Some(label) = &link.label {
                input["types"] = json!([association_type(label)]);
            }
            input
        })
        .collect();
    json!({ "inputs": inputs })
}

/// `batch/archive` removes every type between each pair.
pub fn association_archive_body(links: &[&AssociationLink]) -> Value {
    let inputs: Vec<Value> = links
        .iter()
        .map(|link| json!({ "from": { "id": link.from_id }, "to": [{ "id": link.to_id }] }))
        .collect();
    json!({ "inputs": inputs })
}

/// The last-modified property search sorts and filters on.
pub fn modified_property(object: &str) -> &'static str {
    match object {
        "contacts" | "contact" | "0-1" => "lastmodifieddate",
        _ => "hs_lastmodifieddate",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn paths_follow_the_configured_version() {
        let numbered = Paths::new("http://x/", "v3");
        assert_eq!(numbered.objects("contacts"), "/crm/v3/objects/contacts");
        let dated = Paths::new("http://x", "2026-03");
        assert_eq!(dated.objects("deals"), "/crm/objects/2026-03/deals");
        assert_eq!(dated.properties("deals"), "/crm/properties/2026-03/deals");
    }

    #[test]
    fn an_upsert_sends_string_values_the_id_property_and_a_trace_id_per_input() {
        let item = UpsertItem {
            key: "ext-1".into(),
            properties: [
                ("amount".to_string(), json!(12.5)),
                ("flag".to_string(), json!(true)),
                ("gone".to_string(), Value::Null),
            ]
            .into(),
        };
        let body = upsert_body("ext_id", &[(7, &item)]);
        assert_eq!(
            body,
            json!({"inputs": [{
                "id": "ext-1", "idProperty": "ext_id", "objectWriteTraceId": "7",
                "properties": {"amount": "12.5", "flag": "true", "gone": ""}
            }]})
        );
    }

    #[test]
    fn a_read_by_unique_value_names_the_id_property_and_lists_properties_in_the_body() {
        let body = read_body(&["a@x.com".into()], &["email".into()], Some("email"));
        assert_eq!(body["idProperty"], "email");
        assert_eq!(body["properties"], json!(["email"]));
    }

    #[test]
    fn contacts_sort_on_lastmodifieddate_and_other_objects_on_hs_lastmodifieddate() {
        assert_eq!(modified_property("contacts"), "lastmodifieddate");
        assert_eq!(modified_property("deals"), "hs_lastmodifieddate");
    }

    #[test]
    fn association_labels_name_their_category_or_default_to_hubspot_defined() {
        assert_eq!(
            association_type("279"),
            json!({"associationCategory": "HUBSPOT_DEFINED", "associationTypeId": 279})
        );
        assert_eq!(association_type("USER_DEFINED:36")["associationCategory"], "USER_DEFINED");
    }
}
