//! HubSpot webhook requests: signature verification (v3 with its timestamp window and
//! replay refusal, v1 for older apps when enabled) and payloads parsed into typed events.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Duration;

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use chrono::{DateTime, Utc};
use hmac::{Hmac, Mac};
use reqwest::header::HeaderMap;
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use sha2::{Digest, Sha256};

/// Why a webhook request was refused; each answers 401 except `Malformed` (400).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum WebhookError {
    #[error("no signature header")]
    Unsigned,
    #[error("the signature does not match")]
    BadSignature,
    #[error("the request timestamp is missing or outside the allowed window")]
    Stale,
    #[error("this signed request was already accepted")]
    Replayed,
    #[error("v1 signatures are not accepted")]
    V1Disabled,
    #[error("the payload is not a HubSpot event array: {0}")]
    Malformed(String),
}

impl WebhookError {
    /// The HTTP status to answer with.
    pub fn status(&self) -> u16 {
        match self {
            WebhookError::Malformed(_) => 400,
            _ => 401,
        }
    }

    /// A stable name for logs and metrics.
    pub fn reason(&self) -> &'static str {
        match self {
            WebhookError::Unsigned => "unsigned",
            WebhookError::BadSignature => "bad_signature",
            WebhookError::Stale => "stale",
            WebhookError::Replayed => "replayed",
            WebhookError::V1Disabled => "v1_disabled",
            WebhookError::Malformed(_) => "malformed",
        }
    }
}

/// A webhook request as received: the full URL HubSpot called (scheme, host, path, query).
pub struct WebhookRequest<'a> {
    pub method: &'a str,
    pub url: &'a str,
    pub headers: &'a HeaderMap,
    pub body: &'a [u8],
}

/// Checks signatures with the app's client secret, and during a rotation with the previous
/// one too.
pub struct WebhookVerifier {
    secrets: Vec<SecretString>,
    window: Duration,
    accept_v1: bool,
    seen: Mutex<HashMap<String, i64>>,
}

impl WebhookVerifier {
    /// v3 only, with HubSpot's five-minute window.
    pub fn new(client_secret: SecretString) -> Self {
        WebhookVerifier {
            secrets: vec![client_secret],
            window: Duration::from_secs(300),
            accept_v1: false,
            seen: Mutex::new(HashMap::new()),
        }
    }

    /// Also accept v1 signatures (older apps); v1 has no timestamp to check.
    pub fn accept_v1(mut self) -> Self {
        self.accept_v1 = true;
        self
    }

    /// Also accepts signatures made with `previous`, while a secret rotation is under way.
    pub fn also_accept(mut self, previous: SecretString) -> Self {
        self.secrets.push(previous);
        self
    }

    /// Verifies the request at `now` and parses its events.
    pub fn verify(
        &self,
        request: &WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<Vec<WebhookEvent>, WebhookError> {
        self.authenticate(request, now)?;
        parse_events(request.body).inspect_err(count_refusal)
    }

    /// Checks the signature and timestamp only, counting and logging a refusal. A receiver
    /// that keeps signed-but-unparseable bodies calls this, then [`parse_events`].
    pub fn authenticate(
        &self,
        request: &WebhookRequest<'_>,
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        self.check(request, now).inspect_err(count_refusal)
    }

    fn check(&self, request: &WebhookRequest<'_>, now: DateTime<Utc>) -> Result<(), WebhookError> {
        if let Some(signature) = header(request.headers, "x-hubspot-signature-v3") {
            return self.check_v3(request, signature, now);
        }
        let version = header(request.headers, "x-hubspot-signature-version");
        match (header(request.headers, "x-hubspot-signature"), version) {
            (Some(signature), Some("v1") | None) if self.accept_v1 => {
                let signature = signature.to_lowercase();
                let matches = self.secrets.iter().any(|secret| {
                    let expected = v1_signature(secret.expose_secret(), request.body);
                    constant_time_eq(expected.as_bytes(), signature.as_bytes())
                });
                if matches { Ok(()) } else { Err(WebhookError::BadSignature) }
            }
            (Some(_), _) => Err(WebhookError::V1Disabled),
            (None, _) => Err(WebhookError::Unsigned),
        }
    }

    fn check_v3(
        &self,
        request: &WebhookRequest<'_>,
        signature: &str,
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let timestamp =
            header(request.headers, "x-hubspot-request-timestamp").ok_or(WebhookError::Stale)?;
        let millis: i64 = timestamp.trim().parse().map_err(|_| WebhookError::Stale)?;
        let age = (now.timestamp_millis() - millis).abs();
        if age > self.window.as_millis() as i64 {
            return Err(WebhookError::Stale);
        }
        let provided = STANDARD.decode(signature.trim()).map_err(|_| WebhookError::BadSignature)?;
        let matches = self.secrets.iter().any(|secret| {
            v3_mac(secret.expose_secret(), request, timestamp).verify_slice(&provided).is_ok()
        });
        if !matches {
            return Err(WebhookError::BadSignature);
        }
        self.remember(signature, millis, now)
    }

    /// Refuses a signature seen before, forgetting those older than the window.
    fn remember(
        &self,
        signature: &str,
        millis: i64,
        now: DateTime<Utc>,
    ) -> Result<(), WebhookError> {
        let mut seen = self.seen.lock().expect("replay lock");
        let horizon = now.timestamp_millis() - 2 * self.window.as_millis() as i64;
        seen.retain(|_, at| *at >= horizon);
        match seen.insert(signature.to_string(), millis) {
            Some(_) => Err(WebhookError::Replayed),
            None => Ok(()),
        }
    }
}

fn count_refusal(err: &WebhookError) {
    tracing::warn!(reason = err.reason(), "webhook refused");
    ::metrics::counter!(crate::metrics::CONNECTOR_WEBHOOKS_REFUSED, "reason" => err.reason())
        .increment(1);
}

fn header<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers.get(name)?.to_str().ok()
}

fn v3_mac(secret: &str, request: &WebhookRequest<'_>, timestamp: &str) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("any key length");
    mac.update(request.method.as_bytes());
    mac.update(decode_uri(request.url).as_bytes());
    mac.update(request.body);
    mac.update(timestamp.as_bytes());
    mac
}

/// `base64(HMAC-SHA256(secret, method + uri + body + timestamp))`.
pub fn v3_signature(secret: &str, method: &str, url: &str, body: &[u8], timestamp: &str) -> String {
    let headers = HeaderMap::new();
    let request = WebhookRequest { method, url, headers: &headers, body };
    STANDARD.encode(v3_mac(secret, &request, timestamp).finalize().into_bytes())
}

/// `hex(sha256(secret + body))`.
pub fn v1_signature(secret: &str, body: &[u8]) -> String {
    v2_signature(secret, "", "", body)
}

/// `hex(sha256(secret + method + uri + body))`: what HubSpot signs workflow webhook actions
/// and CRM card requests with. The receiver does not accept it (CRM webhooks never use it);
/// it is here for those integrations and to check the fact sheet's vectors.
pub fn v2_signature(secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(secret.as_bytes());
    hasher.update(method.as_bytes());
    hasher.update(uri.as_bytes());
    hasher.update(body);
    hasher.finalize().iter().map(|b| format!("{b:02x}")).collect()
}

/// Decodes only the escapes HubSpot decodes before signing.
pub fn decode_uri(url: &str) -> String {
    const DECODED: [(&str, &str); 12] = [
        ("%3A", ":"),
        ("%2F", "/"),
        ("%3F", "?"),
        ("%40", "@"),
        ("%21", "!"),
        ("%24", "$"),
        ("%27", "'"),
        ("%28", "("),
        ("%29", ")"),
        ("%2A", "*"),
        ("%2C", ","),
        ("%3B", ";"),
    ];
    let mut out = String::with_capacity(url.len());
    let mut rest = url;
    while let Some(pos) = rest.find('%') {
        out.push_str(&rest[..pos]);
        let escape = rest.get(pos..pos + 3).unwrap_or(&rest[pos..]);
        match DECODED.iter().find(|(code, _)| code.eq_ignore_ascii_case(escape)) {
            Some((_, plain)) => out.push_str(plain),
            None => out.push_str(escape),
        }
        rest = &rest[pos + escape.len()..];
    }
    out.push_str(rest);
    out
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// One webhook event.
#[derive(Debug, Clone, PartialEq)]
pub struct WebhookEvent {
    pub event_id: u64,
    pub subscription_id: u64,
    pub portal_id: u64,
    pub app_id: Option<u64>,
    pub occurred_at: DateTime<Utc>,
    pub attempt: u32,
    /// `contact`, `company`, …, or the `objectTypeId` of a generic `object.*` event.
    pub object_type: String,
    pub object_id: u64,
    pub change_source: Option<String>,
    pub source_id: Option<String>,
    pub kind: WebhookEventKind,
}

/// What the event says happened.
#[derive(Debug, Clone, PartialEq)]
pub enum WebhookEventKind {
    Creation,
    Deletion,
    PrivacyDeletion,
    Restore,
    PropertyChange {
        name: String,
        value: Option<String>,
    },
    AssociationChange {
        association_type: String,
        from_id: u64,
        to_id: u64,
        removed: bool,
    },
    Merge {
        primary_id: u64,
        merged_ids: Vec<u64>,
        new_id: Option<u64>,
    },
    /// A subscription type hubsync does not act on, kept by name.
    Other(String),
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    event_id: u64,
    subscription_id: u64,
    portal_id: u64,
    app_id: Option<u64>,
    occurred_at: i64,
    #[serde(alias = "eventType")]
    subscription_type: String,
    #[serde(default)]
    attempt_number: u32,
    #[serde(default)]
    object_id: u64,
    object_type_id: Option<String>,
    change_source: Option<String>,
    source_id: Option<String>,
    property_name: Option<String>,
    property_value: Option<String>,
    association_type: Option<String>,
    from_object_id: Option<u64>,
    to_object_id: Option<u64>,
    #[serde(default)]
    association_removed: bool,
    primary_object_id: Option<u64>,
    #[serde(default)]
    merged_object_ids: Vec<u64>,
    new_object_id: Option<u64>,
}

/// Parses a webhook body: a JSON array of events.
pub fn parse_events(body: &[u8]) -> Result<Vec<WebhookEvent>, WebhookError> {
    let raw: Vec<RawEvent> = serde_json::from_slice(body)
        .map_err(|err| WebhookError::Malformed(crate::redact::json_error(&err)))?;
    Ok(raw.into_iter().map(event).collect())
}

fn event(raw: RawEvent) -> WebhookEvent {
    let (prefix, action) = raw.subscription_type.split_once('.').unwrap_or(("", ""));
    let object_type = match (prefix, &raw.object_type_id) {
        ("object", Some(type_id)) => type_id.clone(),
        _ => prefix.to_string(),
    };
    let kind = match action {
        "creation" => WebhookEventKind::Creation,
        "deletion" => WebhookEventKind::Deletion,
        "privacyDeletion" => WebhookEventKind::PrivacyDeletion,
        "restore" => WebhookEventKind::Restore,
        "propertyChange" => WebhookEventKind::PropertyChange {
            name: raw.property_name.unwrap_or_default(),
            value: raw.property_value,
        },
        "associationChange" => WebhookEventKind::AssociationChange {
            association_type: raw.association_type.unwrap_or_default(),
            from_id: raw.from_object_id.unwrap_or_default(),
            to_id: raw.to_object_id.unwrap_or_default(),
            removed: raw.association_removed,
        },
        "merge" => WebhookEventKind::Merge {
            primary_id: raw.primary_object_id.unwrap_or(raw.object_id),
            merged_ids: raw.merged_object_ids,
            new_id: raw.new_object_id,
        },
        _ => WebhookEventKind::Other(raw.subscription_type.clone()),
    };
    WebhookEvent {
        event_id: raw.event_id,
        subscription_id: raw.subscription_id,
        portal_id: raw.portal_id,
        app_id: raw.app_id,
        occurred_at: DateTime::from_timestamp_millis(raw.occurred_at).unwrap_or_default(),
        attempt: raw.attempt_number,
        object_type,
        object_id: raw.object_id,
        change_source: raw.change_source,
        source_id: raw.source_id,
        kind,
    }
}

#[cfg(test)]
mod tests;
