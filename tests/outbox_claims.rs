//! Writers claiming the outbox: concurrent claimers take each item exactly once (catalog
//! T10), and a stalled writer is fenced off (T07): once another worker has rescued its
//! items after its lease ran out, its late results change nothing, even under the same
//! worker name (replicas left on the default `instance.id`, or the same replica restarted).

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use hubsync::config::Side;
use hubsync::store::outbox::{self, NewItem, Operation};
use hubsync::writer::send::Settlement;
use hubsync::writer::settle::settle;
use sqlx::PgPool;
use tokio::sync::Mutex;

use crate::support::database::TestDatabase;

const ITEMS: usize = 4_000;
const WORKERS: usize = 4;

fn update(n: usize) -> NewItem {
    NewItem {
        sync_name: "contacts".into(),
        target_side: Side::External,
        connector: "salesforce".into(),
        object_type: "Contact".into(),
        operation: Operation::Update,
        intent: "update",
        priority: 0,
        target_id: Some(format!("003{n:012}")),
        unique_property: None,
        unique_value: None,
        source_id: n.to_string(),
        properties: [("FirstName".to_string(), serde_json::json!(format!("n{n}")))]
            .into_iter()
            .collect(),
        state: Vec::new(),
        journal_id: None,
    }
}

async fn migrated() -> (TestDatabase, PgPool) {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    (db, pool)
}

#[tokio::test(flavor = "multi_thread")]
async fn four_writers_draining_the_outbox_together_take_each_item_exactly_once() {
    let (_db, pool) = migrated().await;
    let items: Vec<NewItem> = (0..ITEMS).map(update).collect();
    let mut tx = pool.begin().await.unwrap();
    for chunk in items.chunks(1000) {
        outbox::insert_many(&mut tx, chunk).await.unwrap();
    }
    tx.commit().await.unwrap();

    let taken = Arc::new(Mutex::new(Vec::<i64>::new()));
    let mut workers = Vec::new();
    for w in 0..WORKERS {
        let (pool, taken) = (pool.clone(), taken.clone());
        workers.push(tokio::spawn(async move {
            let worker = format!("replica-{w}/writer");
            loop {
                let claim =
                    outbox::claim(&pool, &worker, 100, Duration::from_secs(60), 10).await.unwrap();
                if claim.items.is_empty() {
                    break;
                }
                let ids: Vec<i64> = claim.items.iter().map(|item| item.id).collect();
                let answers = vec![serde_json::json!({"id": "x"}); ids.len()];
                let mut tx = pool.begin().await.unwrap();
                outbox::mark_done(&mut tx, &worker, ids.clone(), answers).await.unwrap();
                tx.commit().await.unwrap();
                taken.lock().await.extend(ids);
            }
        }));
    }
    for worker in workers {
        worker.await.unwrap();
    }
    let taken = taken.lock().await;
    let distinct: HashSet<&i64> = taken.iter().collect();
    assert_eq!(taken.len(), ITEMS, "every item was taken once, none twice");
    assert_eq!(distinct.len(), ITEMS);
    let (done, attempts): (i64, i64) = sqlx::query_as(
        "select count(*) filter (where status = 'done'), coalesce(max(attempts), 0)::bigint
         from hubsync.outbox",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!((done, attempts), (ITEMS as i64, 1), "all done, each in one attempt");
}

const WORKER: &str = "hubsync-1/writer";
const LEASE: Duration = Duration::from_millis(300);

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
    outbox::insert_many(&mut tx, &[update(1)]).await.unwrap();
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
