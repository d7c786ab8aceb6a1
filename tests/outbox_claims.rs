//! Concurrent writers claim the outbox exactly once (catalog T10): four claimers draining
//! thousands of items never take the same item twice, and every item is taken.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use hubsync::config::Side;
use hubsync::store::outbox::{self, NewItem, Operation};
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

#[tokio::test(flavor = "multi_thread")]
async fn four_writers_draining_the_outbox_together_take_each_item_exactly_once() {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
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
