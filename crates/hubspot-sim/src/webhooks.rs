//! Webhook subscriptions and events: which changes each subscription hears about, and the
//! payload fields HubSpot sends for them. Delivery itself is in `delivery`.

use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::{Value, json};
use tokio::sync::mpsc;

use super::events::{Change, ChangeKind};
use super::types::TypeRegistry;

/// One app subscription, e.g. `contact.propertyChange` on `email`, or `object.creation` for
/// `objectTypeId` `0-46`.
#[derive(Debug, Clone)]
pub struct Subscription {
    pub id: u64,
    pub event_type: String,
    /// For `*.propertyChange`: only this property (`None`: every property).
    pub property_name: Option<String>,
    /// For generic `object.*` subscriptions: the object type id.
    pub object_type_id: Option<String>,
    pub active: bool,
}

impl Subscription {
    pub fn new(id: u64, event_type: &str) -> Self {
        Subscription {
            id,
            event_type: event_type.into(),
            property_name: None,
            object_type_id: None,
            active: true,
        }
    }

    pub fn property(mut self, name: &str) -> Self {
        self.property_name = Some(name.into());
        self
    }

    pub fn object_type(mut self, type_id: &str) -> Self {
        self.object_type_id = Some(type_id.into());
        self
    }
}

/// When failed deliveries are retried: HubSpot retries up to 10 times, at randomised delays
/// spread over the next 24 hours. `scale` shrinks the schedule for tests (0.0001 turns a
/// minute into 6 ms).
#[derive(Debug, Clone)]
pub struct RetrySchedule {
    pub delays: Vec<Duration>,
    pub scale: f64,
    /// Random spread, as a fraction of each delay. The default keeps the last retry within
    /// 24 hours even when every delay is stretched.
    pub jitter: f64,
}

impl Default for RetrySchedule {
    fn default() -> Self {
        let minutes = [1, 5, 15, 30, 60, 120, 180, 240, 360, 360];
        RetrySchedule {
            delays: minutes.iter().map(|m| Duration::from_secs(m * 60)).collect(),
            scale: 1.0,
            jitter: 0.05,
        }
    }
}

impl RetrySchedule {
    /// The same schedule, `scale` times as long.
    pub fn scaled(scale: f64) -> Self {
        RetrySchedule { scale, ..RetrySchedule::default() }
    }
}

/// Misbehaviour to exercise a receiver: each is the chance per batch.
#[derive(Debug, Clone, Default)]
pub struct Chaos {
    /// The batch is delivered a second time after it succeeds.
    pub duplicate_fraction: f64,
    /// The batch's events are shuffled and it is held back by `delay`, so later batches
    /// overtake it.
    pub out_of_order_fraction: f64,
    /// The batch waits `delay` before its first attempt.
    pub delay_fraction: f64,
    pub delay: Duration,
}

/// The app's webhook settings.
#[derive(Debug, Clone)]
pub struct WebhookSettings {
    pub target_url: String,
    pub client_secret: String,
    pub app_id: u64,
    pub subscriptions: Vec<Subscription>,
    pub retry: RetrySchedule,
    /// No answer within this long counts as a failure (HubSpot: 5 s).
    pub timeout: Duration,
    pub max_concurrent: usize,
    /// Events per request (HubSpot: at most 100).
    pub max_batch: usize,
    /// How long events wait for company before a batch is sent.
    pub linger: Duration,
    pub chaos: Chaos,
}

impl WebhookSettings {
    pub fn new(target_url: &str, client_secret: &str, subscriptions: Vec<Subscription>) -> Self {
        WebhookSettings {
            target_url: target_url.into(),
            client_secret: client_secret.into(),
            app_id: 54321,
            subscriptions,
            retry: RetrySchedule::default(),
            timeout: Duration::from_secs(5),
            max_concurrent: 10,
            max_batch: 100,
            linger: Duration::from_millis(20),
            chaos: Chaos::default(),
        }
    }
}

/// One delivery attempt, as tests read them back.
#[derive(Debug, Clone)]
pub struct Delivery {
    pub event_ids: Vec<u64>,
    pub attempt: u32,
    /// The receiver's status; `None` when it did not answer in time or the connection failed.
    pub status: Option<u16>,
    pub duplicate: bool,
    pub body: String,
}

/// Subscriptions, the queue to the delivery worker, and the delivery log.
pub struct Webhooks {
    portal_id: u64,
    pub(super) settings: Mutex<Option<Arc<WebhookSettings>>>,
    active: AtomicBool,
    next_event_id: AtomicU64,
    pub(super) queue: Mutex<Option<mpsc::UnboundedSender<Vec<Value>>>>,
    pub(super) log: Mutex<Vec<Delivery>>,
    pub(super) seed: u64,
}

impl Webhooks {
    pub fn new(portal_id: u64, seed: u64) -> Self {
        Webhooks {
            portal_id,
            settings: Mutex::new(None),
            active: AtomicBool::new(false),
            next_event_id: AtomicU64::new(100),
            queue: Mutex::new(None),
            log: Mutex::new(Vec::new()),
            seed,
        }
    }

    /// Whether any subscription is listening.
    pub fn active(&self) -> bool {
        self.active.load(Ordering::Relaxed)
    }

    pub fn configure(&self, settings: Option<WebhookSettings>) {
        let active = settings
            .as_ref()
            .is_some_and(|s| !s.target_url.is_empty() && s.subscriptions.iter().any(|s| s.active));
        *self.settings.lock().expect("webhook lock") = settings.map(Arc::new);
        self.active.store(active, Ordering::Relaxed);
    }

    pub fn current(&self) -> Option<Arc<WebhookSettings>> {
        self.settings.lock().expect("webhook lock").clone()
    }

    /// Turns changes into events for every matching subscription and queues them.
    pub fn publish_with(&self, changes: Vec<Change>, types: &TypeRegistry) {
        let Some(settings) = self.current() else { return };
        let mut events = Vec::new();
        for change in &changes {
            for subscription in settings.subscriptions.iter().filter(|s| s.active) {
                if let Some(event) = self.event(&settings, subscription, change, types) {
                    events.push(event);
                }
            }
        }
        let queue = self.queue.lock().expect("webhook lock");
        if let (false, Some(queue)) = (events.is_empty(), queue.as_ref()) {
            let _ = queue.send(events);
        }
    }

    fn event(
        &self,
        settings: &WebhookSettings,
        subscription: &Subscription,
        change: &Change,
        types: &TypeRegistry,
    ) -> Option<Value> {
        let object = types.get(&change.type_id)?;
        if !hears(subscription, change, object) {
            return None;
        }
        let generic = subscription.event_type.starts_with("object.");
        let mut event = json!({
            "eventId": self.next_event_id.fetch_add(1, Ordering::Relaxed),
            "subscriptionId": subscription.id,
            "portalId": self.portal_id,
            "appId": settings.app_id,
            "occurredAt": change.occurred_at,
            "subscriptionType": subscription.event_type,
            "attemptNumber": 0,
            "changeSource": change.source_type,
        });
        if let Some(source) = &change.source_id {
            event["sourceId"] = json!(source);
        }
        if generic {
            event["objectTypeId"] = json!(change.type_id);
        }
        add_kind_fields(&mut event, change);
        Some(event)
    }
}

/// Whether a subscription hears about a change: the right object type (legacy per-object or
/// generic `object.*` with its type id), the right event, and for property changes the
/// right property.
fn hears(subscription: &Subscription, change: &Change, object: &super::types::ObjectType) -> bool {
    let Some((prefix, event)) = subscription.event_type.split_once('.') else { return false };
    let type_matches = if prefix == "object" {
        subscription.object_type_id.as_deref() == Some(change.type_id.as_str())
    } else {
        object.legacy_webhooks && prefix == object.singular
    };
    let property_matches = match (&change.kind, &subscription.property_name) {
        (ChangeKind::PropertyChange { name, .. }, Some(wanted)) => name == wanted,
        _ => true,
    };
    type_matches && event == change.kind.event_name() && property_matches
}

fn add_kind_fields(event: &mut Value, change: &Change) {
    if !matches!(change.kind, ChangeKind::AssociationChange { .. }) {
        event["objectId"] = json!(change.object_id);
    }
    match &change.kind {
        ChangeKind::Creation => event["changeFlag"] = json!("NEW"),
        ChangeKind::PropertyChange { name, value } => {
            event["propertyName"] = json!(name);
            event["propertyValue"] = json!(value);
        }
        ChangeKind::Merge { primary, merged, new_id, properties_moved } => {
            event["primaryObjectId"] = json!(primary);
            event["mergedObjectIds"] = json!(merged);
            event["newObjectId"] = json!(new_id);
            event["numberOfPropertiesMoved"] = json!(properties_moved);
        }
        ChangeKind::AssociationChange { association_type, to_id, removed, primary } => {
            event["associationType"] = json!(association_type);
            event["fromObjectId"] = json!(change.object_id);
            event["toObjectId"] = json!(to_id);
            event["associationRemoved"] = json!(removed);
            event["isPrimaryAssociation"] = json!(primary);
        }
        ChangeKind::Deletion | ChangeKind::PrivacyDeletion | ChangeKind::Restore => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn by_default_a_receiver_has_five_seconds_batches_hold_100_and_10_retries_span_a_day() {
        let settings = WebhookSettings::new("https://example.com/hooks", "secret", Vec::new());
        assert_eq!(settings.timeout, Duration::from_secs(5));
        assert_eq!(settings.max_batch, 100);
        assert_eq!(settings.max_concurrent, 10);
        let retry = &settings.retry;
        assert_eq!(retry.delays.len(), 10, "up to 10 retries");
        assert_eq!(retry.scale, 1.0, "HubSpot's own pace unless a test scales it");
        assert!(retry.jitter > 0.0, "the delays are randomised");
        assert!(retry.delays.windows(2).all(|pair| pair[0] <= pair[1]), "the delays grow");
        let day = Duration::from_secs(24 * 3600);
        let latest: Duration = retry.delays.iter().map(|d| d.mul_f64(1.0 + retry.jitter)).sum();
        assert!(latest <= day, "the last retry comes within 24 hours: {latest:?}");
        let nominal: Duration = retry.delays.iter().sum();
        assert!(nominal >= Duration::from_secs(20 * 3600), "spread over the day: {nominal:?}");
    }
}
