//! Incremental reads with queryAll: paging, deletes and merges as their own changes, the
//! overlap window without duplicates, getDeleted, backfill and describe.

use std::collections::HashSet;

use chrono::Duration as ChronoDuration;
use hubsync::connector::{
    AssociationLink, ChangeCursor, ChangeKind, Connector, FieldKind, Lookup, ReadResult,
};
use serde_json::json;

use super::*;

async fn drain(
    salesforce: &SalesforceConnector,
    mut cursor: ChangeCursor,
) -> (Vec<hubsync::connector::Change>, ChangeCursor) {
    let fields = vec!["LastName".to_string()];
    let mut all = Vec::new();
    loop {
        let page = salesforce.read_changes("Contact", &cursor, &fields).await.unwrap();
        all.extend(page.changes);
        cursor = page.next;
        if !page.more {
            return (all, cursor);
        }
    }
}

#[tokio::test]
async fn queryall_pages_through_every_change_once() {
    let sim = sim().await;
    for i in 0..2_500 {
        sim.seed("Contact", json!({"LastName": format!("n{i}")})).unwrap();
    }
    let salesforce = connector(&sim);
    let (changes, cursor) = drain(&salesforce, ChangeCursor::start()).await;
    let ids: HashSet<_> = changes.iter().map(|c| c.id.clone()).collect();
    assert_eq!((changes.len(), ids.len()), (2_500, 2_500));
    assert!(changes.iter().all(|c| c.kind == ChangeKind::Upsert && c.record.is_some()));
    let (again, _) = drain(&salesforce, cursor).await;
    assert!(again.is_empty(), "the overlap window delivers nothing twice: {again:?}");
}

#[tokio::test]
async fn a_poll_resuming_at_a_locator_that_is_gone_reads_again_from_its_cursor() {
    let sim = sim().await;
    for i in 0..2_500 {
        sim.seed("Contact", json!({"LastName": format!("n{i}")})).unwrap();
    }
    let salesforce = connector(&sim);
    let fields = vec!["LastName".to_string()];
    let first = salesforce.read_changes("Contact", &ChangeCursor::start(), &fields).await.unwrap();
    assert!(first.more && first.next.resume.is_some());
    // a process that died before committing read the last page; its locator is closed now
    let other = connector(&sim);
    let last = other.read_changes("Contact", &first.next, &fields).await.unwrap();
    assert_eq!(last.changes.len(), 500);
    let (rest, _) = drain(&salesforce, first.next.clone()).await;
    let ids: HashSet<_> = rest.iter().map(|c| c.id.clone()).collect();
    let missing: Vec<_> = last.changes.iter().filter(|c| !ids.contains(&c.id)).collect();
    assert!(missing.is_empty(), "{} changes were never read again", missing.len());
}

#[tokio::test]
async fn deletes_and_merges_come_back_as_their_own_changes() {
    let sim = sim().await;
    let keep = sim.seed("Contact", json!({"LastName": "Keep"})).unwrap();
    let loser = sim.seed("Contact", json!({"LastName": "Loser"})).unwrap();
    let doomed = sim.seed("Contact", json!({"LastName": "Doomed"})).unwrap();
    let salesforce = connector(&sim);
    let (_, cursor) = drain(&salesforce, ChangeCursor::start()).await;
    sim.clock().advance(ChronoDuration::seconds(2));
    sim.merge(&keep, &[&loser]).unwrap();
    sim.delete_as_user(&doomed).unwrap();
    let (changes, _) = drain(&salesforce, cursor).await;
    let kind_of = |id: &str| changes.iter().find(|c| c.id == id).map(|c| c.kind.clone());
    assert_eq!(kind_of(&loser), Some(ChangeKind::Merge { into: keep.clone() }));
    assert_eq!(kind_of(&doomed), Some(ChangeKind::Delete));
    assert_eq!(kind_of(&keep), Some(ChangeKind::Upsert));
}

#[tokio::test]
async fn a_change_committed_late_inside_the_overlap_window_is_still_read() {
    let sim = sim().await;
    sim.clock().freeze();
    let first = sim.seed("Contact", json!({"LastName": "First"})).unwrap();
    let salesforce = connector(&sim);
    let (_, cursor) = drain(&salesforce, ChangeCursor::start()).await;
    // a record whose SystemModstamp lands before the cursor, as a slow commit does
    sim.clock().advance(ChronoDuration::seconds(-20));
    let late = sim.seed("Contact", json!({"LastName": "Late"})).unwrap();
    sim.clock().advance(ChronoDuration::seconds(40));
    let (changes, _) = drain(&salesforce, cursor).await;
    let ids: Vec<_> = changes.iter().map(|c| c.id.clone()).collect();
    assert_eq!(ids, vec![late], "the late one, and not {first} again");
}

#[tokio::test]
async fn get_deleted_reports_recent_deletes() {
    let sim = sim().await;
    let id = sim.seed("Contact", json!({"LastName": "Gone"})).unwrap();
    let since = sim.clock().now() - ChronoDuration::hours(1);
    sim.delete_as_user(&id).unwrap();
    sim.clock().advance(ChronoDuration::minutes(2));
    let deleted = connector(&sim).read_deletes("Contact", since).await.unwrap();
    assert_eq!(deleted.iter().map(|d| d.id.clone()).collect::<Vec<_>>(), vec![id]);
}

#[tokio::test]
async fn a_backfill_reads_by_id_and_external_id_and_describe_checks_fields() {
    let sim = sim().await;
    let salesforce = connector(&sim);
    salesforce.upsert_batch("Contact", KEY_FIELD, &contacts(3)).await.unwrap();
    let page = salesforce.read_all("Contact", None, &["LastName".into()]).await.unwrap();
    assert_eq!(page.records.len(), 3);
    let keys = vec!["hs-1".to_string(), "hs-404".to_string()];
    let read = salesforce
        .read_batch("Contact", &Lookup::Unique(KEY_FIELD.into()), &keys, &["LastName".into()])
        .await
        .unwrap();
    assert!(matches!(&read[0], ReadResult::Found(r) if r.properties["LastName"] == "Name 1"));
    assert_eq!(read[1], ReadResult::NotFound);
    let described = salesforce.describe("Contact").await.unwrap();
    assert!(described.field(KEY_FIELD).unwrap().unique);
    assert!(described.field("LastName").unwrap().required);
    assert!(described.field("SystemModstamp").unwrap().read_only);
    assert_eq!(described.field("AccountId").unwrap().kind, FieldKind::Reference);
}

#[tokio::test]
async fn a_contact_is_linked_to_its_account_through_the_lookup_field() {
    let sim = sim().await;
    let salesforce = connector(&sim);
    let contact = sim.seed("Contact", json!({"LastName": "Ng"})).unwrap();
    let account = sim.seed("Account", json!({"Name": "Acme"})).unwrap();
    let link = AssociationLink { from_id: contact.clone(), to_id: account.clone(), label: None };
    let created =
        salesforce.create_associations("Contact", "Account", std::slice::from_ref(&link)).await;
    let created = created.unwrap();
    assert!(created[0].is_success(), "{created:?}");
    let read =
        salesforce.read_associations("Contact", "Account", std::slice::from_ref(&contact)).await;
    assert_eq!(read.unwrap()[0].links[0].to_id, account);
    salesforce.remove_associations("Contact", "Account", &[link]).await.unwrap();
    let read = salesforce.read_associations("Contact", "Account", &[contact]).await.unwrap();
    assert!(read[0].links.is_empty());
}
