//! Plan mode: its prediction equals what the real run then does.

use std::time::Duration;

use hubsync::operate::preview;
use hubsync::reconcile::gather::Sources;
use serde_json::json;

use super::{Rig, contacts};

const SETTLE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn the_plan_predicts_exactly_the_writes_the_real_run_then_makes() {
    let mut rig = Rig::start(&contacts("newest_wins", "propagate")).await;
    let mut linked = Vec::new();
    for i in 0..10 {
        let props = json!({"email": format!("base{i}@acme.com"), "lastname": "Base"});
        linked.push(rig.hubspot.create_as_user("contacts", props, 7).unwrap());
    }
    rig.wait_for("the baseline", SETTLE, || async { rig.links("contacts").await.len() == 10 })
        .await;
    rig.quiesce(SETTLE).await;

    let db = rig.stop().await.expect("the test database");
    let since = chrono::Utc::now() - chrono::Duration::seconds(1);
    tokio::time::sleep(Duration::from_millis(1100)).await;
    for i in 0..8 {
        let props = json!({"email": format!("new{i}@acme.com"), "lastname": "New"});
        rig.hubspot.create_as_user("contacts", props, 7).unwrap();
    }
    for i in 0..6 {
        let fields = json!({"Email": format!("sf{i}@acme.com"), "LastName": "Sf"});
        rig.salesforce.seed("Contact", fields).unwrap();
    }
    for id in &linked[..3] {
        rig.hubspot.edit_as_user("contacts", *id, json!({"firstname": "Edited"}), 7).unwrap();
    }
    for id in &linked[8..] {
        rig.hubspot.archive_as_user("contacts", *id, 7).unwrap();
    }

    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let connectors = hubsync::ingest::plan::connectors(&rig.settings).unwrap();
    let sources = Sources::new(&rig.settings, connectors);
    let plan = preview(&rig.settings, &pool, &sources, Some(since), &[]).await.unwrap();
    let block = plan.blocks.get("contacts").cloned().unwrap_or_default();
    let predicted = (
        block.create_on_hubspot,
        block.create_on_external,
        block.update_on_hubspot,
        block.update_on_external,
        block.delete_on_external,
    );
    assert_eq!(predicted, (6, 8, 0, 3, 2), "the plan: {plan:?}");
    let outbox: i64 =
        sqlx::query_scalar("select count(*) from hubsync.outbox").fetch_one(&pool).await.unwrap();
    pool.close().await;

    rig.resume(Some(db)).await;
    rig.wait_for("the real run", SETTLE, || async {
        rig.links("contacts").await.len() == 10 + 8 + 6 - 2
    })
    .await;
    rig.quiesce(SETTLE).await;
    let count = |operation: &str, target: &str| {
        let (operation, target) = (operation.to_string(), target.to_string());
        let pool = rig.pool().clone();
        async move {
            sqlx::query_scalar::<_, i64>(
                "select count(*) from hubsync.outbox
                 where id > $1 and operation = $2 and target_side = $3 and status = 'done'",
            )
            .bind(outbox)
            .bind(operation)
            .bind(target)
            .fetch_one(&pool)
            .await
            .unwrap() as u64
        }
    };
    let done = (
        count("upsert", "hubspot").await,
        count("upsert", "external").await,
        count("update", "hubspot").await,
        count("update", "external").await,
        count("archive", "external").await,
    );
    assert_eq!(done, predicted, "the real run wrote what the plan said");
}
