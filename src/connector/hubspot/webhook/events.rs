//! Webhook payloads: a JSON array of events, each parsed on its own so that one event
//! hubsync cannot take (a missing `objectId`, a bad `occurredAt`, an unknown subscription
//! type, a lone surrogate) is set aside with its reason while the rest of the batch goes on.

use chrono::{DateTime, Utc};
use serde::Deserialize;
use serde_json::Value;
use serde_json::value::RawValue;

use super::WebhookError;

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
    /// The record the event is about; for an association change, its `fromObjectId`.
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
    /// A subscription type hubsync knows but does not act on (`conversation.*`,
    /// `event.completed`), kept by name.
    Other(String),
}

/// Why one event of a batch was set aside.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejection {
    /// A stable name for metrics and logs, free of values.
    pub code: &'static str,
    /// For an operator: which field and what is wrong with it. May quote the value.
    pub detail: String,
}

impl Rejection {
    pub fn new(code: &'static str, detail: impl Into<String>) -> Self {
        Rejection { code, detail: detail.into() }
    }
}

/// One event of a batch: its JSON exactly as received, and what it parsed into.
#[derive(Debug)]
pub struct BatchEvent {
    pub raw: String,
    pub parsed: Result<WebhookEvent, Rejection>,
}

/// Parses a webhook body event by event. Only a body that is not a JSON array is refused
/// as a whole.
pub fn parse_batch(body: &[u8]) -> Result<Vec<BatchEvent>, WebhookError> {
    let raw: Vec<&RawValue> = serde_json::from_slice(body)
        .map_err(|err| WebhookError::Malformed(crate::redact::json_error(&err)))?;
    Ok(raw
        .into_iter()
        .map(|raw| BatchEvent { raw: raw.get().to_string(), parsed: parse_one(raw.get()) })
        .collect())
}

/// Parses a webhook body that must hold only events hubsync can take: the first one it
/// cannot is the error.
pub fn parse_events(body: &[u8]) -> Result<Vec<WebhookEvent>, WebhookError> {
    parse_batch(body)?
        .into_iter()
        .enumerate()
        .map(|(i, event)| {
            event.parsed.map_err(|r| WebhookError::Malformed(format!("event {i}: {}", r.detail)))
        })
        .collect()
}

/// Before this, a number is not a HubSpot millisecond timestamp (seconds, or zero).
const EARLIEST_MS: i64 = 946_684_800_000; // 2000-01-01

fn parse_one(raw: &str) -> Result<WebhookEvent, Rejection> {
    let value: Value = serde_json::from_str(raw).map_err(|err| invalid_json(raw, &err))?;
    let occurred_at = value
        .get("occurredAt")
        .and_then(Value::as_i64)
        .filter(|ms| *ms >= EARLIEST_MS)
        .and_then(DateTime::from_timestamp_millis)
        .ok_or_else(|| {
            Rejection::new("bad_occurred_at", "`occurredAt` is not a millisecond timestamp")
        })?;
    let raw: RawEvent = serde_json::from_value(value)
        .map_err(|err| Rejection::new("invalid_event", crate::redact::json_error(&err)))?;
    event(raw, occurred_at)
}

/// Says so when the likely cause is a lone surrogate (`\ud800`), which JSON can spell but
/// no string can hold.
fn invalid_json(raw: &str, err: &serde_json::Error) -> Rejection {
    let lower = raw.to_ascii_lowercase();
    let detail = if (0xd8..=0xdf).any(|b| lower.contains(&format!("\\u{b:x}"))) {
        format!(
            "holds a lone surrogate escape, which is no character: {}",
            crate::redact::json_error(err)
        )
    } else {
        format!("not valid JSON: {}", crate::redact::json_error(err))
    };
    Rejection::new("invalid_json", detail)
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct RawEvent {
    event_id: u64,
    subscription_id: u64,
    portal_id: u64,
    app_id: Option<u64>,
    #[serde(alias = "eventType")]
    subscription_type: String,
    #[serde(default)]
    attempt_number: u32,
    object_id: Option<u64>,
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

/// Subscription types whose events hubsync knows and ignores.
const IGNORED: [&str; 2] = ["conversation", "event"];

fn event(raw: RawEvent, occurred_at: DateTime<Utc>) -> Result<WebhookEvent, Rejection> {
    let (prefix, action) = raw.subscription_type.split_once('.').unwrap_or(("", ""));
    let object_type = match (prefix, &raw.object_type_id) {
        ("object", Some(type_id)) => type_id.clone(),
        _ => prefix.to_string(),
    };
    let missing = |field: &str| Rejection::new("missing_field", format!("`{field}` is missing"));
    let object_id = raw.object_id.ok_or_else(|| {
        Rejection::new("missing_object_id", "`objectId` is missing; the event names no record")
    });
    let (kind, object_id) = match action {
        "creation" => (WebhookEventKind::Creation, object_id?),
        "deletion" => (WebhookEventKind::Deletion, object_id?),
        "privacyDeletion" => (WebhookEventKind::PrivacyDeletion, object_id?),
        "restore" => (WebhookEventKind::Restore, object_id?),
        "propertyChange" => {
            let name = raw.property_name.ok_or_else(|| missing("propertyName"))?;
            let value = raw.property_value;
            (WebhookEventKind::PropertyChange { name, value }, object_id?)
        }
        "associationChange" => {
            let from_id = raw.from_object_id.ok_or_else(|| missing("fromObjectId"))?;
            let kind = WebhookEventKind::AssociationChange {
                association_type: raw.association_type.ok_or_else(|| missing("associationType"))?,
                from_id,
                to_id: raw.to_object_id.ok_or_else(|| missing("toObjectId"))?,
                removed: raw.association_removed,
            };
            (kind, from_id)
        }
        "merge" => {
            let object_id = object_id?;
            let kind = WebhookEventKind::Merge {
                primary_id: raw.primary_object_id.unwrap_or(object_id),
                merged_ids: raw.merged_object_ids,
                new_id: raw.new_object_id,
            };
            (kind, object_id)
        }
        _ if IGNORED.contains(&prefix) => {
            (WebhookEventKind::Other(raw.subscription_type.clone()), raw.object_id.unwrap_or(0))
        }
        _ => {
            let detail =
                format!("`subscriptionType` `{}` is not one hubsync knows", raw.subscription_type);
            return Err(Rejection::new("unknown_subscription_type", detail));
        }
    };
    Ok(WebhookEvent {
        event_id: raw.event_id,
        subscription_id: raw.subscription_id,
        portal_id: raw.portal_id,
        app_id: raw.app_id,
        occurred_at,
        attempt: raw.attempt_number,
        object_type,
        object_id,
        change_source: raw.change_source,
        source_id: raw.source_id,
        kind,
    })
}
