//! Incremental reads by search: every change read once, none lost to the search lag or
//! to the 10,000-result cap.

use std::collections::HashSet;

use chrono::Duration as ChronoDuration;
use hubsync::connector::{ChangeCursor, ChangeKind, Connector};
use hubsync::sim::hubspot::{HubspotSim, RateProfile};
use serde_json::json;

use super::*;

/// Reads pages until caught up; returns every change's (id, first name) and the cursor.
async fn drain(
    hubspot: &HubspotConnector,
    mut cursor: ChangeCursor,
) -> (Vec<(String, String)>, ChangeCursor) {
    let fields = vec!["firstname".to_string()];
    let mut seen = Vec::new();
    for _ in 0..10_000 {
        let page = hubspot.read_changes("contacts", &cursor, &fields).await.unwrap();
        for change in page.changes {
            assert_eq!(change.kind, ChangeKind::Upsert);
            let name = change.record.unwrap().properties["firstname"].as_str().unwrap_or("").into();
            seen.push((change.id, name));
        }
        cursor = page.next;
        if !page.more {
            return (seen, cursor);
        }
    }
    panic!("the change feed never caught up");
}

async fn lagging_sim(lag: Duration) -> HubspotSim {
    crate::support::init_test_log();
    let config =
        SimConfig { rate: RateProfile::UNLIMITED, search_lag: lag, ..SimConfig::default() };
    HubspotSim::start(config).await.unwrap()
}

#[tokio::test]
async fn every_contact_is_read_once_in_order_and_a_later_poll_sees_only_new_changes() {
    let sim = lagging_sim(Duration::ZERO).await;
    sim.clock().freeze();
    for i in 0..450 {
        sim.seed("contacts", json!({"firstname": format!("n{i}")})).unwrap();
        sim.clock().advance(ChronoDuration::milliseconds(i % 3));
    }
    sim.clock().advance(ChronoDuration::seconds(10));
    let hubspot = connector(&sim, generous());
    let (seen, cursor) = drain(&hubspot, ChangeCursor::start()).await;
    let ids: HashSet<_> = seen.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!((seen.len(), ids.len()), (450, 450));
    let id = seen[10].0.parse().unwrap();
    sim.edit_as_user("contacts", id, json!({"firstname": "changed"}), 1).unwrap();
    sim.clock().advance(ChronoDuration::seconds(10));
    let (again, _) = drain(&hubspot, cursor).await;
    assert_eq!(again, vec![(seen[10].0.clone(), "changed".to_string())]);
}

#[tokio::test]
async fn a_record_updated_while_a_poll_is_running_is_not_lost() {
    let sim = lagging_sim(Duration::from_secs(2)).await;
    sim.clock().freeze();
    let mut ids = Vec::new();
    for i in 0..600 {
        ids.push(sim.seed("contacts", json!({"firstname": format!("n{i}")})).unwrap());
        sim.clock().advance(ChronoDuration::milliseconds(1));
    }
    sim.clock().advance(ChronoDuration::seconds(10));
    let hubspot = connector(&sim, generous());
    let fields = vec!["firstname".to_string()];
    let first = hubspot.read_changes("contacts", &ChangeCursor::start(), &fields).await.unwrap();
    assert!(first.more);
    // a user edits a record the poll has not reached yet, and one it has already passed
    sim.edit_as_user("contacts", ids[500], json!({"firstname": "late"}), 1).unwrap();
    sim.edit_as_user("contacts", ids[3], json!({"firstname": "early"}), 1).unwrap();
    let (rest, cursor) = drain(&hubspot, first.next.clone()).await;
    // the search index has not seen the edits yet; they arrive once the safety lag passes
    sim.clock().advance(ChronoDuration::seconds(10));
    let (later, _) = drain(&hubspot, cursor).await;
    let mut all: Vec<(String, String)> = first
        .changes
        .into_iter()
        .map(|c| (c.id, c.record.unwrap().properties["firstname"].as_str().unwrap().into()))
        .collect();
    all.extend(rest);
    all.extend(later);
    let ids_seen: HashSet<_> = all.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(ids_seen.len(), 600, "every record was read");
    for (id, name) in [(ids[500], "late"), (ids[3], "early")] {
        assert!(all.contains(&(id.to_string(), name.to_string())), "{id} {name}");
    }
}

#[tokio::test]
async fn twenty_five_thousand_contacts_sharing_one_timestamp_are_all_read_once() {
    let sim = lagging_sim(Duration::ZERO).await;
    sim.clock().freeze();
    for i in 0..25_000 {
        sim.seed("contacts", json!({"firstname": format!("n{i}")})).unwrap();
    }
    sim.seed("contacts", json!({"firstname": "before"})).unwrap();
    sim.clock().advance(ChronoDuration::seconds(1));
    sim.seed("contacts", json!({"firstname": "after"})).unwrap();
    sim.clock().advance(ChronoDuration::seconds(10));
    let hubspot = connector(&sim, generous());
    let (seen, _) = drain(&hubspot, ChangeCursor::start()).await;
    let ids: HashSet<_> = seen.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!(seen.len(), 25_002, "each record once");
    assert_eq!(ids.len(), 25_002);
    assert_eq!(seen.last().unwrap().1, "after");
    assert_eq!(sim.stats().total_with_status(400), 0, "never paged past the cap");
}
