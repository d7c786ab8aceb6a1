//! Incremental reads by search: every change read once, none lost to the search lag or
//! to the 10,000-result cap.

use std::collections::HashSet;

use chrono::Duration as ChronoDuration;
use hubspot_sim::{HubspotSim, RateProfile};
use hubsync::connector::{ChangeCursor, ChangeKind, Connector};
use serde_json::json;

use super::*;

/// A custom property the simulator never returns unless asked for it.
const COLOUR: &str = "favourite_colour";

fn add_colour(sim: &HubspotSim) {
    sim.create_property(
        "contacts",
        json!({"name": COLOUR, "label": "Favourite colour", "type": "string",
               "fieldType": "text", "groupName": "contactinformation"}),
    )
    .expect("property created");
}

/// Reads pages until caught up; returns every change's (id, first name) and the cursor.
/// Every record carries the custom property asked for, set or empty.
async fn drain(
    hubspot: &HubspotConnector,
    mut cursor: ChangeCursor,
) -> (Vec<(String, String)>, ChangeCursor) {
    let fields = vec!["firstname".to_string(), COLOUR.to_string()];
    let mut seen = Vec::new();
    for _ in 0..10_000 {
        let page = hubspot.read_changes("contacts", &cursor, &fields).await.unwrap();
        for change in page.changes {
            assert_eq!(change.kind, ChangeKind::Upsert);
            let record = change.record.unwrap();
            assert!(record.properties.contains_key(COLOUR), "{:?}", record.properties);
            let name = record.properties["firstname"].as_str().unwrap_or("").into();
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
    add_colour(&sim);
    sim.clock().freeze();
    for i in 0..450 {
        sim.seed("contacts", json!({"firstname": format!("n{i}"), COLOUR: format!("c{i}")}))
            .unwrap();
        sim.clock().advance(ChronoDuration::milliseconds(i % 3));
    }
    sim.clock().advance(ChronoDuration::seconds(10));
    let hubspot = connector(&sim, generous());
    let (seen, cursor) = drain(&hubspot, ChangeCursor::start()).await;
    let ids: HashSet<_> = seen.iter().map(|(id, _)| id.clone()).collect();
    assert_eq!((seen.len(), ids.len()), (450, 450));
    let id = seen[10].0.parse().unwrap();
    sim.edit_as_user("contacts", id, json!({"firstname": "changed", COLOUR: "teal"}), 1).unwrap();
    sim.clock().advance(ChronoDuration::seconds(10));
    let (again, _) = drain(&hubspot, cursor.clone()).await;
    assert_eq!(again, vec![(seen[10].0.clone(), "changed".to_string())]);
    let fields = vec![COLOUR.to_string()];
    let before = ChangeCursor { modified_ms: cursor.modified_ms, ..ChangeCursor::start() };
    let page = hubspot.read_changes("contacts", &before, &fields).await.unwrap();
    let edited = page.changes.iter().find(|c| c.id == seen[10].0).expect("the edit is read");
    assert_eq!(edited.record.as_ref().unwrap().properties[COLOUR], "teal");
}

/// Every change the feed delivers from `cursor` over polls at each of `times`, in order.
async fn poll_at(
    sim: &HubspotSim,
    hubspot: &HubspotConnector,
    times: &[chrono::DateTime<chrono::Utc>],
) -> Vec<String> {
    let mut cursor = ChangeCursor::start();
    let mut seen = Vec::new();
    for at in times {
        sim.clock().set(*at);
        let (changes, next) = drain(hubspot, cursor).await;
        seen.extend(changes.into_iter().map(|(id, _)| id));
        cursor = next;
    }
    seen
}

#[tokio::test]
async fn a_change_the_search_index_sees_after_a_newer_one_is_still_read_within_the_safety_lag() {
    for lag in [HubspotOptions::default().search_safety_lag, Duration::ZERO] {
        let sim = lagging_sim(Duration::ZERO).await;
        sim.clock().freeze();
        let start = sim.clock().now();
        let older = sim.seed("contacts", json!({"firstname": "older"})).unwrap();
        // the index picks the older write up 20 s late, after a newer one
        sim.hold_from_search("contacts", older, Duration::from_secs(20)).unwrap();
        sim.clock().advance(ChronoDuration::seconds(1));
        let newer = sim.seed("contacts", json!({"firstname": "newer"})).unwrap();
        let options = HubspotOptions { search_safety_lag: lag, ..options(&sim) };
        let hubspot = HubspotConnector::new(&settings(&sim, generous()), options).unwrap();
        let times: Vec<_> =
            [2, 10, 25, 40, 60].iter().map(|s| start + ChronoDuration::seconds(*s)).collect();
        let seen = poll_at(&sim, &hubspot, &times).await;
        if lag.is_zero() {
            // without the lag the cursor passes the older write before search can see it
            assert_eq!(seen, vec![newer.to_string()], "lag 0 loses the late-indexed write");
        } else {
            assert_eq!(seen, vec![older.to_string(), newer.to_string()], "lag {lag:?}");
        }
    }
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
