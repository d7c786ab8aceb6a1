//! hubsync's schema: created by migrations that can be applied again safely.

use crate::support::binary::{hubsync, run, text};
use crate::support::database::TestDatabase;

#[tokio::test]
async fn migrations_applied_twice_change_nothing_the_second_time() {
    let db = TestDatabase::create().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let first = hubsync::db::migrate(&pool).await.unwrap();
    assert!(!first.applied_now.is_empty());
    let second = hubsync::db::migrate(&pool).await.unwrap();
    assert!(second.applied_now.is_empty(), "{second:?}");
    assert_eq!(
        hubsync::db::migration_status(&pool).await.unwrap(),
        hubsync::db::MigrationStatus::UpToDate
    );
    pool.close().await;
}

#[tokio::test]
async fn the_schema_has_the_tables_of_the_design() {
    let db = TestDatabase::create().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let tables: Vec<String> = sqlx::query_scalar(
        "select table_name::text from information_schema.tables where table_schema = 'hubsync' order by 1",
    )
    .fetch_all(&pool)
    .await
    .unwrap();
    assert_eq!(
        tables,
        [
            "audit",
            "conflicts",
            "connector_budget",
            "cursors",
            "journal",
            "journal_attempts",
            "links",
            "outbox",
            "paused",
            "record_state",
            "webhook_quarantine"
        ]
    );
    pool.close().await;
}

#[tokio::test]
async fn the_journal_refuses_a_second_row_with_the_same_dedup_key() {
    let db = TestDatabase::create().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let insert = "insert into hubsync.journal (side, connector, object_type, record_id, kind, \
                  occurred_at, source, dedup_key) values ('hubspot', 'hubspot', 'contacts', '1', \
                  'upsert', now(), 'webhook', 'evt-1') on conflict (dedup_key) do nothing";
    let first = sqlx::query(insert).execute(&pool).await.unwrap().rows_affected();
    let second = sqlx::query(insert).execute(&pool).await.unwrap().rows_affected();
    assert_eq!((first, second), (1, 0));
    pool.close().await;
}

#[tokio::test]
async fn connections_carry_the_application_name_and_timeouts() {
    let db = TestDatabase::create().await;
    let settings = crate::support::app::test_settings(
        &db.url,
        &[("HUBSYNC__DATABASE__LOCK_TIMEOUT", "1500ms")],
    );
    let pool = hubsync::db::lazy_pool(&settings.database).unwrap();
    let row: (String, String, String) = sqlx::query_as(
        "select current_setting('application_name'), current_setting('statement_timeout'), \
         current_setting('lock_timeout')",
    )
    .fetch_one(&pool)
    .await
    .unwrap();
    assert_eq!(row, ("hubsync".to_string(), "30s".to_string(), "1500ms".to_string()));
    pool.close().await;
}

#[tokio::test]
async fn the_migrate_command_applies_then_reports_up_to_date() {
    let db = TestDatabase::create().await;
    let first = run(hubsync().arg("migrate").env("DATABASE_URL", &db.url));
    assert!(first.status.success(), "{}", text(&first.stderr));
    let all = hubsync::db::MIGRATOR.migrations.len();
    let applied = format!("applied {all} migration(s)");
    assert!(text(&first.stdout).starts_with(&applied), "{}", text(&first.stdout));
    let second = run(hubsync().arg("migrate").env("DATABASE_URL", &db.url));
    assert!(second.status.success(), "{}", text(&second.stderr));
    assert!(text(&second.stdout).starts_with("schema is up to date"), "{}", text(&second.stdout));
}
