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

/// Applies the embedded migrations older than `version`, as a release before it would have.
async fn migrate_before(pool: &sqlx::PgPool, version: &str) {
    let dir = tempfile::tempdir().unwrap();
    let source = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("migrations");
    for entry in std::fs::read_dir(&source).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if name.as_str() < version {
            std::fs::copy(&path, dir.path().join(&name)).unwrap();
        }
    }
    sqlx::query("create schema if not exists hubsync").execute(pool).await.unwrap();
    let older = sqlx::migrate::Migrator::new(dir.path()).await.unwrap();
    older.run(pool).await.unwrap();
}

#[tokio::test]
async fn an_upgrade_keeps_the_synced_state_of_every_field() {
    use hubsync::config::Side;
    use serde_json::json;

    let db = TestDatabase::create().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    migrate_before(&pool, "20261201000012").await;
    sqlx::raw_sql(
        "insert into hubsync.links (id, sync_name, hubspot_id, external_id)
             values (7, 'deals', '101', '006A');
         insert into hubsync.record_state
             (link_id, side, field, value, value_at, set_at, written_by_hubsync, replaced)
         values (7, 'external', 'Amount', '1500.5', '2026-11-01T10:00:00Z',
                 '2026-11-01T10:00:05Z', true, '1200'),
                (7, 'external', 'StageName', 'Closed Won', '2026-11-01T10:00:00Z',
                 '2026-11-01T10:00:00Z', false, null),
                (7, 'hubspot', 'dealname', '\"Big deal\"', '2026-11-01T09:00:00Z',
                 '2026-11-01T09:00:00Z', false, null),
                (7, 'hubspot', 'closedate', 'null', '2026-11-01T09:00:00Z',
                 '2026-11-01T09:00:00Z', false, null)",
    )
    .execute(&pool)
    .await
    .unwrap();

    hubsync::db::migrate(&pool).await.unwrap();
    let state = hubsync::reconcile::state::load(&pool, 7).await.unwrap();
    assert_eq!(state.len(), 4, "{state:?}");
    let amount = &state[&(Side::External, "Amount".to_string())];
    assert_eq!(amount.value, json!(1500.5));
    assert_eq!(amount.replaced, json!(1200));
    assert!(amount.by_hubsync);
    assert_eq!(amount.set_at.to_rfc3339(), "2026-11-01T10:00:05+00:00");
    // text that was never JSON stays text
    assert_eq!(state[&(Side::External, "StageName".to_string())].value, json!("Closed Won"));
    assert_eq!(state[&(Side::Hubspot, "dealname".to_string())].value, json!("Big deal"));
    assert_eq!(state[&(Side::Hubspot, "closedate".to_string())].value, json!(null));
    pool.close().await;
}
