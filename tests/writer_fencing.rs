//! A stalled writer is fenced off (catalog T07): once another worker has rescued its items
//! after its lease ran out, its late results change nothing, even under the same worker
//! name (replicas left on the default `instance.id`, or the same replica restarted).

use std::time::Duration;

use hubsync::config::Side;
use hubsync::store::outbox::{self, NewItem, Operation};
use hubsync::writer::send::Settlement;
use hubsync::writer::settle::settle;
use sqlx::PgPool;

use crate::support::database::TestDatabase;

const WORKER: &str = "hubsync-1/writer";
const LEASE: Duration = Duration::from_millis(300);

async fn migrated() -> (TestDatabase, PgPool) {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    (db, pool)
}

fn update(target: &str) -> NewItem {
    NewItem {
        sync_name: "contacts".into(),
        target_side: Side::External,
        connector: "salesforce".into(),
        object_type: "Contact".into(),
        operation: Operation::Update,
        intent: "update",
        priority: 0,
        target_id: Some(target.into()),
        unique_property: None,
        unique_value: None,
        source_id: "101".into(),
        properties: [("FirstName".to_string(), serde_json::json!("Ann"))].into_iter().collect(),
        state: Vec::new(),
        journal_id: None,
    }
}

/// When a write landed: the test's own clock.
fn now(_: &outbox::OutboxItem) -> chrono::DateTime<chrono::Utc> {
    chrono::Utc::now()
}

fn done() -> Settlement {
    Settlement::Done { id: Some("003A".into()), created: Some(false), state: Vec::new() }
}

#[tokio::test]
async fn a_stalled_writers_late_failure_cannot_overwrite_the_rescuers_landed_write() {
    let (_db, pool) = migrated().await;
    let mut tx = pool.begin().await.unwrap();
    outbox::insert_many(&mut tx, &[update("003A")]).await.unwrap();
    tx.commit().await.unwrap();

    let stalled = outbox::claim(&pool, WORKER, 10, LEASE, 10).await.unwrap().items;
    assert_eq!(stalled.len(), 1);
    tokio::time::sleep(LEASE * 2).await;
    let rescuer = outbox::claim(&pool, WORKER, 10, Duration::from_secs(60), 10).await.unwrap();
    assert_eq!(rescuer.rescued, 1, "the item is rescued from the stalled claim");

    // the stalled worker wakes up with a stale answer while the rescuer is still sending
    let late = Settlement::Failed { message: "VALIDATION_ERROR: from a stale attempt".into() };
    let fenced = settle(&pool, WORKER, vec![(stalled[0].clone(), late)], 10, &now).await.unwrap();
    assert_eq!((fenced.fenced, fenced.failed), (1, 0), "the late result is dropped");
    let landed =
        settle(&pool, WORKER, vec![(rescuer.items[0].clone(), done())], 10, &now).await.unwrap();
    assert_eq!(landed.done, 1);

    let (status, attempts, error): (String, i32, Option<String>) =
        sqlx::query_as("select status, attempts, last_error from hubsync.outbox")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(
        (status.as_str(), attempts, error),
        ("done", 2, None),
        "the write that landed stands"
    );
}
