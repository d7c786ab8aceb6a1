//! The Salesforce simulator, driven over HTTP as a client would drive Salesforce.

mod auth;
mod collections;
mod control_routes;
mod describe;
mod errors;
mod fidelity;
mod lifecycle;
mod limits_and_faults;
mod persistence_and_tls;
mod picklists;
mod records;
mod replication;
mod soql;
mod stats;

use reqwest::Method;
use reqwest::header::HeaderMap;
use salesforce_sim::{CustomField, CustomObject, SalesforceSim, Seed, SimConfig};
use serde_json::{Value, json};

pub const V: &str = "v59.0";

/// The schema tests use: Contact has a unique External ID `HubSpot_Id__c`, Account a
/// non-unique External ID `Legacy_Id__c`, and there is a custom object `Foo__c`.
pub fn test_seed() -> Seed {
    let custom = CustomObject {
        name: "Foo__c".into(),
        label: None,
        fields: vec![
            CustomField::text("Ext__c").external_id(true),
            CustomField {
                kind: salesforce_sim::FieldType::Picklist,
                picklist_values: vec!["Red".into(), "Blue".into()],
                restricted: true,
                ..CustomField::text("Colour__c")
            },
        ],
    };
    Seed { custom_objects: vec![custom], ..Seed::default() }
        .with_external_id("Contact", "HubSpot_Id__c", true)
        .with_external_id("Account", "Legacy_Id__c", false)
}

pub fn test_config() -> SimConfig {
    SimConfig { seed: test_seed(), ..SimConfig::default() }
}

/// One answer: status, headers and the JSON body (`Null` when empty or not JSON).
#[derive(Debug)]
pub struct Answer {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Value,
}

impl Answer {
    /// The `errorCode` of the first error in an error-array body.
    pub fn error_code(&self) -> &str {
        self.body[0]["errorCode"].as_str().unwrap_or_default()
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }
}

/// A running simulator and an HTTP client holding a valid token.
pub struct Sf {
    pub sim: SalesforceSim,
    pub http: reqwest::Client,
    pub token: String,
}

impl Sf {
    pub async fn start() -> Sf {
        Sf::start_with(test_config()).await
    }

    pub async fn start_with(config: SimConfig) -> Sf {
        let sim = SalesforceSim::start(config).await.expect("simulator starts");
        let token = sim.access_token();
        Sf { sim, http: reqwest::Client::new(), token }
    }

    /// `path` under `/services/data/v59.0`, or an absolute path if it starts with `/services`.
    pub fn url(&self, path: &str) -> String {
        if path.starts_with("/services") {
            format!("{}{path}", self.sim.base_url())
        } else {
            format!("{}{path}", self.sim.data_url(V))
        }
    }

    pub async fn call(&self, method: Method, path: &str, body: Option<Value>) -> Answer {
        self.call_with(method, path, body, &[]).await
    }

    pub async fn call_with(
        &self,
        method: Method,
        path: &str,
        body: Option<Value>,
        headers: &[(&str, &str)],
    ) -> Answer {
        let mut request = self.http.request(method, self.url(path)).bearer_auth(&self.token);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        if let Some(body) = body {
            request = request.json(&body);
        }
        answer(request.send().await.expect("request sent")).await
    }

    pub async fn get(&self, path: &str) -> Answer {
        self.call(Method::GET, path, None).await
    }

    pub async fn post(&self, path: &str, body: Value) -> Answer {
        self.call(Method::POST, path, Some(body)).await
    }

    pub async fn patch(&self, path: &str, body: Value) -> Answer {
        self.call(Method::PATCH, path, Some(body)).await
    }

    pub async fn delete(&self, path: &str) -> Answer {
        self.call(Method::DELETE, path, None).await
    }

    /// `GET /query?q=` (or `/queryAll` with `all`).
    pub async fn query(&self, soql: &str, all: bool) -> Answer {
        let resource = if all { "queryAll" } else { "query" };
        let url = format!("{}/{resource}", self.sim.data_url(V));
        let request = self.http.get(url).query(&[("q", soql)]).bearer_auth(&self.token);
        answer(request.send().await.expect("request sent")).await
    }

    /// The records of a query that must succeed, on one page.
    pub async fn rows(&self, soql: &str) -> Vec<Value> {
        let answer = self.query(soql, false).await;
        assert_eq!(answer.status, 200, "{soql}: {}", answer.body);
        answer.body["records"].as_array().cloned().unwrap_or_default()
    }

    /// Creates a record over REST and returns its id.
    pub async fn create(&self, object: &str, fields: Value) -> String {
        let answer = self.post(&format!("/sobjects/{object}"), fields).await;
        assert_eq!(answer.status, 201, "create {object}: {}", answer.body);
        answer.body["id"].as_str().expect("an id").to_string()
    }

    pub async fn contact(&self, last_name: &str) -> String {
        self.create("Contact", json!({ "LastName": last_name })).await
    }
}

pub async fn answer(response: reqwest::Response) -> Answer {
    let status = response.status().as_u16();
    let headers = response.headers().clone();
    let bytes = response.bytes().await.expect("a body");
    let body = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Answer { status, headers, body }
}

/// The values of `field` in `rows`, as strings (null as "null").
pub fn column(rows: &[Value], field: &str) -> Vec<String> {
    rows.iter()
        .map(|r| match &r[field] {
            Value::String(s) => s.clone(),
            other => other.to_string(),
        })
        .collect()
}
