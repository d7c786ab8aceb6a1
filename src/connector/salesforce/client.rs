//! Sending Salesforce requests — concurrency → retry → (budget → timeout → send) per
//! attempt, since every attempt spends the org's allocation — with the echo marker on
//! every call and one shared re-authentication on `INVALID_SESSION_ID`.

use std::sync::Arc;
use std::time::Duration;

use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::Value;
use tokio::sync::Semaphore;

use super::auth::{Session, Sessions};
use super::budget::Budget;
use crate::connector::credentials::CredentialGate;
use crate::connector::retry::RetryPolicy;
use crate::connector::{Clock, ConnectorError, CrmClock};

/// One request, relative to `{instance_url}/services/data/{version}` unless `absolute`.
#[derive(Debug, Clone, PartialEq)]
pub struct SfRequest {
    pub method: Method,
    pub path: String,
    pub query: Vec<(String, String)>,
    pub body: Option<Value>,
    /// `path` already starts at the instance (a `nextRecordsUrl`).
    pub absolute: bool,
}

impl SfRequest {
    pub fn new(method: Method, path: impl Into<String>) -> Self {
        SfRequest { method, path: path.into(), query: Vec::new(), body: None, absolute: false }
    }

    pub fn body(mut self, body: Value) -> Self {
        self.body = Some(body);
        self
    }

    pub fn query(mut self, name: &str, value: impl Into<String>) -> Self {
        self.query.push((name.to_string(), value.into()));
        self
    }
}

pub(super) struct Client {
    pub http: reqwest::Client,
    pub version: String,
    pub sessions: Sessions,
    pub budget: Budget,
    pub permits: Arc<Semaphore>,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    /// Whether the API accepts the credentials; calls wait while it refuses them.
    pub gate: CredentialGate,
    pub call_options: String,
    pub clock: Clock,
    /// The org's time, from the `Date` of every answer.
    pub crm_clock: CrmClock,
}

impl Client {
    /// Sends `request`; a dead session is replaced once, shared with concurrent callers.
    /// While the credentials are refused, only a probe is sent.
    pub async fn call(&self, request: &SfRequest) -> Result<Value, ConnectorError> {
        self.gate.admit()?;
        let outcome = self.send_admitted(request).await;
        self.gate.observe(&outcome);
        outcome
    }

    async fn send_admitted(&self, request: &SfRequest) -> Result<Value, ConnectorError> {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let mut session = self.sessions.session(&self.http, (self.clock)()).await?;
        let mut renewed = false;
        loop {
            let outcome = self.retry.run("salesforce", |_| self.attempt(request, &session)).await;
            match outcome {
                Err(err) if err.code() == Some("INVALID_SESSION_ID") && !renewed => {
                    renewed = true;
                    let now = (self.clock)();
                    session = self.sessions.replace(&self.http, Some(&session), now).await?;
                }
                other => return other,
            }
        }
    }

    async fn attempt(
        &self,
        request: &SfRequest,
        session: &Session,
    ) -> Result<Value, ConnectorError> {
        self.budget.spend((self.clock)())?;
        let sent_at = (self.clock)();
        let sent = tokio::time::timeout(self.timeout, self.send(request, session)).await;
        let outcome = match sent {
            Ok(Ok(response)) => {
                self.crm_clock.observe(response.headers(), sent_at, (self.clock)());
                self.read(response).await
            }
            Ok(Err(source)) => Err(ConnectorError::network("salesforce", source)),
            Err(_) => Err(ConnectorError::Timeout { api: "salesforce", timeout: self.timeout }),
        };
        let label = outcome.as_ref().map_or_else(|e| e.kind().as_str(), |_| "ok");
        ::metrics::counter!(crate::metrics::CONNECTOR_REQUESTS, "connector" => "salesforce",
            "outcome" => label)
        .increment(1);
        outcome
    }

    fn url(&self, request: &SfRequest, session: &Session) -> String {
        match request.absolute {
            true => format!("{}{}", session.instance_url, request.path),
            false => {
                format!("{}/services/data/{}{}", session.instance_url, self.version, request.path)
            }
        }
    }

    async fn send(
        &self,
        request: &SfRequest,
        session: &Session,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let mut builder = self
            .http
            .request(request.method.clone(), self.url(request, session))
            .bearer_auth(session.access_token.expose_secret())
            .header("Sforce-Call-Options", &self.call_options)
            .query(&request.query);
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        builder.send().await
    }

    async fn read(&self, response: reqwest::Response) -> Result<Value, ConnectorError> {
        let status = response.status().as_u16();
        self.budget.observe(response.headers());
        let bytes = response
            .bytes()
            .await
            .map_err(|source| ConnectorError::network("salesforce", source))?;
        if (200..300).contains(&status) {
            return crate::connector::error::success_body("salesforce", status, &bytes);
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        let error = api_error(status, &body, &bytes);
        if error.code() == Some("REQUEST_LIMIT_EXCEEDED") {
            self.budget.exceeded((self.clock)());
        }
        Err(error)
    }
}

/// Salesforce's error array `[{"message","errorCode","fields"}]` as an error.
pub fn api_error(status: u16, body: &Value, raw: &[u8]) -> ConnectorError {
    let first = &body[0];
    let code = first["errorCode"].as_str().unwrap_or_default().to_string();
    let message = match first["message"].as_str() {
        Some(message) => message.to_string(),
        None => String::from_utf8_lossy(&raw[..raw.len().min(300)]).to_string(),
    };
    ConnectorError::Api { api: "salesforce", status, code, message, wait: None }
}
