//! Data replication: `updated` and `deleted` windows.

use chrono::{Duration, TimeZone, Utc};
use salesforce_sim::SimConfig;
use serde_json::json;

use super::{Sf, test_config};

async fn at_noon() -> Sf {
    at_noon_with(test_config()).await
}

async fn at_noon_with(config: SimConfig) -> Sf {
    let sf = Sf::start_with(config).await;
    sf.sim.clock().freeze();
    sf.sim.clock().set(Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap());
    sf
}

#[tokio::test]
async fn updated_lists_the_ids_changed_in_the_window() {
    let sf = at_noon().await;
    let early = sf.contact("Early").await;
    sf.sim.clock().advance(Duration::minutes(10));
    let late = sf.contact("Late").await;
    sf.sim.clock().advance(Duration::minutes(10));
    let answer = sf
        .get("/sobjects/Contact/updated/?start=2024-05-01T12:05:00Z&end=2024-05-01T12:15:00Z")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(answer.body["ids"], json!([late]));
    assert_eq!(answer.body["latestDateCovered"], "2024-05-01T12:15:00.000+0000");
    let jsforce_style = sf.get("/sobjects/Contact/updated?start=2024-05-01T11%3A00%3A00%2B00%3A00&end=2024-05-01T12%3A30%3A00%2B00%3A00").await;
    assert_eq!(jsforce_style.body["ids"], json!([early, late]));
}

#[tokio::test]
async fn the_end_of_a_window_is_capped_at_now() {
    let sf = at_noon().await;
    let answer = sf
        .get("/sobjects/Contact/updated?start=2024-05-01T11:00:00Z&end=2024-05-02T00:00:00Z")
        .await;
    assert_eq!(answer.body["latestDateCovered"], "2024-05-01T12:00:00.000+0000");
}

#[tokio::test]
async fn deleted_lists_records_deleted_in_the_window_with_their_dates() {
    let sf = at_noon().await;
    let gone = sf.contact("Gone").await;
    sf.contact("Kept").await;
    sf.sim.clock().advance(Duration::minutes(3));
    sf.delete(&format!("/sobjects/Contact/{gone}")).await;
    sf.sim.clock().advance(Duration::minutes(3));
    let answer = sf
        .get("/sobjects/Contact/deleted/?start=2024-05-01T12:00:00Z&end=2024-05-01T12:06:00Z")
        .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(
        answer.body["deletedRecords"],
        json!([{"id": gone, "deletedDate": "2024-05-01T12:03:00.000+0000"}])
    );
    assert_eq!(answer.body["earliestDateAvailable"], "2024-04-16T12:06:00.000+0000");
}

#[tokio::test]
async fn a_window_shorter_than_a_minute_answers_invalid_replication_date() {
    let sf = at_noon().await;
    let answer = sf
        .get("/sobjects/Contact/updated?start=2024-05-01T11:00:10Z&end=2024-05-01T11:00:50Z")
        .await;
    assert_eq!((answer.status, answer.error_code()), (400, "INVALID_REPLICATION_DATE"));
    let reversed = sf
        .get("/sobjects/Contact/deleted?start=2024-05-01T11:00:00Z&end=2024-05-01T10:00:00Z")
        .await;
    assert_eq!(reversed.error_code(), "INVALID_REPLICATION_DATE");
}

#[tokio::test]
async fn updated_refuses_a_start_more_than_thirty_days_ago() {
    let sf = at_noon().await;
    let answer = sf
        .get("/sobjects/Contact/updated?start=2024-03-01T00:00:00Z&end=2024-05-01T00:00:00Z")
        .await;
    assert_eq!(answer.error_code(), "INVALID_REPLICATION_DATE");
}

#[tokio::test]
async fn too_many_ids_answer_exceeded_id_limit() {
    let config = salesforce_sim::SimConfig { replication_id_limit: 2, ..super::test_config() };
    let sf = Sf::start_with(config).await;
    sf.sim.clock().freeze();
    for name in ["A", "B", "C"] {
        sf.contact(name).await;
    }
    sf.sim.clock().advance(Duration::minutes(5));
    let now = sf.sim.clock().now();
    let start = (now - Duration::hours(1)).format("%Y-%m-%dT%H:%M:%SZ");
    let end = now.format("%Y-%m-%dT%H:%M:%SZ");
    let answer = sf.get(&format!("/sobjects/Contact/updated?start={start}&end={end}")).await;
    assert_eq!(answer.error_code(), "EXCEEDED_ID_LIMIT");
}

#[tokio::test]
async fn deleted_over_its_id_limit_answers_exceeded_id_limit() {
    let sf = at_noon_with(SimConfig { replication_id_limit: 2, ..test_config() }).await;
    let ids = [sf.contact("A").await, sf.contact("B").await, sf.contact("C").await];
    sf.sim.clock().advance(Duration::minutes(1));
    for id in &ids[..2] {
        sf.delete(&format!("/sobjects/Contact/{id}")).await;
    }
    let window = "start=2024-05-01T12:00:00Z&end=2024-05-01T12:05:00Z";
    sf.sim.clock().advance(Duration::minutes(5));
    let within = sf.get(&format!("/sobjects/Contact/deleted/?{window}")).await;
    assert_eq!(within.status, 200, "two ids are within the limit: {}", within.body);
    sf.delete(&format!("/sobjects/Contact/{}", ids[2])).await;
    sf.sim.clock().advance(Duration::minutes(1));
    let window = "start=2024-05-01T12:00:00Z&end=2024-05-01T12:10:00Z";
    let over = sf.get(&format!("/sobjects/Contact/deleted/?{window}")).await;
    assert_eq!((over.status, over.error_code()), (400, "EXCEEDED_ID_LIMIT"), "{}", over.body);
}
