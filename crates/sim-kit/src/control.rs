//! The `/__sim/` routes: a simulator's stats, fault rules and clock over plain HTTP, for a
//! simulator started as a process or driven from another language. No real API serves
//! `/__sim/`, and these routes are neither counted, faulted, authenticated nor rate limited.
//!
//! - `GET /__sim/stats`, `DELETE /__sim/stats` (reset)
//! - `GET /__sim/faults`, `POST /__sim/faults` (add one [`FaultSpec`]), `DELETE /__sim/faults`
//! - `GET /__sim/clock`, `POST /__sim/clock` (one [`ClockChange`])
//!
//! A bad body gets 400 `{"error": "invalid_request", "field": "trigger.fraction",
//! "message": …}`, naming the field at fault.

use std::collections::BTreeMap;
use std::time::Duration;

use axum::extract::{FromRequest, Request, State};
use axum::http::{HeaderName, HeaderValue, Method, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use chrono::{DateTime, SecondsFormat, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::clock::SimClock;
use crate::faults::{Fault, FaultPlan, FaultRule, Trigger};
use crate::stats::{EndpointStats, SimStats};

/// A ready-made fault a simulator offers by name, e.g. Salesforce's `unable_to_lock_row`.
pub type Preset = (&'static str, fn() -> Fault);

/// What the `/__sim/` routes steer: the simulator's own plan, stats and clock.
#[derive(Clone)]
pub struct Control {
    pub faults: FaultPlan,
    pub stats: SimStats,
    pub clock: SimClock,
    pub presets: &'static [Preset],
}

/// The `/__sim/` routes over `control`; merge them into the simulator's router outside its
/// layers.
pub fn routes(control: Control) -> Router {
    Router::new()
        .route("/__sim/stats", get(stats).delete(reset_stats))
        .route("/__sim/faults", get(list_faults).post(add_fault).delete(clear_faults))
        .route("/__sim/clock", get(clock).post(change_clock))
        .with_state(control)
}

/// A 400 for a bad `/__sim/` request, naming the field at fault (`null` when the body as a
/// whole is unreadable).
#[derive(Debug)]
pub struct BadRequest {
    pub field: Option<String>,
    pub message: String,
}

impl BadRequest {
    pub fn new(field: impl Into<String>, message: impl Into<String>) -> Self {
        BadRequest { field: Some(field.into()), message: message.into() }
    }
}

impl IntoResponse for BadRequest {
    fn into_response(self) -> Response {
        let body =
            json!({"error": "invalid_request", "field": self.field, "message": self.message});
        (StatusCode::BAD_REQUEST, Json(body)).into_response()
    }
}

/// A JSON body whose deserialisation errors name the field they are about.
pub struct Body<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for Body<T> {
    type Rejection = BadRequest;

    async fn from_request(request: Request, state: &S) -> Result<Self, BadRequest> {
        let bytes = bytes::Bytes::from_request(request, state)
            .await
            .map_err(|err| BadRequest { field: None, message: err.to_string() })?;
        let mut json = serde_json::Deserializer::from_slice(&bytes);
        serde_path_to_error::deserialize(&mut json).map(Body).map_err(|err| {
            let path = err.path().to_string();
            let message = err.into_inner().to_string();
            BadRequest { field: field_of(&path, &message), message }
        })
    }
}

/// The field a deserialisation error is about: its path, or for a missing field (which serde
/// reports at the enclosing object) that field under the path.
fn field_of(path: &str, message: &str) -> Option<String> {
    let parent = (path != ".").then_some(path);
    let missing = message.strip_prefix("missing field `").and_then(|rest| rest.split('`').next());
    match (parent, missing) {
        (Some(parent), Some(name)) => Some(format!("{parent}.{name}")),
        (None, Some(name)) => Some(name.to_string()),
        (parent, None) => parent.map(str::to_string),
    }
}

/// `GET /__sim/stats`: totals over every endpoint, then the counts per endpoint.
#[derive(Debug, Serialize)]
pub struct StatsView {
    pub requests: u64,
    pub by_status: BTreeMap<u16, u64>,
    pub records_written: u64,
    pub records_read: u64,
    pub faults_fired: u64,
    pub endpoints: BTreeMap<String, EndpointStats>,
}

async fn stats(State(control): State<Control>) -> Json<StatsView> {
    let endpoints = control.stats.snapshot();
    let mut by_status = BTreeMap::new();
    for (status, count) in endpoints.values().flat_map(|e| &e.by_status) {
        *by_status.entry(*status).or_default() += count;
    }
    Json(StatsView {
        requests: endpoints.values().map(|e| e.requests).sum(),
        records_written: endpoints.values().map(|e| e.records_written).sum(),
        records_read: endpoints.values().map(|e| e.records_read).sum(),
        faults_fired: control.faults.fired(),
        by_status,
        endpoints,
    })
}

async fn reset_stats(State(control): State<Control>) -> StatusCode {
    control.stats.reset();
    StatusCode::NO_CONTENT
}

/// One fault rule as JSON, e.g. `{"method": "POST", "path": "/crm/v3/objects/*/batch/*",
/// "fault": {"respond": {"status": 502}}, "trigger": {"next": 2}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FaultSpec {
    /// Any method when absent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub method: Option<String>,
    /// A path pattern where `*` matches any run of characters.
    pub path: String,
    pub fault: FaultKind,
    /// `{"next": 1}` when absent.
    #[serde(default = "next_one")]
    pub trigger: TriggerSpec,
}

fn next_one() -> TriggerSpec {
    TriggerSpec::Next(1)
}

/// What goes wrong: `{"respond": {"status", "body", "headers"}}`, `{"delay_ms": N}`,
/// `"drop_mid_body"`, `{"respond_raw": {"status", "body", "content_type"}}` (exact bytes:
/// an HTML page, truncated JSON), `{"serve_then_raw": {"body", "status"?}}` (the request
/// is served, then its answer replaced by these bytes, under `status` if given), or `{"preset": NAME}` for a fault the
/// simulator offers by name.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", deny_unknown_fields)]
pub enum FaultKind {
    Respond {
        status: u16,
        #[serde(default)]
        body: Value,
        #[serde(default)]
        headers: BTreeMap<String, String>,
    },
    DelayMs(u64),
    DropMidBody,
    RespondRaw {
        status: u16,
        body: String,
        #[serde(default = "html")]
        content_type: String,
    },
    ServeThenRaw {
        body: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        status: Option<u16>,
    },
    Preset(String),
}

fn html() -> String {
    "text/html".into()
}

/// How often: `{"next": N}` (the next N matching requests) or `{"fraction": P}` (each
/// matching request with probability P, until cleared).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TriggerSpec {
    Next(u32),
    Fraction(f64),
}

impl FaultSpec {
    /// The rule this describes, or the field that is wrong with it.
    pub fn to_rule(&self, presets: &[Preset]) -> Result<FaultRule, BadRequest> {
        if !(self.path.starts_with('/') || self.path.starts_with('*')) {
            return Err(BadRequest::new("path", "must start with `/` or `*`"));
        }
        let mut rule = FaultRule::new(&self.path, self.fault.to_fault(presets)?, self.trigger()?);
        if let Some(method) = &self.method {
            Method::from_bytes(method.as_bytes())
                .map_err(|_| BadRequest::new("method", format!("`{method}` is not a method")))?;
            rule = rule.method(method);
        }
        Ok(rule)
    }

    fn trigger(&self) -> Result<Trigger, BadRequest> {
        match self.trigger {
            TriggerSpec::Next(0) => Err(BadRequest::new("trigger.next", "must be at least 1")),
            TriggerSpec::Next(n) => Ok(Trigger::Next(n)),
            TriggerSpec::Fraction(p) if (0.0..=1.0).contains(&p) => Ok(Trigger::Fraction(p)),
            TriggerSpec::Fraction(_) => {
                Err(BadRequest::new("trigger.fraction", "must be between 0 and 1"))
            }
        }
    }

    /// A rule as JSON (a preset shows as the answer it gives).
    pub fn from_rule(rule: &FaultRule) -> Self {
        let trigger = match rule.trigger {
            Trigger::Next(n) => TriggerSpec::Next(n),
            Trigger::Fraction(p) => TriggerSpec::Fraction(p),
        };
        let fault = match &rule.fault {
            Fault::Respond { status, body, headers } => FaultKind::Respond {
                status: *status,
                body: body.clone(),
                headers: headers.iter().cloned().collect(),
            },
            Fault::Delay(pause) => FaultKind::DelayMs(pause.as_millis() as u64),
            Fault::DropMidBody => FaultKind::DropMidBody,
            Fault::RespondRaw { status, body, content_type } => FaultKind::RespondRaw {
                status: *status,
                body: body.clone(),
                content_type: content_type.clone(),
            },
            Fault::ServeThenRaw { body, status } => {
                FaultKind::ServeThenRaw { body: body.clone(), status: *status }
            }
        };
        FaultSpec { method: rule.method.clone(), path: rule.path.clone(), fault, trigger }
    }
}

impl FaultKind {
    fn to_fault(&self, presets: &[Preset]) -> Result<Fault, BadRequest> {
        match self {
            FaultKind::Respond { status, body, headers } => {
                if !(100..=599).contains(status) {
                    let message = "must be an HTTP status, 100 to 599";
                    return Err(BadRequest::new("fault.respond.status", message));
                }
                let headers = headers.iter().map(valid_header).collect::<Result<_, _>>()?;
                Ok(Fault::Respond { status: *status, body: body.clone(), headers })
            }
            FaultKind::DelayMs(ms) => Ok(Fault::Delay(Duration::from_millis(*ms))),
            FaultKind::DropMidBody => Ok(Fault::DropMidBody),
            FaultKind::RespondRaw { status, body, content_type } => {
                if !(100..=599).contains(status) {
                    let message = "must be an HTTP status, 100 to 599";
                    return Err(BadRequest::new("fault.respond_raw.status", message));
                }
                HeaderValue::try_from(content_type.as_str()).map_err(|_| {
                    BadRequest::new("fault.respond_raw.content_type", "is not a header value")
                })?;
                let (body, content_type) = (body.clone(), content_type.clone());
                Ok(Fault::RespondRaw { status: *status, body, content_type })
            }
            FaultKind::ServeThenRaw { body, status } => {
                Ok(Fault::ServeThenRaw { body: body.clone(), status: *status })
            }
            FaultKind::Preset(name) => preset(presets, name),
        }
    }
}

fn valid_header((name, value): (&String, &String)) -> Result<(String, String), BadRequest> {
    let field = || format!("fault.respond.headers.{name}");
    HeaderName::try_from(name.as_str())
        .map_err(|_| BadRequest::new(field(), "is not a valid header name"))?;
    HeaderValue::try_from(value.as_str())
        .map_err(|_| BadRequest::new(field(), "is not a valid header value"))?;
    Ok((name.clone(), value.clone()))
}

fn preset(presets: &[Preset], name: &str) -> Result<Fault, BadRequest> {
    let found = presets.iter().find(|(known, _)| *known == name);
    found.map(|(_, make)| make()).ok_or_else(|| {
        let known: Vec<&str> = presets.iter().map(|(known, _)| *known).collect();
        let message = format!("unknown preset `{name}`; this simulator offers {known:?}");
        BadRequest::new("fault.preset", message)
    })
}

async fn list_faults(State(control): State<Control>) -> Json<Value> {
    let rules: Vec<FaultSpec> = control.faults.rules().iter().map(FaultSpec::from_rule).collect();
    let presets: Vec<&str> = control.presets.iter().map(|(name, _)| *name).collect();
    Json(json!({"rules": rules, "fired": control.faults.fired(), "presets": presets}))
}

async fn add_fault(
    State(control): State<Control>,
    Body(spec): Body<FaultSpec>,
) -> Result<Response, BadRequest> {
    let rule = spec.to_rule(control.presets)?;
    let added = FaultSpec::from_rule(&rule);
    control.faults.add(rule);
    Ok((StatusCode::CREATED, Json(added)).into_response())
}

async fn clear_faults(State(control): State<Control>) -> StatusCode {
    control.faults.clear();
    StatusCode::NO_CONTENT
}

/// One change to the clock: `{"freeze": true}`, `{"resume": true}`, `{"advance_ms": N}`
/// (negative goes back) or `{"set": "2026-01-01T00:00:00Z"}`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClockChange {
    #[serde(default)]
    pub freeze: bool,
    #[serde(default)]
    pub resume: bool,
    pub advance_ms: Option<i64>,
    pub set: Option<DateTime<Utc>>,
}

async fn clock(State(control): State<Control>) -> Json<Value> {
    Json(clock_view(&control.clock))
}

fn clock_view(clock: &SimClock) -> Value {
    json!({"now": clock.now().to_rfc3339_opts(SecondsFormat::Millis, true),
           "now_millis": clock.now_millis(), "frozen": clock.is_frozen()})
}

async fn change_clock(
    State(control): State<Control>,
    Body(change): Body<ClockChange>,
) -> Result<Json<Value>, BadRequest> {
    if change.freeze && change.resume {
        return Err(BadRequest::new("resume", "cannot freeze and resume at once"));
    }
    let clock = &control.clock;
    if change.freeze {
        clock.freeze();
    }
    if let Some(at) = change.set {
        clock.set(at);
    }
    if let Some(ms) = change.advance_ms {
        clock.advance(chrono::Duration::milliseconds(ms));
    }
    if change.resume {
        clock.resume();
    }
    Ok(Json(clock_view(clock)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_deserialisation_error_names_its_field() {
        assert_eq!(
            field_of("trigger.fraction", "invalid type").as_deref(),
            Some("trigger.fraction")
        );
        assert_eq!(field_of(".", "missing field `path` at line 1").as_deref(), Some("path"));
        let missing = "missing field `status` at line 1 column 30";
        assert_eq!(field_of("fault.respond", missing).as_deref(), Some("fault.respond.status"));
        assert_eq!(field_of(".", "EOF while parsing"), None);
    }

    #[test]
    fn a_rule_reads_back_as_the_json_that_made_it() {
        let spec: FaultSpec = serde_json::from_value(json!({
            "method": "post", "path": "/a/*",
            "fault": {"respond": {"status": 429, "body": {"x": 1}, "headers": {"retry-after": "2"}}},
            "trigger": {"fraction": 0.5}}))
        .unwrap();
        let back = FaultSpec::from_rule(&spec.to_rule(&[]).unwrap());
        assert_eq!(back, FaultSpec { method: Some("POST".into()), ..spec });
    }

    #[test]
    fn raw_and_serve_then_raw_faults_read_back_as_the_json_that_made_them() {
        for fault in [
            json!({"respond_raw": {"status": 200, "body": "<html>", "content_type": "text/html"}}),
            json!({"serve_then_raw": {"body": "{\"results\": ["}}),
            json!({"serve_then_raw": {"body": "oops", "status": 500}}),
        ] {
            let spec: FaultSpec =
                serde_json::from_value(json!({"path": "/a", "fault": fault})).unwrap();
            assert_eq!(FaultSpec::from_rule(&spec.to_rule(&[]).unwrap()), spec);
        }
    }
}
