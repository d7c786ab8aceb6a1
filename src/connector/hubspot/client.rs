//! Sending HubSpot requests — concurrency → retry → (rate limit → timeout → send) per
//! attempt — and turning answers into results or classified errors. The limiter sits
//! inside the retry loop because every attempt is a request that spends HubSpot's quota.

use std::sync::Arc;
use std::time::Duration;

use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;
use tokio::sync::Semaphore;

use super::auth::{Credentials, short};
use super::limits::HubspotLimits;
use super::request::{ApiRequest, Paths};
use crate::connector::credentials::CredentialGate;
use crate::connector::retry::RetryPolicy;
use crate::connector::{Clock, ConnectorError, CrmClock};

/// A successful answer.
#[derive(Debug)]
pub struct ApiResponse {
    pub body: Value,
}

pub(super) struct Client {
    pub http: reqwest::Client,
    pub paths: Paths,
    pub credentials: Credentials,
    pub limits: Arc<HubspotLimits>,
    pub permits: Arc<Semaphore>,
    pub retry: RetryPolicy,
    pub timeout: Duration,
    /// Whether the API accepts the credentials; calls wait while it refuses them.
    pub gate: CredentialGate,
    pub clock: Clock,
    /// The portal's time, from the `Date` of every answer.
    pub crm_clock: CrmClock,
}

impl Client {
    /// Sends `request`, retrying what the classification allows; an expired OAuth token is
    /// refreshed once. While the credentials are refused, only a probe is sent.
    pub async fn call(&self, request: &ApiRequest) -> Result<ApiResponse, ConnectorError> {
        self.gate.admit()?;
        let outcome = self.send_admitted(request).await;
        self.gate.observe(&outcome);
        outcome
    }

    async fn send_admitted(&self, request: &ApiRequest) -> Result<ApiResponse, ConnectorError> {
        let _permit = self.permits.acquire().await.expect("the semaphore is never closed");
        let mut refreshed = false;
        loop {
            let result = self.retry.run("hubspot", |_| self.attempt(request)).await;
            match result {
                Err(err) if is_expired_auth(&err) && !refreshed && self.credentials.is_oauth() => {
                    refreshed = true;
                }
                other => return other,
            }
        }
    }

    async fn attempt(&self, request: &ApiRequest) -> Result<ApiResponse, ConnectorError> {
        self.limits.acquire(request.search, (self.clock)()).await?;
        let token = self.credentials.bearer(&self.http, &self.clock).await?;
        let sent_at = (self.clock)();
        let sent = tokio::time::timeout(self.timeout, self.send(request, &token)).await;
        let outcome = match sent {
            Ok(Ok(response)) => {
                self.crm_clock.observe(response.headers(), sent_at, (self.clock)());
                self.read(response, &token).await
            }
            Ok(Err(source)) => Err(ConnectorError::network("hubspot", source)),
            Err(_) => Err(ConnectorError::Timeout { api: "hubspot", timeout: self.timeout }),
        };
        let label = outcome.as_ref().map_or_else(|e| e.kind().as_str(), |_| "ok");
        ::metrics::counter!(crate::metrics::CONNECTOR_REQUESTS, "connector" => "hubspot", "outcome" => label)
            .increment(1);
        outcome
    }

    async fn send(
        &self,
        request: &ApiRequest,
        token: &SecretString,
    ) -> Result<reqwest::Response, reqwest::Error> {
        let url = format!("{}{}", self.paths.base_url, request.path);
        let mut builder = self
            .http
            .request(request.method.clone(), url)
            .bearer_auth(token.expose_secret())
            .query(&request.query);
        if let Some(body) = &request.body {
            builder = builder.json(body);
        }
        builder.send().await
    }

    async fn read(
        &self,
        response: reqwest::Response,
        token: &SecretString,
    ) -> Result<ApiResponse, ConnectorError> {
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        self.limits.observe(&headers);
        let bytes =
            response.bytes().await.map_err(|source| ConnectorError::network("hubspot", source))?;
        if (200..300).contains(&status) {
            return crate::connector::error::success_body("hubspot", status, &bytes)
                .map(|body| ApiResponse { body });
        }
        let body: Value = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        match status {
            429 => Err(self.rate_limited(&body, &headers)),
            401 => {
                self.credentials.reject(token).await;
                Err(api_error(status, &body, &headers, &bytes))
            }
            _ => Err(api_error(status, &body, &headers, &bytes)),
        }
    }

    fn rate_limited(&self, body: &Value, headers: &HeaderMap) -> ConnectorError {
        let policy = body["policyName"].as_str().unwrap_or("TEN_SECONDLY_ROLLING").to_string();
        match self.limits.on_rate_limited(&policy, retry_after(headers), (self.clock)()) {
            Ok(wait) => ConnectorError::RateLimited { api: "hubspot", policy, wait: Some(wait) },
            Err(out_of_budget) => out_of_budget,
        }
    }
}

fn is_expired_auth(err: &ConnectorError) -> bool {
    matches!(err, ConnectorError::Api { status: 401, code, .. } if code == "EXPIRED_AUTHENTICATION")
}

/// `Retry-After` in seconds, as HubSpot sends it on 477 (and sometimes 429).
pub fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    let text = headers.get("retry-after")?.to_str().ok()?;
    text.trim().parse::<f64>().ok().filter(|s| *s >= 0.0).map(Duration::from_secs_f64)
}

/// A non-2xx answer as an error carrying HubSpot's category (or first detail code).
pub fn api_error(status: u16, body: &Value, headers: &HeaderMap, raw: &[u8]) -> ConnectorError {
    let code = body["category"]
        .as_str()
        .or_else(|| body["errors"][0]["code"].as_str())
        .unwrap_or_default()
        .to_string();
    let message = match body["message"].as_str() {
        Some(message) => message.to_string(),
        None => short(&String::from_utf8_lossy(raw)).to_string(),
    };
    let wait = retry_after(headers).or((status == 423).then_some(Duration::from_secs(2)));
    ConnectorError::Api { api: "hubspot", status, code, message, wait }
}
