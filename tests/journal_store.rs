//! The journal store: idempotent append, leased claims in per-record order, settling,
//! operator requeue/skip, queries, wake-ups and retention.

use std::collections::BTreeMap;
use std::time::Duration;

use chrono::{DateTime, TimeZone, Utc};
use hubsync::config::Side;
use hubsync::error_kind::ErrorKind;
use hubsync::journal::{self, Arrival, ChangeKind, Completion, NewChange, PropertyChange, Status};
use hubsync::store;
use hubsync::store::journal::JournalFilter;
use sqlx::PgPool;

use crate::support::app::{start, test_settings};
use crate::support::database::TestDatabase;

const LEASE: Duration = Duration::from_secs(60);

async fn migrated() -> (TestDatabase, PgPool) {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    (db, pool)
}

fn at(second: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, second).unwrap()
}

fn change(record: &str, second: u32, email: &str) -> NewChange {
    let mut properties = BTreeMap::new();
    let value = PropertyChange { value: Some(email.into()), timestamp: Some(at(second)) };
    properties.insert("email".to_string(), value);
    NewChange {
        side: Side::Hubspot,
        connector: "hubspot".into(),
        object_type: "contacts".into(),
        record_id: record.into(),
        kind: ChangeKind::Upsert,
        properties,
        occurred_at: at(second),
        source: Arrival::Poll,
        dedup_key: format!("contacts:{record}:{second}"),
    }
}

#[tokio::test]
async fn appending_the_same_page_twice_records_each_change_once() {
    let (_db, pool) = migrated().await;
    let page = vec![change("1", 1, "a@x.com"), change("2", 2, "b@x.com")];
    assert_eq!(store::journal::append(&pool, &page).await.unwrap(), 2);
    assert_eq!(store::journal::append(&pool, &page).await.unwrap(), 0);
    let rows = store::journal::query(&pool, &JournalFilter::default(), 10).await.unwrap();
    assert_eq!(rows.len(), 2);
    assert_eq!(rows[1].properties["email"].value.as_deref(), Some("a@x.com"));
    assert_eq!(rows[1].status, Status::Pending);
}

#[tokio::test]
async fn a_property_stores_its_own_timestamp_only_where_it_differs_from_the_change() {
    let (_db, pool) = migrated().await;
    let mut edit = change("1", 5, "a@x.com");
    let earlier = PropertyChange { value: Some("Ada".into()), timestamp: Some(at(2)) };
    edit.properties.insert("firstname".into(), earlier);
    store::journal::append(&pool, &[edit]).await.unwrap();

    let stored: serde_json::Value = sqlx::query_scalar("select properties from hubsync.journal")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(
        stored,
        serde_json::json!({
            "email": {"value": "a@x.com"},
            "firstname": {"value": "Ada", "timestamp": "2026-11-01T12:00:02Z"},
        })
    );
    let row = &store::journal::query(&pool, &JournalFilter::default(), 1).await.unwrap()[0];
    assert_eq!(row.properties["email"].timestamp, Some(at(5)), "the change's time stands in");
    assert_eq!(row.properties["firstname"].timestamp, Some(at(2)));
}

#[tokio::test]
async fn an_append_rolled_back_with_its_transaction_leaves_no_trace() {
    let (_db, pool) = migrated().await;
    let mut tx = pool.begin().await.unwrap();
    store::journal::append(&mut *tx, &[change("1", 1, "a@x.com")]).await.unwrap();
    tx.rollback().await.unwrap();
    assert!(store::journal::query(&pool, &JournalFilter::default(), 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn merges_keep_the_surviving_id() {
    let (_db, pool) = migrated().await;
    let mut merge = change("7", 1, "a@x.com");
    merge.kind = ChangeKind::Merge { into: "9".into() };
    store::journal::append(&pool, &[merge]).await.unwrap();
    let rows = store::journal::query(&pool, &JournalFilter::default(), 1).await.unwrap();
    assert_eq!(rows[0].kind, ChangeKind::Merge { into: "9".into() });
}

#[tokio::test]
async fn one_records_changes_are_claimed_in_source_order_one_at_a_time() {
    let (_db, pool) = migrated().await;
    // appended out of order: the later change arrives first
    store::journal::append(&pool, &[change("1", 5, "new@x.com"), change("2", 1, "b@x.com")])
        .await
        .unwrap();
    store::journal::append(&pool, &[change("1", 3, "old@x.com")]).await.unwrap();

    let first = store::journal::claim(&pool, "w1", 10, LEASE).await.unwrap();
    let claimed: Vec<_> = first.iter().map(|r| (r.record_id.as_str(), r.occurred_at)).collect();
    assert_eq!(claimed, [("2", at(1)), ("1", at(3))], "record 1's later change waits");

    let older = first.iter().find(|r| r.record_id == "1").unwrap();
    assert!(
        store::journal::complete(&pool, "w1", older.id, Completion::Applied, "applied")
            .await
            .unwrap()
    );
    let second = store::journal::claim(&pool, "w1", 10, LEASE).await.unwrap();
    assert_eq!(second.len(), 1);
    assert_eq!(second[0].occurred_at, at(5));
}

#[tokio::test]
async fn a_records_later_upserts_are_claimed_behind_its_first_but_not_past_a_delete() {
    let (_db, pool) = migrated().await;
    let deletion = NewChange {
        kind: ChangeKind::Delete,
        dedup_key: "contacts:1:delete".into(),
        ..change("1", 4, "gone@x.com")
    };
    store::journal::append(
        &pool,
        &[
            change("1", 1, "a@x.com"),
            change("1", 2, "b@x.com"),
            change("2", 1, "c@x.com"),
            change("1", 3, "d@x.com"),
            deletion,
            change("1", 5, "e@x.com"),
        ],
    )
    .await
    .unwrap();
    let leaders = store::journal::claim(&pool, "w1", 10, LEASE).await.unwrap();
    assert_eq!(leaders.len(), 2, "one row per record leads");
    let followers = store::journal::claim_followers(&pool, "w1", &leaders, LEASE).await.unwrap();
    let claimed: Vec<_> = followers.iter().map(|r| (r.record_id.as_str(), r.occurred_at)).collect();
    assert_eq!(claimed, [("1", at(2)), ("1", at(3))], "in order, and none past the delete");
    assert!(
        store::journal::claim_followers(&pool, "w2", &leaders, LEASE).await.unwrap().is_empty()
    );
}

#[tokio::test]
async fn two_workers_never_claim_the_same_row() {
    let (_db, pool) = migrated().await;
    let page: Vec<_> = (0..200).map(|i| change(&i.to_string(), 1, "a@x.com")).collect();
    store::journal::append(&pool, &page).await.unwrap();
    let (a, b) = tokio::join!(
        store::journal::claim(&pool, "w1", 150, LEASE),
        store::journal::claim(&pool, "w2", 150, LEASE)
    );
    let (a, b) = (a.unwrap(), b.unwrap());
    assert_eq!(a.len() + b.len(), 200);
    assert!(a.iter().all(|row| b.iter().all(|other| other.id != row.id)));
}

#[tokio::test]
async fn an_expired_lease_returns_the_row_to_the_queue_and_the_old_holder_cannot_settle_it() {
    let (_db, pool) = migrated().await;
    store::journal::append(&pool, &[change("1", 1, "a@x.com")]).await.unwrap();
    let held =
        store::journal::claim(&pool, "dead-replica", 10, Duration::from_millis(500)).await.unwrap();
    assert_eq!(held.len(), 1);
    assert!(
        store::journal::claim(&pool, "w2", 10, LEASE).await.unwrap().is_empty(),
        "still leased"
    );
    tokio::time::sleep(Duration::from_millis(600)).await;
    let taken = store::journal::claim(&pool, "w2", 10, LEASE).await.unwrap();
    assert_eq!(taken.len(), 1);
    assert_eq!(taken[0].attempts, 2);
    let late =
        store::journal::complete(&pool, "dead-replica", held[0].id, Completion::Applied, "x");
    assert!(!late.await.unwrap(), "a lost lease cannot settle the row");
    assert!(
        store::journal::complete(&pool, "w2", taken[0].id, Completion::Echo, "echo").await.unwrap()
    );
}

#[tokio::test]
async fn transient_failures_retry_then_dead_letter_after_max_attempts() {
    let (_db, pool) = migrated().await;
    store::journal::append(&pool, &[change("1", 1, "a@x.com")]).await.unwrap();
    for attempt in 1..=3 {
        sqlx::query("update hubsync.journal set next_attempt_at = now()")
            .execute(&pool)
            .await
            .unwrap();
        let rows = store::journal::claim(&pool, "w1", 1, LEASE).await.unwrap();
        assert_eq!(rows[0].attempts, attempt);
        let status = store::journal::fail(
            &pool,
            "w1",
            &rows[0],
            ErrorKind::Transient,
            "503 from HubSpot",
            3,
        );
        let expected = if attempt < 3 { Status::Pending } else { Status::Dead };
        assert_eq!(status.await.unwrap(), Some(expected));
    }
    let dead = store::journal::query(&pool, &JournalFilter::default(), 1).await.unwrap();
    assert_eq!(dead[0].last_error.as_deref(), Some("503 from HubSpot"));
    assert_eq!(dead[0].error_kind.as_deref(), Some("transient"));
    assert_eq!(dead[0].reason.as_deref(), Some("out_of_attempts"));
}

#[tokio::test]
async fn a_retried_row_waits_for_its_backoff() {
    let (_db, pool) = migrated().await;
    store::journal::append(&pool, &[change("1", 1, "a@x.com")]).await.unwrap();
    let rows = store::journal::claim(&pool, "w1", 1, LEASE).await.unwrap();
    store::journal::fail(&pool, "w1", &rows[0], ErrorKind::RateLimited, "429", 10).await.unwrap();
    assert!(store::journal::claim(&pool, "w1", 1, LEASE).await.unwrap().is_empty());
    let row = &store::journal::query(&pool, &JournalFilter::default(), 1).await.unwrap()[0];
    assert!(row.next_attempt_at > Utc::now());
}

#[tokio::test]
async fn a_permanent_failure_waits_for_an_operator_and_requeue_brings_it_back() {
    let (_db, pool) = migrated().await;
    store::journal::append(&pool, &[change("1", 1, "a@x.com"), change("2", 1, "b@x.com")])
        .await
        .unwrap();
    let rows = store::journal::claim(&pool, "w1", 10, LEASE).await.unwrap();
    for row in &rows {
        let message = "INVALID_EMAIL: email is not valid";
        let status =
            store::journal::fail(&pool, "w1", row, ErrorKind::Permanent, message, 10).await;
        assert_eq!(status.unwrap(), Some(Status::Failed));
    }
    assert!(store::journal::claim(&pool, "w1", 10, LEASE).await.unwrap().is_empty());

    let failed = JournalFilter { statuses: vec![Status::Failed], ..Default::default() };
    let requeued = store::journal::requeue(&pool, &JournalFilter::ids([rows[0].id])).await.unwrap();
    assert_eq!(requeued, [rows[0].id]);
    let again = store::journal::claim(&pool, "w1", 10, LEASE).await.unwrap();
    assert_eq!(again.len(), 1);
    assert_eq!(again[0].attempts, 1, "requeue gives fresh attempts");
    let skipped = store::journal::skip(&pool, &failed).await.unwrap();
    assert_eq!(skipped, [rows[1].id]);
}

#[tokio::test]
async fn queries_filter_by_side_object_record_status_error_kind_and_page_by_id() {
    let (_db, pool) = migrated().await;
    let mut external = change("003A", 2, "c@x.com");
    external.side = Side::External;
    external.connector = "salesforce".into();
    external.object_type = "Contact".into();
    let page: Vec<_> = (1..=5).map(|i| change(&i.to_string(), i, "a@x.com")).collect();
    store::journal::append(&pool, &page).await.unwrap();
    store::journal::append(&pool, &[external]).await.unwrap();

    let by_side = JournalFilter { side: Some(Side::External), ..Default::default() };
    let rows = store::journal::query(&pool, &by_side, 10).await.unwrap();
    assert_eq!(rows.iter().map(|r| r.record_id.as_str()).collect::<Vec<_>>(), ["003A"]);

    let contacts = JournalFilter { object_type: Some("contacts".into()), ..Default::default() };
    let first = store::journal::query(&pool, &contacts, 2).await.unwrap();
    let next = JournalFilter { before_id: Some(first[1].id), ..contacts.clone() };
    let second = store::journal::query(&pool, &next, 10).await.unwrap();
    let ids: Vec<_> = first.iter().chain(&second).map(|r| r.record_id.as_str()).collect();
    assert_eq!(ids, ["5", "4", "3", "2", "1"]);

    let record = JournalFilter { record_id: Some("3".into()), ..Default::default() };
    assert_eq!(store::journal::query(&pool, &record, 10).await.unwrap().len(), 1);
    let future = JournalFilter {
        since: Some(Utc::now() + chrono::Duration::hours(1)),
        ..Default::default()
    };
    assert!(store::journal::query(&pool, &future, 10).await.unwrap().is_empty());
    let kind = JournalFilter { error_kind: Some("permanent".into()), ..Default::default() };
    assert!(store::journal::query(&pool, &kind, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn queries_keep_rows_received_inside_a_since_and_until_window() {
    let (_db, pool) = migrated().await;
    let page: Vec<_> = (1..=4).map(|i| change(&i.to_string(), i, "a@x.com")).collect();
    store::journal::append(&pool, &page).await.unwrap();
    // records 1 and 2 arrived three hours ago, 3 an hour and a half ago, 4 just now
    sqlx::query(
        "update hubsync.journal set received_at = now() - case record_id
             when '1' then interval '3 hours' when '2' then interval '3 hours'
             when '3' then interval '90 minutes' else interval '0' end",
    )
    .execute(&pool)
    .await
    .unwrap();
    let hours_ago = |h: i64| Some(Utc::now() - chrono::Duration::hours(h));
    let records = |filter: JournalFilter| {
        let pool = pool.clone();
        async move {
            let rows = store::journal::query(&pool, &filter, 10).await.unwrap();
            rows.into_iter().map(|r| r.record_id).collect::<Vec<_>>()
        }
    };
    let since_past = JournalFilter { since: hours_ago(2), ..Default::default() };
    assert_eq!(records(since_past).await, ["4", "3"]);
    let until = JournalFilter { until: hours_ago(1), ..Default::default() };
    assert_eq!(records(until).await, ["3", "2", "1"]);
    let window = JournalFilter { since: hours_ago(2), until: hours_ago(1), ..Default::default() };
    assert_eq!(records(window).await, ["3"]);
    let long_ago = JournalFilter { since: hours_ago(24), ..Default::default() };
    assert_eq!(records(long_ago).await, ["4", "3", "2", "1"]);
    let before_all = JournalFilter { until: hours_ago(4), ..Default::default() };
    assert!(records(before_all).await.is_empty());
}

#[tokio::test]
async fn a_claim_inside_a_rolled_back_transaction_leaves_the_row_unleased() {
    let (_db, pool) = migrated().await;
    store::journal::append(&pool, &[change("1", 1, "a@x.com"), change("1", 2, "b@x.com")])
        .await
        .unwrap();
    let mut tx = pool.begin().await.unwrap();
    let held = store::journal::claim_in(&mut tx, "w1", 10, LEASE).await.unwrap();
    assert_eq!(held.len(), 1, "one change of a record at a time");
    let followers = store::journal::claim_followers(&mut *tx, "w1", &held, LEASE).await.unwrap();
    assert_eq!(followers.len(), 1);
    let sort: String = sqlx::query_scalar("select current_setting('enable_sort')")
        .fetch_one(&mut *tx)
        .await
        .unwrap();
    assert_eq!(sort, "on", "the claim leaves the caller's planner settings alone");
    tx.rollback().await.unwrap();

    let unleased: Vec<(Option<String>, i32)> =
        sqlx::query_as("select claimed_by, attempts from hubsync.journal order by id")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(unleased, [(None, 0), (None, 0)], "the leases rolled back with the transaction");
    let taken = store::journal::claim(&pool, "w2", 10, LEASE).await.unwrap();
    assert_eq!(taken.len(), 1, "another worker can claim it at once");

    let mut tx = pool.begin().await.unwrap();
    assert!(
        store::journal::claim_in(&mut tx, "w3", 10, LEASE).await.unwrap().is_empty(),
        "w2 holds it"
    );
    tx.commit().await.unwrap();
    store::journal::complete(&pool, "w2", taken[0].id, Completion::Applied, "applied")
        .await
        .unwrap();
    let mut conn = pool.acquire().await.unwrap();
    let next = store::journal::claim_in(&mut conn, "w3", 10, LEASE).await.unwrap();
    assert_eq!(next.len(), 1, "outside a transaction the claim commits on its own");
    assert_eq!(store::journal::claim(&pool, "w4", 10, LEASE).await.unwrap().len(), 0);
}

#[tokio::test]
async fn a_consumer_still_wakes_on_its_poll_interval_when_no_doorbell_or_notify_comes() {
    let (_db, pool) = migrated().await;
    let doorbell = journal::Doorbell::new(pool.clone());
    let interval = Duration::from_millis(300);
    for mut waker in [
        journal::Waker::connect(&doorbell, interval).await,
        journal::Waker::polling(&doorbell, interval),
    ] {
        // a row lands without a ring: only the poll interval can wake the consumer
        store::journal::append(&pool, &[change("1", 1, "a@x.com")]).await.unwrap();
        let shutdown = tokio_util::sync::CancellationToken::new();
        let started = std::time::Instant::now();
        let woke = tokio::time::timeout(Duration::from_secs(10), waker.wait(&shutdown)).await;
        assert!(woke.is_ok(), "the consumer never woke");
        let waited = started.elapsed();
        assert!(waited >= interval - Duration::from_millis(20), "woke early: {waited:?}");
        assert!(waited < Duration::from_secs(5), "woke late: {waited:?}");
    }
}

async fn wakes_within(waker: &mut journal::Waker, limit: Duration) -> bool {
    let shutdown = tokio_util::sync::CancellationToken::new();
    let started = std::time::Instant::now();
    waker.wait(&shutdown).await;
    started.elapsed() < limit
}

fn append_later(pool: &PgPool, doorbell: journal::Doorbell, record: &str) {
    let (pool, record) = (pool.clone(), record.to_string());
    tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(200)).await;
        store::journal::append(&pool, &[change(&record, 1, "a@x.com")]).await.unwrap();
        doorbell.ring();
    });
}

#[tokio::test]
async fn a_waiting_consumer_wakes_on_append_long_before_its_poll_interval() {
    let (_db, pool) = migrated().await;
    let doorbell = journal::Doorbell::new(pool.clone());
    let mut waker = journal::Waker::connect(&doorbell, Duration::from_secs(30)).await;
    append_later(&pool, doorbell.clone(), "1");
    assert!(wakes_within(&mut waker, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn a_consumer_on_another_replica_wakes_through_notify() {
    let (_db, pool) = migrated().await;
    let other_replica = journal::Doorbell::new(pool.clone());
    let mut waker =
        journal::Waker::connect(&journal::Doorbell::new(pool.clone()), Duration::from_secs(30))
            .await;
    append_later(&pool, other_replica, "1");
    assert!(wakes_within(&mut waker, Duration::from_secs(5)).await);
}

#[tokio::test]
async fn a_doorbell_rung_as_shutdown_begins_sends_no_notification_and_goes_quiet_at_once() {
    let (_db, pool) = migrated().await;
    let shutdown = tokio_util::sync::CancellationToken::new();
    let stopping = journal::Doorbell::new(pool.clone()).stopping_on(&shutdown);
    // another replica, woken only by NOTIFY, or by its poll after 700 ms
    let other = journal::Doorbell::new(pool.clone());
    let mut other_replica = journal::Waker::connect(&other, Duration::from_millis(700)).await;
    stopping.ring();
    shutdown.cancel();
    let quiet = tokio::time::timeout(Duration::from_secs(1), stopping.quiet()).await;
    assert!(quiet.is_ok(), "the doorbell still had work after shutdown");
    assert!(
        !wakes_within(&mut other_replica, Duration::from_millis(500)).await,
        "a notification went out after shutdown"
    );
}

#[tokio::test]
async fn retention_prunes_old_settled_rows_and_keeps_failed_and_dead_ones() {
    let (_db, pool) = migrated().await;
    let page: Vec<_> = (1..=6).map(|i| change(&i.to_string(), i, "a@x.com")).collect();
    store::journal::append(&pool, &page).await.unwrap();
    sqlx::query(
        "update hubsync.journal set received_at = now() - interval '40 days',
             status = (array['applied','echo','stale','skipped','failed','dead'])[record_id::int]",
    )
    .execute(&pool)
    .await
    .unwrap();
    store::journal::append(&pool, &[change("7", 7, "fresh@x.com")]).await.unwrap();
    sqlx::query(
        "insert into hubsync.journal_attempts (journal_id, attempt, outcome)
         select id, 1, status from hubsync.journal",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into hubsync.outbox (sync_name, target_side, connector, object_type, operation,
             journal_id, status)
         select 'contacts', 'external', 'salesforce', 'Contact', 'upsert', id, 'done'
         from hubsync.journal where record_id in ('1', '5')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let month = Duration::from_secs(30 * 86_400);
    assert_eq!(store::journal::retention::prune_batch(&pool, month, 3).await.unwrap(), 3);
    assert_eq!(store::journal::retention::prune_batch(&pool, month, 3).await.unwrap(), 1);
    let left = store::journal::query(&pool, &JournalFilter::default(), 10).await.unwrap();
    let mut statuses: Vec<_> = left.iter().map(|r| r.status.as_str()).collect();
    statuses.sort();
    assert_eq!(statuses, ["dead", "failed", "pending"]);
    let attempts: Vec<String> =
        sqlx::query_scalar("select outcome from hubsync.journal_attempts order by outcome")
            .fetch_all(&pool)
            .await
            .unwrap();
    assert_eq!(attempts, ["dead", "failed", "pending"], "a pruned row's attempts go with it");
    let referenced: Vec<Option<String>> = sqlx::query_scalar(
        "select j.record_id from hubsync.outbox o
         left join hubsync.journal j on j.id = o.journal_id order by o.id",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(referenced, [None, Some("5".to_string())], "the outbox forgets pruned rows only");
    let dangling: i64 = sqlx::query_scalar(
        "select count(*) from hubsync.outbox where journal_id is not null
           and journal_id not in (select id from hubsync.journal)",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(dangling, 0);
}

mod cursors {
    use hubsync::store::cursors::{self as cursor, Cursor, CursorKey};

    use super::*;

    const KEY: CursorKey<'static> =
        CursorKey { connector: "hubspot", object_type: "contacts", stream: "changes" };

    fn position(second: u32, id: &str) -> Cursor {
        Cursor { timestamp: at(second), id: id.into(), token: None }
    }

    #[tokio::test]
    async fn a_new_cursor_starts_at_the_origin_and_only_moves_forward() {
        let (_db, pool) = migrated().await;
        assert_eq!(cursor::load(&pool, KEY).await.unwrap(), Cursor::origin());
        assert_eq!(cursor::advance(&pool, KEY, &position(5, "9")).await.unwrap(), position(5, "9"));
        // a numerically larger id at the same timestamp moves it; an older position does not
        assert_eq!(
            cursor::advance(&pool, KEY, &position(5, "10")).await.unwrap(),
            position(5, "10")
        );
        assert_eq!(
            cursor::advance(&pool, KEY, &position(4, "99")).await.unwrap(),
            position(5, "10")
        );
        assert_eq!(cursor::load(&pool, KEY).await.unwrap(), position(5, "10"));
    }

    #[tokio::test]
    async fn a_page_and_its_cursor_commit_together_or_not_at_all() {
        let (_db, pool) = migrated().await;
        let mut tx = pool.begin().await.unwrap();
        store::journal::append(&mut *tx, &[change("1", 1, "a@x.com")]).await.unwrap();
        cursor::advance(&mut *tx, KEY, &position(1, "1")).await.unwrap();
        drop(tx); // a crash before commit
        assert_eq!(cursor::load(&pool, KEY).await.unwrap(), Cursor::origin());
        assert!(
            store::journal::query(&pool, &JournalFilter::default(), 1).await.unwrap().is_empty()
        );
    }
}

#[tokio::test]
async fn the_running_daemon_prunes_settled_rows_past_thirty_days_by_default_and_keeps_the_rest() {
    let db = TestDatabase::create().await;
    let settings = test_settings(&db.url, &[("HUBSYNC__JOURNAL__PRUNE_INTERVAL", "1s")]);
    assert_eq!(settings.journal.retention, Duration::from_secs(30 * 86_400), "the default");
    let app = start(settings, Some(db)).await;
    app.wait_until_ready().await;
    let page: Vec<_> = (1..=4).map(|i| change(&i.to_string(), i, "a@x.com")).collect();
    store::journal::append(&app.pool, &page).await.unwrap();
    // 1: applied 31 days ago (pruned); 2: applied 29 days ago; 3: failed and 4: dead, 40 days ago
    sqlx::query(
        "update hubsync.journal set
             received_at = now() - (array[31, 29, 40, 40])[record_id::int] * interval '1 day',
             status = (array['applied', 'applied', 'failed', 'dead'])[record_id::int]",
    )
    .execute(&app.pool)
    .await
    .unwrap();
    let mut left = Vec::new();
    for _ in 0..100 {
        left = store::journal::query(&app.pool, &JournalFilter::default(), 10).await.unwrap();
        if left.len() < 4 {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut kept: Vec<_> = left.iter().map(|r| r.record_id.as_str()).collect();
    kept.sort();
    assert_eq!(kept, ["2", "3", "4"], "only the settled row past the retention age is pruned");
    app.stop().await.unwrap();
}
