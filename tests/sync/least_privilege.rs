//! The least-privilege database roles of `docker/postgres-init/01-roles.sql` (catalog T39):
//! the owner migrates, and the runtime role the daemon syncs as can change rows and nothing
//! else.

use std::path::Path;
use std::process::Command;
use std::time::Duration;

use hubspot_sim::RateProfile;
use serde_json::json;
use sqlx::Connection;
use sqlx::postgres::PgConnection;
use testkit::sims::simulators;

use super::{config_file, contacts};
use crate::support::binary::{RunningBinary, hubsync, run, text};
use crate::support::database::TestDatabase;

const ROLES_SQL: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/docker/postgres-init/01-roles.sql");

/// An owner and a runtime role named for one test (roles are cluster-wide), dropped with
/// it. Declare it before the database, so the database goes first.
struct Roles {
    owner: String,
    runtime: String,
    admin_url: String,
}

impl Roles {
    fn unique(admin_url: &str) -> Roles {
        let tag = uuid::Uuid::new_v4().simple().to_string()[..12].to_string();
        Roles {
            owner: format!("hubsync_owner_{tag}"),
            runtime: format!("hubsync_app_{tag}"),
            admin_url: admin_url.into(),
        }
    }

    /// Runs the roles script with psql on `db`, as the superuser in DATABASE_URL.
    fn apply(&self, db: &TestDatabase) {
        let output = Command::new("psql")
            .arg(&db.url)
            .args(["-X", "-q", "-v", "ON_ERROR_STOP=1", "-f", ROLES_SQL])
            .args(["-v", &format!("owner={}", self.owner)])
            .args(["-v", &format!("runtime={}", self.runtime)])
            .args(["-v", "statement_timeout=7s", "-v", "lock_timeout=3s"])
            .args(["-v", "idle_in_transaction_session_timeout=11s"])
            .output()
            .expect("psql runs (the roles script needs the PostgreSQL client)");
        assert!(output.status.success(), "roles script failed: {}", text(&output.stderr));
    }
}

impl Drop for Roles {
    fn drop(&mut self) {
        let _ = Command::new("psql")
            .arg(&self.admin_url)
            .args(["-X", "-q", "-c", &format!("drop role if exists {}", self.owner)])
            .args(["-c", &format!("drop role if exists {}", self.runtime)])
            .output();
    }
}

/// `url` with its user replaced by `role` (the test cluster trusts local connections).
fn as_role(url: &str, role: &str) -> String {
    let mut parsed = reqwest::Url::parse(url).expect("a database URL");
    parsed.set_username(role).expect("a URL with a user");
    parsed.to_string()
}

/// Runs `sql` and returns its SQLSTATE, or `None` when it succeeded.
async fn sqlstate(conn: &mut PgConnection, sql: &str) -> Option<String> {
    match sqlx::raw_sql(sql).execute(&mut *conn).await {
        Ok(_) => None,
        Err(err) => {
            let db = err.as_database_error().map(|e| e.code().unwrap_or_default().to_string());
            Some(db.unwrap_or_else(|| format!("not a database error: {err}")))
        }
    }
}

const FORBIDDEN: [&str; 9] = [
    "drop table hubsync.links",
    "truncate hubsync.journal",
    "alter table hubsync.links add column stolen text",
    "create table hubsync.stolen (id int)",
    "create table public.stolen (id int)",
    "create function hubsync.stolen() returns int language sql as 'select 1'",
    "copy (select 1) to program 'true'",
    "select rolpassword from pg_authid",
    "SET_ROLE",
];

async fn assert_runtime_role_is_least_privileged(url: &str, owner: &str) {
    let mut conn = PgConnection::connect(url).await.expect("the runtime role logs in");
    for statement in FORBIDDEN {
        let statement = statement.replace("SET_ROLE", &format!("set role {owner}"));
        let state = sqlstate(&mut conn, &statement).await;
        assert_eq!(state.as_deref(), Some("42501"), "permission denied for `{statement}`");
    }
    let dml = [
        "insert into hubsync.links (sync_name, hubspot_id, external_id) values ('t', '1', 'a')",
        "update hubsync.links set external_id = 'b' where sync_name = 't'",
        "select count(*) from hubsync.journal",
        "delete from hubsync.links where sync_name = 't'",
    ];
    for statement in dml {
        assert_eq!(sqlstate(&mut conn, statement).await, None, "`{statement}` works");
    }
    for (setting, value) in [
        ("statement_timeout", "7s"),
        ("lock_timeout", "3s"),
        ("idle_in_transaction_session_timeout", "11s"),
    ] {
        let shown: String =
            sqlx::query_scalar(&format!("show {setting}")).fetch_one(&mut conn).await.unwrap();
        assert_eq!(shown, value, "{setting} is set on the runtime role");
    }
    conn.close().await.ok();
}

fn migrate_as(url: &str) {
    let output = run(hubsync().arg("migrate").env("DATABASE_URL", url));
    assert!(output.status.success(), "migrate as the owner: {}", text(&output.stderr));
}

fn spawn_daemon(config: &Path, url: &str) -> RunningBinary {
    let mut command = hubsync();
    command.arg("--config").arg(config).arg("run");
    command.env("DATABASE_URL", url).env("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0");
    command.env("HUBSYNC__DATABASE__MIGRATE_ON_START", "false");
    for (key, value) in testkit::settings::fast(&[]) {
        command.env(key, value);
    }
    RunningBinary::spawn(&mut command)
}

#[tokio::test(flavor = "multi_thread")]
async fn the_runtime_role_syncs_but_cannot_change_the_schema_or_escalate() {
    crate::support::init_test_log();
    let admin_url = std::env::var("DATABASE_URL").expect("DATABASE_URL names the test cluster");
    let roles = Roles::unique(&admin_url);
    let db = TestDatabase::create().await;
    roles.apply(&db);
    migrate_as(&as_role(&db.url, &roles.owner));
    let runtime_url = as_role(&db.url, &roles.runtime);
    assert_runtime_role_is_least_privileged(&runtime_url, &roles.owner).await;

    let (hubspot, salesforce) = simulators(RateProfile::UNLIMITED).await;
    let secrets = tempfile::tempdir().unwrap();
    let config = secrets.path().join("hubsync.toml");
    let rules = contacts("newest_wins", "flag");
    std::fs::write(&config, config_file(&hubspot, &salesforce, &secrets, &rules)).unwrap();
    let mut daemon = spawn_daemon(&config, &runtime_url);
    let id = hubspot
        .create_as_user(
            "contacts",
            json!({"email": "least@privilege.test", "lastname": "Least"}),
            7,
        )
        .unwrap();
    let pool = sqlx::PgPool::connect(&db.url).await.unwrap();
    let deadline = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let linked: i64 =
            sqlx::query_scalar("select count(*) from hubsync.links where hubspot_id = $1")
                .bind(id.to_string())
                .fetch_one(&pool)
                .await
                .unwrap();
        if linked == 1 {
            break;
        }
        if tokio::time::Instant::now() > deadline {
            let _ = daemon.child.kill();
            let output = tokio::task::spawn_blocking(move || {
                daemon.wait_for_exit(Duration::from_secs(5));
                daemon.all_output()
            });
            panic!("not linked within 30 s as the runtime role:\n{}", output.await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(salesforce.count("Contact", false), 1, "the contact reached Salesforce");
    pool.close().await;
    daemon.send_signal("TERM");
    let output = tokio::task::spawn_blocking(move || {
        daemon.wait_for_exit(Duration::from_secs(10));
        daemon.all_output()
    });
    let output = output.await.unwrap();
    for denied in ["permission denied", "must be owner"] {
        assert!(!output.contains(denied), "the daemon needed more than DML:\n{output}");
    }
}
