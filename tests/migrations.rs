//! hubsync's schema: created by migrations that can be applied again safely.

use crate::support::binary::{hubsync, run, text};
use crate::support::database::TestDatabase;

/// Every column, index and constraint of the `hubsync` schema, as text.
async fn schema_snapshot(pool: &sqlx::PgPool) -> Vec<String> {
    sqlx::query_scalar(
        "select format('column %s.%s %s %s default %s', table_name, column_name, data_type,
                       is_nullable, coalesce(column_default, '-'))
           from information_schema.columns where table_schema = 'hubsync'
         union all
         select format('index %s', indexdef) from pg_indexes where schemaname = 'hubsync'
         union all
         select format('constraint %s %s', conname, pg_get_constraintdef(c.oid))
           from pg_constraint c join pg_namespace n on n.oid = c.connamespace
          where n.nspname = 'hubsync'
         order by 1",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn migrations_applied_twice_change_nothing_the_second_time() {
    let db = TestDatabase::create().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let first = hubsync::db::migrate(&pool).await.unwrap();
    assert_eq!(first.applied_now.len(), hubsync::db::MIGRATOR.migrations.len());
    sqlx::query(
        "insert into hubsync.links (sync_name, hubspot_id, external_id) values ('c', '1', 'a')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let schema = schema_snapshot(&pool).await;
    assert!(schema.len() > 100, "the snapshot sees the schema: {}", schema.len());

    let second = hubsync::db::migrate(&pool).await.unwrap();
    assert!(second.applied_now.is_empty(), "{second:?}");
    assert_eq!(schema_snapshot(&pool).await, schema);
    let links: i64 =
        sqlx::query_scalar("select count(*) from hubsync.links").fetch_one(&pool).await.unwrap();
    assert_eq!(links, 1);
    assert_eq!(
        hubsync::db::migration_status(&pool).await.unwrap(),
        hubsync::db::MigrationStatus::UpToDate
    );
    pool.close().await;
}

/// Runs one migration's SQL in a transaction, as the migrator does.
async fn run_sql(pool: &sqlx::PgPool, migration: &sqlx::migrate::Migration) {
    let mut tx = pool.begin().await.unwrap();
    sqlx::raw_sql(&migration.sql)
        .execute(&mut *tx)
        .await
        .unwrap_or_else(|err| panic!("{}: {err}", migration.description));
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn each_migration_run_again_right_after_itself_changes_nothing() {
    // a migration interrupted after its commit but before its bookkeeping row, or applied by
    // hand and then by the migrator, runs twice in a row
    let db = TestDatabase::create().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    sqlx::query("create schema hubsync").execute(&pool).await.unwrap();
    for migration in hubsync::db::MIGRATOR.iter() {
        run_sql(&pool, migration).await;
        let once = schema_snapshot(&pool).await;
        run_sql(&pool, migration).await;
        assert_eq!(schema_snapshot(&pool).await, once, "{} run twice", migration.description);
    }
    pool.close().await;
}

async fn bookkeeping_rows(pool: &sqlx::PgPool, table: &str) -> Option<i64> {
    let exists: Option<String> = sqlx::query_scalar("select to_regclass($1)::text")
        .bind(table)
        .fetch_one(pool)
        .await
        .unwrap();
    exists?;
    let sql = format!("select count(*) from {table}");
    Some(sqlx::query_scalar(&sql).fetch_one(pool).await.unwrap())
}

#[tokio::test]
async fn the_migration_bookkeeping_lives_in_the_hubsync_schema_and_an_old_public_one_is_adopted() {
    let db = TestDatabase::create().await;
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let all = hubsync::db::MIGRATOR.migrations.len() as i64;
    assert_eq!(bookkeeping_rows(&pool, "hubsync._sqlx_migrations").await, Some(all));
    assert_eq!(
        bookkeeping_rows(&pool, "public._sqlx_migrations").await,
        None,
        "public is left alone"
    );

    // as an earlier release left it: in `public`, shared with another application's sqlx
    sqlx::query("alter table hubsync._sqlx_migrations set schema public")
        .execute(&pool)
        .await
        .unwrap();
    sqlx::query(
        "insert into public._sqlx_migrations (version, description, success, checksum,
             execution_time)
         values (1, 'their first table', true, '\\x00', 1)",
    )
    .execute(&pool)
    .await
    .unwrap();
    assert_eq!(
        hubsync::db::migration_status(&pool).await.unwrap(),
        hubsync::db::MigrationStatus::UpToDate,
        "readiness still sees the old bookkeeping before the upgrade migrates"
    );
    let upgrade = hubsync::db::migrate(&pool).await.unwrap();
    assert!(upgrade.applied_now.is_empty(), "nothing applied twice: {upgrade:?}");
    assert_eq!(bookkeeping_rows(&pool, "hubsync._sqlx_migrations").await, Some(all));
    assert_eq!(bookkeeping_rows(&pool, "public._sqlx_migrations").await, Some(1), "theirs stays");
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
            "_sqlx_migrations",
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
    let state = hubsync::store::record_state::load(&pool, 7).await.unwrap();
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
