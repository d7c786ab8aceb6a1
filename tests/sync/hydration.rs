//! Hydration: webhook property changes carry one property each, so the reconciler reads
//! their records again, with one batch read per object, never a read per record.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use hubsync::connector::Connector;
use hubsync::connector::hubspot::webhook::parse_events;
use hubsync::ingest::hubspot_events;
use hubsync::reconcile::gather::{Sources, gather};
use hubsync::store;
use serde_json::json;
use sqlx::PgPool;

use super::{Rig, contacts};

/// The contacts block, in scope only for HubSpot contacts with an email: a filter on the
/// HubSpot side means a property change alone cannot say whether its record is in scope.
fn filtered_contacts() -> String {
    let filter = "filter = [{ side = \"hubspot\", property = \"email\", op = \"is_set\" }]\n";
    format!("{}{filter}", contacts("newest_wins", "flag"))
}

/// Requests the HubSpot simulator served on CRM object endpoints whose route ends so.
fn object_requests(rig: &Rig, method: &str, route_end: &str) -> u64 {
    rig.hubspot
        .stats()
        .snapshot()
        .iter()
        .filter(|(endpoint, _)| endpoint.starts_with(&format!("{method} ")))
        .filter(|(endpoint, _)| endpoint.contains("objects") && endpoint.ends_with(route_end))
        .map(|(_, stats)| stats.requests)
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn property_changes_of_many_linked_records_are_hydrated_by_one_batch_read() {
    let mut rig = Rig::start(&filtered_contacts()).await;
    let mut ids = Vec::new();
    for i in 0..6 {
        let props = json!({"email": format!("h{i}@acme.com"), "firstname": "H", "lastname": "L"});
        ids.push(rig.linked_contact(props).await.0);
    }
    // the daemon stops, so this test alone decides what is read for the new events
    let db = rig.stop().await.expect("the rig keeps its database");
    let pool = PgPool::connect(&db.url).await.unwrap();
    let at = chrono::Utc::now().timestamp_millis();
    let events: Vec<_> = ids
        .iter()
        .zip(1u64..)
        .map(|(id, n)| {
            json!({"eventId": 9000 + n, "subscriptionId": 2, "portalId": 62515, "appId": 54321,
                   "occurredAt": at, "subscriptionType": "contact.propertyChange",
                   "attemptNumber": 0, "objectId": id, "propertyName": "firstname",
                   "propertyValue": format!("New {n}"), "changeSource": "CRM_UI"})
        })
        .collect();
    let body = serde_json::to_vec(&events).unwrap();
    let changes: Vec<_> = parse_events(&body)
        .unwrap()
        .iter()
        .flat_map(|event| hubspot_events::changes("hubspot", event))
        .collect();
    assert_eq!(store::journal::append(&pool, &changes).await.unwrap(), ids.len() as u64);
    let rows = store::journal::claim(&pool, "test", 100, Duration::from_secs(60)).await.unwrap();
    assert_eq!(rows.len(), ids.len());

    let connectors: BTreeMap<String, Arc<dyn Connector>> = [
        ("hubspot".to_string(), rig.hubspot_api.clone()),
        ("salesforce".to_string(), rig.salesforce_api.clone()),
    ]
    .into();
    let sources = Sources::new(&rig.settings, connectors);
    rig.hubspot.stats().reset();
    let context = gather(&sources, &rig.settings.sync, &pool, &rows).await.unwrap();

    assert_eq!(object_requests(&rig, "POST", "/{object_type}/batch/read"), 1, "one batch read");
    assert_eq!(object_requests(&rig, "GET", "/{object_type}/{object_id}"), 0, "no single reads");
    for id in &ids {
        let key =
            (hubsync::config::Side::Hubspot, "hubspot".into(), "contacts".into(), id.to_string());
        let record = context.records.get(&key).cloned().flatten();
        assert!(
            record.is_some_and(|r| r.properties.contains_key("email")),
            "contact {id} hydrated"
        );
    }
    drop(db);
}
