//! The reconciler's tables: links between records, and what is known of each linked pair.

use chrono::{TimeZone, Utc};
use hubsync::config::Side;
use hubsync::store::record_state::Known;
use hubsync::store::{links, record_state as state};
use serde_json::json;
use sqlx::PgPool;

use crate::support::database::TestDatabase;

async fn migrated() -> (TestDatabase, PgPool) {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    (db, pool)
}

#[tokio::test]
async fn a_link_is_found_from_either_side_and_linking_again_is_harmless() {
    let (_db, pool) = migrated().await;
    let link = links::link(&pool, "contacts", "101", "003A").await.unwrap().unwrap();
    let again = links::link(&pool, "contacts", "101", "003A").await.unwrap().unwrap();
    assert_eq!(link, again);
    let by_external = links::find(&pool, "contacts", Side::External, "003A").await.unwrap();
    assert_eq!(by_external.unwrap().hubspot_id, "101");
    assert!(links::find(&pool, "companies", Side::Hubspot, "101").await.unwrap().is_none());
}

#[tokio::test]
async fn a_record_cannot_be_linked_to_a_second_partner() {
    let (_db, pool) = migrated().await;
    links::link(&pool, "contacts", "101", "003A").await.unwrap().unwrap();
    assert!(links::link(&pool, "contacts", "101", "003B").await.unwrap().is_none());
    assert!(links::link(&pool, "contacts", "102", "003A").await.unwrap().is_none());
}

#[tokio::test]
async fn a_hubspot_merge_redirects_the_link_to_the_surviving_record() {
    let (_db, pool) = migrated().await;
    links::link(&pool, "contacts", "101", "003A").await.unwrap().unwrap();
    let moved = links::redirect_hubspot(&pool, "contacts", "101", "555").await.unwrap().unwrap();
    assert_eq!((moved.hubspot_id.as_str(), moved.external_id.as_str()), ("555", "003A"));
    assert!(links::find(&pool, "contacts", Side::Hubspot, "101").await.unwrap().is_none());
    let merged_from: Vec<String> =
        sqlx::query_scalar("select unnest(merged_from) from hubsync.links")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(merged_from, ["101"]);
}

#[tokio::test]
async fn pair_state_round_trips_values_of_every_type_and_updates_in_place() {
    let (_db, pool) = migrated().await;
    let link = links::link(&pool, "deals", "9", "006A").await.unwrap().unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
    let known =
        |value| Known { value, value_at: at, set_at: at, by_hubsync: true, ..Known::default() };
    let entries = vec![
        (Side::External, "Amount".to_string(), known(json!(1500.5))),
        (Side::External, "IsWon".to_string(), known(json!(false))),
        (Side::Hubspot, "dealname".to_string(), known(json!("Big deal"))),
        (Side::Hubspot, "closedate".to_string(), known(json!(null))),
    ];
    state::save(&pool, link.id, &entries).await.unwrap();
    let loaded = state::load(&pool, link.id).await.unwrap();
    assert_eq!(loaded.len(), 4);
    for (side, field, known) in &entries {
        assert_eq!(&loaded[&(*side, field.clone())], known);
    }
    state::save(&pool, link.id, &[(Side::External, "Amount".into(), known(json!(99)))])
        .await
        .unwrap();
    let loaded = state::load(&pool, link.id).await.unwrap();
    let amount = &loaded[&(Side::External, "Amount".to_string())];
    assert_eq!(amount.value, json!(99));
    assert_eq!(amount.replaced, json!(1500.5), "our write remembers the value it replaced");
    assert_eq!(loaded.len(), 4, "the other fields are kept");
}

#[tokio::test]
async fn an_observed_field_is_stored_without_repeating_its_timestamp_and_reads_back_whole() {
    let (_db, pool) = migrated().await;
    let link = links::link(&pool, "contacts", "7", "003A").await.unwrap().unwrap();
    let edited = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
    let written = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 5).unwrap();
    let observed =
        Known { value: json!("Ada"), value_at: edited, set_at: edited, ..Known::default() };
    let ours = Known {
        value: json!("Ada"),
        value_at: edited,
        set_at: written,
        by_hubsync: true,
        ..Known::default()
    };
    let entries = vec![
        (Side::Hubspot, "firstname".to_string(), observed.clone()),
        (Side::External, "FirstName".to_string(), ours.clone()),
    ];
    state::save(&pool, link.id, &entries).await.unwrap();

    let stored: Vec<serde_json::Value> =
        sqlx::query_scalar("select fields from hubsync.record_state order by side desc")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(
        stored[0],
        json!({"firstname": {"value": "Ada", "value_at": "2026-11-01T12:00:00Z"}})
    );
    assert_eq!(stored[1]["FirstName"]["set_at"], "2026-11-01T12:00:05Z");
    assert_eq!(stored[1]["FirstName"]["ours"], true);
    let loaded = state::load(&pool, link.id).await.unwrap();
    assert_eq!(loaded[&(Side::Hubspot, "firstname".to_string())], observed);
    assert_eq!(loaded[&(Side::External, "FirstName".to_string())].set_at, written);
}

#[tokio::test]
async fn forgetting_a_link_forgets_its_record_state_and_a_relinked_pair_starts_afresh() {
    let (_db, pool) = migrated().await;
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
    let known = Known { value: json!("Ann"), value_at: at, set_at: at, ..Known::default() };
    let first = links::link(&pool, "contacts", "7", "003A").await.unwrap().unwrap();
    state::save(&pool, first.id, &[(Side::Hubspot, "firstname".into(), known.clone())])
        .await
        .unwrap();
    assert_eq!(links::unlink(&pool, "contacts", Side::External, "003A").await.unwrap(), 1);
    assert!(state::load(&pool, first.id).await.unwrap().is_empty(), "no state outlives its link");

    let second = links::link(&pool, "contacts", "7", "003B").await.unwrap().unwrap();
    state::save(&pool, second.id, &[(Side::Hubspot, "firstname".into(), known)]).await.unwrap();
    let mut tx = pool.begin().await.unwrap();
    let third = links::relink(&mut tx, "contacts", "7", "003C").await.unwrap();
    tx.commit().await.unwrap();
    assert_ne!(third, second.id);
    assert!(state::load(&pool, second.id).await.unwrap().is_empty());
    let rows: i64 = sqlx::query_scalar("select count(*) from hubsync.record_state")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(rows, 0);
}

#[tokio::test]
async fn a_field_remembers_the_last_four_values_hubsync_wrote_before_the_current_one() {
    let (_db, pool) = migrated().await;
    let link = links::link(&pool, "contacts", "7", "003B").await.unwrap().unwrap();
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, 0).unwrap();
    let save = |value: &str, ours: bool| {
        let known = Known {
            value: json!(value),
            value_at: at,
            set_at: at,
            by_hubsync: ours,
            ..Known::default()
        };
        let pool = pool.clone();
        async move { state::save(&pool, link.id, &[(Side::Hubspot, "jobtitle".into(), known)]).await }
    };
    let title = || async {
        let loaded = state::load(&pool, link.id).await.unwrap();
        loaded[&(Side::Hubspot, "jobtitle".to_string())].clone()
    };
    save("user edit", false).await.unwrap();
    save("A", true).await.unwrap();
    assert_eq!(title().await.earlier, Vec::<serde_json::Value>::new(), "a user's edit is not ours");
    for value in ["B", "C", "D", "E", "F"] {
        save(value, true).await.unwrap();
    }
    let known = title().await;
    assert_eq!((known.value.clone(), known.replaced.clone()), (json!("F"), json!("E")));
    assert_eq!(known.earlier, [json!("E"), json!("D"), json!("C"), json!("B")]);
    save("another edit", false).await.unwrap();
    assert_eq!(title().await.earlier.len(), 4, "an observed edit keeps what we wrote before");
}

#[tokio::test]
async fn a_journal_that_doubled_since_its_last_analyze_is_analyzed_even_with_nothing_queued() {
    let (_db, pool) = migrated().await;
    // a backfill the reconciler keeps up with: many rows, all applied, none queued
    sqlx::query(
        "insert into hubsync.journal (side, connector, object_type, record_id, kind,
             occurred_at, source, dedup_key, status)
         select 'hubspot', 'hubspot', 'contacts', g::text, 'upsert', now(), 'backfill',
                'k' || g, 'applied'
         from generate_series(1, 5000) g",
    )
    .execute(&pool)
    .await
    .unwrap();
    let statistics = hubsync::reconcile::statistics::Statistics;
    let analyzed = statistics.refresh(&pool).await.unwrap();
    assert!(analyzed.contains(&"journal"), "analyzed: {analyzed:?}");
    let known: i64 = sqlx::query_scalar(
        "select count(*) from pg_stats
         where schemaname = 'hubsync' and tablename = 'journal' and attname = 'record_id'",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(known, 1, "the planner now knows how record ids spread");
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let again = statistics.refresh(&pool).await.unwrap();
    assert!(!again.contains(&"journal"), "no new analyze until it grows again: {again:?}");
}
