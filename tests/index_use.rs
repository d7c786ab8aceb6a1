//! The journal's hot queries are served by its indexes: with a realistic table, claiming,
//! settling, failing, the operator's queries and retention never read the whole journal.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{TimeZone, Utc};
use hubsync::config::Side;
use hubsync::error_kind::ErrorKind;
use hubsync::journal::{self, Arrival, ChangeKind, NewChange, PropertyChange, Status};
use hubsync::store;
use hubsync::store::journal::JournalFilter;
use sqlx::PgPool;
use sqlx::postgres::PgPoolOptions;

use crate::support::database::TestDatabase;

const RECORDS: usize = 2_000;
const CHANGES_PER_RECORD: usize = 10;

fn change(record: usize, n: usize) -> NewChange {
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
        + chrono::Duration::seconds((n * RECORDS + record) as i64);
    let value = PropertyChange { value: Some(format!("v{n}")), timestamp: Some(at) };
    NewChange {
        side: Side::Hubspot,
        connector: "hubspot".into(),
        object_type: "contacts".into(),
        record_id: format!("{record}"),
        kind: ChangeKind::Upsert,
        properties: BTreeMap::from([("firstname".to_string(), value)]),
        occurred_at: at,
        source: Arrival::Poll,
        dedup_key: format!("{record}:{n}"),
    }
}

/// A pool of one connection: closing it ends its backend, which flushes its statistics.
async fn one_connection(url: &str) -> PgPool {
    PgPoolOptions::new().max_connections(1).connect(url).await.unwrap()
}

/// 20,000 changes of 2,000 records: all but the newest of each record settled, analyzed.
async fn realistic_journal(url: &str) {
    let pool = one_connection(url).await;
    for n in 0..CHANGES_PER_RECORD {
        let page: Vec<_> = (0..RECORDS).map(|r| change(r, n)).collect();
        store::journal::append(&pool, &page).await.unwrap();
    }
    sqlx::query(
        "update hubsync.journal set status = 'applied', received_at = now() - interval '2 days'
         where id not in (select max(id) from hubsync.journal group by record_id)",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query("analyze hubsync.journal").execute(&pool).await.unwrap();
    pool.close().await;
}

async fn journal_seq_scans(pool: &PgPool) -> i64 {
    sqlx::query_scalar(
        "select coalesce(seq_scan, 0) from pg_stat_user_tables
         where schemaname = 'hubsync' and relname = 'journal'",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn with_twenty_thousand_changes_the_journals_hot_queries_never_scan_the_whole_table() {
    let db = TestDatabase::create().await;
    let observer = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&observer).await.unwrap();
    realistic_journal(&db.url).await;
    let before = journal_seq_scans(&observer).await;

    let pool = one_connection(&db.url).await;
    let lease = Duration::from_secs(60);
    let claimed = store::journal::claim(&pool, "w1", 100, lease).await.unwrap();
    assert_eq!(claimed.len(), 100, "one pending change per record is due");
    store::journal::complete(&pool, "w1", claimed[0].id, journal::Completion::Applied, "ok")
        .await
        .unwrap();
    store::journal::fail(&pool, "w1", &claimed[1], ErrorKind::Permanent, "INVALID_EMAIL", 10)
        .await
        .unwrap();
    let ids: Vec<i64> = claimed[2..].iter().map(|r| r.id).collect();
    store::journal::release(&pool, "w1", &ids, Duration::ZERO, "handed_back").await.unwrap();
    let history = JournalFilter {
        object_type: Some("contacts".into()),
        record_id: Some("1234".into()),
        ..JournalFilter::default()
    };
    assert_eq!(store::journal::query(&pool, &history, 50).await.unwrap().len(), CHANGES_PER_RECORD);
    let failed = JournalFilter { statuses: vec![Status::Failed], ..JournalFilter::default() };
    assert_eq!(store::journal::query(&pool, &failed, 50).await.unwrap().len(), 1);
    let by_kind =
        JournalFilter { error_kind: Some("permanent".into()), ..JournalFilter::default() };
    assert_eq!(store::journal::query(&pool, &by_kind, 50).await.unwrap().len(), 1);
    let month = Duration::from_secs(30 * 86_400);
    assert_eq!(store::journal::retention::prune_batch(&pool, month, 5_000).await.unwrap(), 0);
    pool.close().await;

    let scans = journal_seq_scans(&observer).await - before;
    assert_eq!(scans, 0, "sequential scans of the journal on its hot paths");
}
