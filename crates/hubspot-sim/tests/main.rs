//! The HubSpot simulator against HubSpot's wire format: status codes, bodies, headers, caps,
//! search lag, merges, webhook signatures and retries, and the official Python client.

mod activities;
mod associations;
mod auth_and_limits;
mod batch;
mod cli;
mod control_routes;
mod fidelity;
mod merge;
mod objects;
mod search;
mod shapes;
mod switches;
mod webhooks;

use hubspot_sim::{HubspotSim, RateProfile, SimConfig};
use reqwest::header::HeaderMap;
use serde_json::Value;

/// A simulator on port 0 and a client that calls it with the default token.
pub struct Sim {
    pub sim: HubspotSim,
    pub http: reqwest::Client,
    pub token: String,
}

/// One answer: status, headers and JSON body (`Null` when empty).
#[derive(Debug)]
pub struct Reply {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Reply {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A config without rate limits, so tests about other things never hit them.
pub fn unlimited() -> SimConfig {
    SimConfig { rate: RateProfile::UNLIMITED, ..SimConfig::default() }
}

impl Sim {
    pub async fn start() -> Sim {
        Sim::with(unlimited()).await
    }

    pub async fn with(config: SimConfig) -> Sim {
        let sim = HubspotSim::start(config).await.expect("the simulator starts");
        let token = sim.token().to_string();
        Sim { sim, http: reqwest::Client::new(), token }
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.sim.base_url())
    }

    pub async fn send(&self, method: reqwest::Method, path: &str, body: Option<Value>) -> Reply {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(&self.token);
        if let Some(body) = body {
            request = request.json(&body);
        }
        let response = request.send().await.expect("the simulator answers");
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let text = response.text().await.expect("a body");
        let body =
            if text.is_empty() { Value::Null } else { serde_json::from_str(&text).expect("JSON") };
        Reply { status, headers, body }
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.send(reqwest::Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PATCH, path, Some(body)).await
    }

    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.send(reqwest::Method::PUT, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Reply {
        self.send(reqwest::Method::DELETE, path, None).await
    }

    /// Creates a record through the API and returns its id.
    pub async fn create(&self, object: &str, properties: Value) -> String {
        let reply = self
            .post(
                &format!("/crm/v3/objects/{object}"),
                serde_json::json!({"properties": properties}),
            )
            .await;
        assert_eq!(reply.status, 201, "{}", reply.body);
        reply.body["id"].as_str().expect("a string id").to_string()
    }

    /// Adds a `hasUniqueValue` string property.
    pub async fn unique_property(&self, object: &str, name: &str, group: &str) {
        let body = serde_json::json!({"name": name, "label": name, "type": "string", "fieldType": "text",
                                      "groupName": group, "hasUniqueValue": true});
        let reply = self.post(&format!("/crm/v3/properties/{object}"), body).await;
        assert_eq!(reply.status, 201, "{}", reply.body);
    }
}

/// ISO-8601 UTC with exactly three fractional digits.
pub fn is_iso_millis(value: &Value) -> bool {
    let Some(text) = value.as_str() else { return false };
    text.len() == 24
        && text.ends_with('Z')
        && text.as_bytes()[19] == b'.'
        && chrono::DateTime::parse_from_rfc3339(text).is_ok()
}
