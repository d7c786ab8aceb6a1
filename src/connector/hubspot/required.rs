//! Which properties HubSpot requires when a record is created: a fixed table for its
//! standard objects (the properties API does not say), the schema's `requiredProperties` for
//! a custom object.

use super::client::Client;
use super::request::ApiRequest;
use crate::connector::ConnectorError;

/// A standard object: its names in paths, and what it requires on create.
struct Standard {
    names: [&'static str; 3],
    required: &'static [&'static str],
}

/// The fact sheet's §4 table. Objects it leaves blank are not listed, and are looked up as
/// custom objects, which finds nothing required.
const STANDARD: &[Standard] = &[
    Standard { names: ["contacts", "contact", "0-1"], required: &[] },
    Standard { names: ["companies", "company", "0-2"], required: &[] },
    Standard { names: ["deals", "deal", "0-3"], required: &["dealname", "dealstage", "pipeline"] },
    Standard {
        names: ["tickets", "ticket", "0-5"],
        required: &["subject", "hs_pipeline_stage", "hs_pipeline"],
    },
    Standard {
        names: ["products", "product", "0-7"],
        required: &["hs_sku", "hs_folder", "price", "name", "description"],
    },
    Standard { names: ["line_items", "line_item", "0-8"], required: &[] },
    Standard { names: ["quotes", "quote", "0-14"], required: &["hs_title", "hs_expiration_date"] },
    Standard {
        names: ["communications", "communication", "0-18"],
        required: &["hs_timestamp", "hs_communication_channel_type"],
    },
    Standard { names: ["tasks", "task", "0-27"], required: &["hs_timestamp"] },
    Standard { names: ["notes", "note", "0-46"], required: &["hs_timestamp"] },
    Standard { names: ["meetings", "meeting", "0-47"], required: &["hs_timestamp"] },
    Standard { names: ["calls", "call", "0-48"], required: &["hs_timestamp"] },
    Standard {
        names: ["emails", "email", "0-49"],
        required: &["hs_timestamp", "hs_email_direction"],
    },
];

/// The properties `object` requires on create.
pub async fn on_create(client: &Client, object: &str) -> Result<Vec<String>, ConnectorError> {
    match standard(object) {
        Some(required) => Ok(required.iter().map(|name| name.to_string()).collect()),
        None => custom(client, object).await,
    }
}

fn standard(object: &str) -> Option<&'static [&'static str]> {
    let object = object.to_ascii_lowercase();
    STANDARD.iter().find(|s| s.names.contains(&object.as_str())).map(|s| s.required)
}

/// The schema's `requiredProperties`; none when no custom object has this name, or when
/// the account may not read schemas (they are an Enterprise feature, and need their own
/// scope): describing an object must not fail on what only refines it.
async fn custom(client: &Client, object: &str) -> Result<Vec<String>, ConnectorError> {
    let request = ApiRequest::get(format!("/crm-object-schemas/v3/schemas/{object}"));
    let answer = match client.call(&request).await {
        Ok(answer) => answer,
        Err(ConnectorError::Api { status: 404, .. }) => return Ok(Vec::new()),
        Err(ConnectorError::Api { status: status @ (400 | 403), code, .. }) => {
            tracing::warn!(object, status, %code, "schema not readable; no required properties known");
            return Ok(Vec::new());
        }
        Err(err) => return Err(err),
    };
    let names = answer.body["requiredProperties"].as_array().into_iter().flatten();
    Ok(names.filter_map(|name| name.as_str().map(str::to_string)).collect())
}
