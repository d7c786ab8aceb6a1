//! HubSpot webhook events as journal changes: one change per record an event touches,
//! keyed by the event's content so a redelivery is recorded once.

use std::collections::BTreeMap;

use serde_json::json;
use sha2::{Digest, Sha256};

use crate::config::Side;
use crate::connector::hubspot::webhook::{WebhookEvent, WebhookEventKind};
use crate::journal::{Arrival, ChangeKind, NewChange, PRIVACY_DELETION, PropertyChange};

/// The journal changes an event stands for. Subscription types hubsync does not act on
/// give none.
pub fn changes(connector: &str, event: &WebhookEvent) -> Vec<NewChange> {
    let key = dedup_key(event);
    let base = |record: u64, kind: ChangeKind, properties, suffix: &str| NewChange {
        side: Side::Hubspot,
        connector: connector.to_string(),
        object_type: object_name(&event.object_type),
        record_id: record.to_string(),
        kind,
        properties,
        occurred_at: event.occurred_at,
        source: Arrival::Webhook,
        dedup_key: format!("{key}{suffix}"),
    };
    let none = BTreeMap::new;
    match &event.kind {
        WebhookEventKind::Creation => vec![base(event.object_id, ChangeKind::Upsert, none(), "")],
        WebhookEventKind::PropertyChange { name, value } => {
            let change =
                PropertyChange { value: value.clone(), timestamp: Some(event.occurred_at) };
            let properties = BTreeMap::from([(name.clone(), change)]);
            vec![base(event.object_id, ChangeKind::Upsert, properties, "")]
        }
        WebhookEventKind::Deletion => vec![base(event.object_id, ChangeKind::Delete, none(), "")],
        WebhookEventKind::PrivacyDeletion => {
            let marker =
                PropertyChange { value: Some("true".into()), timestamp: Some(event.occurred_at) };
            let properties = BTreeMap::from([(PRIVACY_DELETION.to_string(), marker)]);
            vec![base(event.object_id, ChangeKind::Delete, properties, "")]
        }
        WebhookEventKind::Restore => vec![base(event.object_id, ChangeKind::Restore, none(), "")],
        WebhookEventKind::AssociationChange { association_type, from_id, to_id, removed } => {
            let kind = if *removed {
                ChangeKind::AssociationRemoved
            } else {
                ChangeKind::AssociationAdded
            };
            let text =
                |v: String| PropertyChange { value: Some(v), timestamp: Some(event.occurred_at) };
            let properties = BTreeMap::from([
                ("association_type".to_string(), text(association_type.clone())),
                ("to_id".to_string(), text(to_id.to_string())),
            ]);
            vec![base(*from_id, kind, properties, "")]
        }
        WebhookEventKind::Merge { primary_id, merged_ids, new_id } => {
            let survivor = new_id.unwrap_or(*primary_id);
            merged_away(*primary_id, merged_ids, survivor)
                .map(|id| {
                    let kind = ChangeKind::Merge { into: survivor.to_string() };
                    base(id, kind, none(), &format!(":{id}"))
                })
                .collect()
        }
        WebhookEventKind::Other(_) => Vec::new(),
    }
}

/// `hubspot-webhook:PORTAL:HASH`, the hash of everything that tells the event apart from
/// another: HubSpot documents `eventId` as not unique, so two events sharing one are both
/// journalled. `attemptNumber` is left out, so HubSpot's redelivery of an event is the
/// same key.
fn dedup_key(event: &WebhookEvent) -> String {
    let kind = match &event.kind {
        WebhookEventKind::Creation => json!(["creation"]),
        WebhookEventKind::Deletion => json!(["deletion"]),
        WebhookEventKind::PrivacyDeletion => json!(["privacyDeletion"]),
        WebhookEventKind::Restore => json!(["restore"]),
        WebhookEventKind::PropertyChange { name, value } => json!(["propertyChange", name, value]),
        WebhookEventKind::AssociationChange { association_type, from_id, to_id, removed } => {
            json!(["associationChange", association_type, from_id, to_id, removed])
        }
        WebhookEventKind::Merge { primary_id, merged_ids, new_id } => {
            json!(["merge", primary_id, merged_ids, new_id])
        }
        WebhookEventKind::Other(name) => json!(["other", name]),
    };
    let identity = json!([
        event.portal_id,
        event.subscription_id,
        event.event_id,
        event.object_type,
        event.object_id,
        event.occurred_at.timestamp_millis(),
        event.change_source,
        event.source_id,
        kind,
    ]);
    let digest = Sha256::digest(identity.to_string().as_bytes());
    let hex: String = digest.iter().map(|b| format!("{b:02x}")).collect();
    format!("hubspot-webhook:{}:{hex}", event.portal_id)
}

/// Every id that stops existing: the merged ids, and the primary too when HubSpot minted a
/// new id for the merged record.
fn merged_away(primary: u64, merged: &[u64], survivor: u64) -> impl Iterator<Item = u64> + '_ {
    let primary = (primary != survivor).then_some(primary);
    merged.iter().copied().chain(primary).filter(move |id| *id != survivor)
}

/// The plural object name the rest of hubsync uses, from a webhook's `contact` prefix or a
/// generic event's `objectTypeId`. Unknown types keep their name.
pub fn object_name(webhook_type: &str) -> String {
    let name = match webhook_type {
        "contact" | "0-1" => "contacts",
        "company" | "0-2" => "companies",
        "deal" | "0-3" => "deals",
        "ticket" | "0-5" => "tickets",
        "product" | "0-7" => "products",
        "line_item" | "0-8" => "line_items",
        "note" | "0-46" => "notes",
        "call" | "0-48" => "calls",
        "email" | "0-49" => "emails",
        "meeting" | "0-47" => "meetings",
        "task" | "0-27" => "tasks",
        other => other,
    };
    name.to_string()
}

#[cfg(test)]
mod tests {
    use chrono::{TimeZone, Utc};

    use super::*;

    fn event(kind: WebhookEventKind) -> WebhookEvent {
        WebhookEvent {
            event_id: 77,
            subscription_id: 5,
            portal_id: 62515,
            app_id: Some(1),
            occurred_at: Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap(),
            attempt: 0,
            object_type: "contact".into(),
            object_id: 101,
            change_source: Some("CRM_UI".into()),
            source_id: None,
            kind,
        }
    }

    #[test]
    fn a_property_change_carries_its_one_property_with_the_event_time() {
        let kind = WebhookEventKind::PropertyChange {
            name: "email".into(),
            value: Some("a@x.com".into()),
        };
        let changes = changes("hubspot", &event(kind));
        assert_eq!(changes.len(), 1);
        let change = &changes[0];
        assert_eq!((change.object_type.as_str(), change.record_id.as_str()), ("contacts", "101"));
        assert_eq!(change.properties["email"].value.as_deref(), Some("a@x.com"));
        assert!(change.dedup_key.starts_with("hubspot-webhook:62515:"), "{}", change.dedup_key);
    }

    #[test]
    fn the_dedup_key_tells_apart_events_sharing_an_event_id_but_not_a_redelivery() {
        let kind = |value: &str| WebhookEventKind::PropertyChange {
            name: "email".into(),
            value: Some(value.into()),
        };
        let key = |event: &WebhookEvent| changes("hubspot", event)[0].dedup_key.clone();
        let first = event(kind("a@x.com"));
        let redelivered = WebhookEvent { attempt: 1, ..first.clone() };
        assert_eq!(key(&first), key(&redelivered));
        let other_value = event(kind("b@x.com"));
        let other_record = WebhookEvent { object_id: 102, ..first.clone() };
        let later = WebhookEvent {
            occurred_at: first.occurred_at + chrono::Duration::seconds(1),
            ..first.clone()
        };
        for other in [other_value, other_record, later] {
            assert_ne!(key(&first), key(&other), "{other:?}");
        }
    }

    #[test]
    fn a_merge_that_minted_a_new_id_retires_the_primary_and_the_merged_records() {
        let kind =
            WebhookEventKind::Merge { primary_id: 101, merged_ids: vec![102], new_id: Some(900) };
        let changes = changes("hubspot", &event(kind));
        let retired: Vec<_> =
            changes.iter().map(|c| (c.record_id.as_str(), c.kind.clone())).collect();
        let into = ChangeKind::Merge { into: "900".into() };
        assert_eq!(retired, [("102", into.clone()), ("101", into)]);
        assert_ne!(changes[0].dedup_key, changes[1].dedup_key);
    }

    #[test]
    fn a_merge_keeping_the_primary_id_retires_only_the_merged_records() {
        let kind = WebhookEventKind::Merge { primary_id: 101, merged_ids: vec![102], new_id: None };
        let changes = changes("hubspot", &event(kind));
        assert_eq!(changes.len(), 1);
        assert_eq!(changes[0].kind, ChangeKind::Merge { into: "101".into() });
    }

    #[test]
    fn generic_object_events_are_named_by_their_type_id() {
        assert_eq!(object_name("0-46"), "notes");
        assert_eq!(object_name("2-1234567"), "2-1234567");
    }
}
