//! A configured `contacts` sync block, tokens, and seeding helpers for the operator tests:
//! journal rows, links, outbox items and conflicts inserted with SQL.

use std::process::Output;

use serde_json::Value;
use sqlx::PgPool;
use tempfile::NamedTempFile;

use super::app::{TestApp, spawn_app_with};
use super::binary::{hubsync, run};
use super::database::TestDatabase;

pub const READ: &str = "read-token-0123456789";
pub const OPERATE: &str = "operate-token-0123456789";

/// Connectors point at a closed local port: nothing here may reach a real CRM.
pub const CONFIG: &str = concat!(
    include_str!("offline_connectors.toml"),
    r#"
[[sync]]
name = "contacts"
hubspot_object = "contacts"
external_connector = "salesforce"
external_object = "Contact"
keys = { external_id_field = "HubSpot_Id__c" }
fields = [{ hubspot = "email", external = "Email" }, { hubspot = "phone", external = "Phone" }]

[[admin.tokens]]
name = "dashboard"
scope = "read"
token = { env = "READ_TOKEN" }

[[admin.tokens]]
name = "oncall"
scope = "operate"
token = { env = "OPERATE_TOKEN" }
"#
);

pub const ENV: [(&str, &str); 4] = [
    ("HS_TOKEN", "sim-token"),
    ("SF_SECRET", "sim-secret"),
    ("READ_TOKEN", READ),
    ("OPERATE_TOKEN", OPERATE),
];

/// A migrated database and the config file, for running the binary.
pub struct Seeded {
    pub db: TestDatabase,
    pub pool: PgPool,
    pub config: NamedTempFile,
}

pub async fn seeded() -> Seeded {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let config = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(config.path(), CONFIG).unwrap();
    Seeded { db, pool, config }
}

impl Seeded {
    /// Runs `hubsync --config … ARGS` to completion.
    pub fn cli(&self, args: &[&str]) -> Output {
        let mut command = hubsync();
        command.arg("--config").arg(self.config.path()).args(args);
        command.env("DATABASE_URL", &self.db.url).envs(ENV);
        run(&mut command)
    }
}

/// The daemon with this config, ready.
pub async fn app() -> TestApp {
    spawn_app_with(CONFIG, &ENV).await
}

/// A journal row as the ingest and the reconciler would leave it. Returns its id.
pub struct Row<'a> {
    pub side: &'a str,
    pub record_id: &'a str,
    pub properties: Value,
    pub status: &'a str,
    pub reason: Option<&'a str>,
    pub error_kind: Option<&'a str>,
    pub last_error: Option<&'a str>,
    /// How long ago it arrived.
    pub age: &'a str,
}

impl Default for Row<'_> {
    fn default() -> Self {
        Row {
            side: "hubspot",
            record_id: "101",
            properties: Value::Object(Default::default()),
            status: "pending",
            reason: None,
            error_kind: None,
            last_error: None,
            age: "1 second",
        }
    }
}

pub async fn journal(pool: &PgPool, row: Row<'_>) -> i64 {
    let (connector, object) = match row.side {
        "hubspot" => ("hubspot", "contacts"),
        _ => ("salesforce", "Contact"),
    };
    sqlx::query_scalar(
        "insert into hubsync.journal (side, connector, object_type, record_id, kind, properties,
             occurred_at, received_at, updated_at, source, dedup_key, status, reason, error_kind,
             last_error, attempts)
         values ($1, $2, $3, $4, 'upsert', $5, now() - $6::interval, now() - $6::interval,
                 now() - $6::interval / 2, 'poll', gen_random_uuid()::text, $7, $8, $9, $10,
                 case when $7 in ('failed', 'dead') then 1 else 0 end)
         returning id",
    )
    .bind(row.side)
    .bind(connector)
    .bind(object)
    .bind(row.record_id)
    .bind(row.properties)
    .bind(row.age)
    .bind(row.status)
    .bind(row.reason)
    .bind(row.error_kind)
    .bind(row.last_error)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// Links HubSpot `hubspot_id` with external `external_id` in `contacts`.
pub async fn link(pool: &PgPool, hubspot_id: &str, external_id: &str) -> i64 {
    sqlx::query_scalar(
        "insert into hubsync.links (sync_name, hubspot_id, external_id, created_at)
         values ('contacts', $1, $2, now() - interval '1 hour') returning id",
    )
    .bind(hubspot_id)
    .bind(external_id)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// An `email` conflict held for an operator (policy `hold`) on the given link.
pub async fn open_conflict(pool: &PgPool, link_id: Option<i64>, journal_id: Option<i64>) -> i64 {
    sqlx::query_scalar(
        "insert into hubsync.conflicts (sync_name, link_id, hubspot_id, external_id,
             hubspot_field, external_field, hubspot_value, external_value, hubspot_as_external,
             external_as_hubspot, hubspot_at, external_at, policy, status, journal_id)
         values ('contacts', $1, '101', '003A', 'email', 'Email', 'hs@acme.com', 'sf@acme.com',
                 'hs@acme.com', 'sf@acme.com', '2026-11-01T10:00:00Z', '2026-11-01T11:00:00Z',
                 'hold', 'open', $2)
         returning id",
    )
    .bind(link_id)
    .bind(journal_id)
    .fetch_one(pool)
    .await
    .unwrap()
}

/// An outbox item in `status`, with the API's answer for settled ones.
pub async fn outbox(pool: &PgPool, journal_id: Option<i64>, status: &str, error: Option<&str>) {
    sqlx::query(
        "insert into hubsync.outbox (sync_name, target_side, connector, object_type, operation,
             intent, target_id, source_id, properties, journal_id, status, attempts, error_kind,
             last_error, last_result)
         values ('contacts', 'external', 'salesforce', 'Contact', 'update', 'update', '003A',
                 '101', '{\"Email\": \"user@acme.com\"}', $1, $2, 1,
                 case when $3::text is null then null else 'permanent' end, $3,
                 case when $3::text is null then '{\"id\": \"003A\", \"success\": true}'::jsonb
                      else jsonb_build_object('errors', jsonb_build_array($3)) end)",
    )
    .bind(journal_id)
    .bind(status)
    .bind(error)
    .execute(pool)
    .await
    .unwrap();
}

/// The newest audit row: `(actor, action, target, detail)`.
pub async fn last_audit(pool: &PgPool) -> (String, String, Value, Value) {
    sqlx::query_as(
        "select actor, action, target, detail from hubsync.audit order by id desc limit 1",
    )
    .fetch_one(pool)
    .await
    .unwrap()
}
