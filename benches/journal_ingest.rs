//! Journal ingest throughput: `journal::append` in 100-change batches against a plain
//! `COPY` of the same rows into the same table.
//!
//! Run: `cargo bench --bench journal_ingest`. It uses DATABASE_URL's server (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), creating and dropping its own database.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use chrono::{TimeZone, Utc};
use hubsync::config::Side;
use hubsync::journal::{self, Arrival, ChangeKind, NewChange, PropertyChange};
use sqlx::postgres::PgPoolOptions;
use sqlx::{Connection, PgConnection, PgPool};

const CHANGES: usize = 200_000;
const BATCH: usize = 100;
/// Concurrent writers, as HubSpot's concurrent webhook deliveries and several pollers are.
const WRITERS: usize = 16;

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let server = std::env::var("DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let append = measure(&server, "append", |pool, rows| Box::pin(append_all(pool, rows))).await;
    let copy = measure(&server, "copy", |pool, rows| Box::pin(copy_all(pool, rows))).await;
    println!(
        "journal append: {append:.0} changes/s (target ≥ 50000; plain COPY of the same rows: {copy:.0} rows/s)"
    );
    println!("journal copy baseline: {copy:.0} rows/s (reference ≈ 120000)");
}

type Job = fn(
    PgPool,
    Vec<Vec<NewChange>>,
) -> std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Runs `job` over fresh batches in a fresh database and returns rows per second.
async fn measure(server: &str, name: &str, job: Job) -> f64 {
    let (url, drop_db) = fresh_database(server, name).await;
    let pool =
        PgPoolOptions::new().max_connections(WRITERS as u32 + 1).connect(&url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let batches = batches(name);
    let started = Instant::now();
    job(pool.clone(), batches).await;
    let elapsed = started.elapsed();
    let stored: i64 =
        sqlx::query_scalar("select count(*) from hubsync.journal").fetch_one(&pool).await.unwrap();
    assert_eq!(stored as usize, CHANGES, "{name} stored every row");
    pool.close().await;
    drop_db.await;
    rate(CHANGES, elapsed)
}

fn rate(rows: usize, elapsed: Duration) -> f64 {
    rows as f64 / elapsed.as_secs_f64()
}

fn batches(tag: &str) -> Vec<Vec<NewChange>> {
    let changes: Vec<NewChange> = (0..CHANGES).map(|i| change(tag, i)).collect();
    changes.chunks(BATCH).map(<[NewChange]>::to_vec).collect()
}

fn change(tag: &str, i: usize) -> NewChange {
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 0, 0, 0).unwrap()
        + chrono::Duration::milliseconds(i as i64);
    let mut properties = BTreeMap::new();
    for (name, value) in
        [("email", format!("user{i}@example.com")), ("firstname", format!("First{i}"))]
    {
        properties
            .insert(name.to_string(), PropertyChange { value: Some(value), timestamp: Some(at) });
    }
    NewChange {
        side: Side::Hubspot,
        connector: "hubspot".into(),
        object_type: "contacts".into(),
        record_id: (100_000 + i).to_string(),
        kind: ChangeKind::Upsert,
        properties,
        occurred_at: at,
        source: Arrival::Webhook,
        dedup_key: format!("{tag}:{i}"),
    }
}

/// `WRITERS` tasks, each appending its share of the batches one statement at a time and
/// ringing the doorbell after each, as the ingest paths do.
async fn append_all(pool: PgPool, batches: Vec<Vec<NewChange>>) {
    let doorbell = journal::Doorbell::new(pool.clone());
    let mut tasks = tokio::task::JoinSet::new();
    for share in split(batches) {
        let (pool, doorbell) = (pool.clone(), doorbell.clone());
        tasks.spawn(async move {
            for batch in share {
                journal::append(&pool, &batch).await.unwrap();
                doorbell.ring();
            }
        });
    }
    tasks.join_all().await;
}

/// The same rows through `COPY … FROM STDIN`, one COPY per writer.
async fn copy_all(pool: PgPool, batches: Vec<Vec<NewChange>>) {
    let mut tasks = tokio::task::JoinSet::new();
    for share in split(batches) {
        let pool = pool.clone();
        tasks.spawn(async move {
            let mut conn = pool.acquire().await.unwrap();
            let mut copy = conn
                .copy_in_raw(
                    "copy hubsync.journal (side, connector, object_type, record_id, kind, \
                     properties, occurred_at, source, dedup_key) from stdin (format csv)",
                )
                .await
                .unwrap();
            for batch in share {
                copy.send(csv(&batch).into_bytes()).await.unwrap();
            }
            copy.finish().await.unwrap();
        });
    }
    tasks.join_all().await;
}

fn csv(batch: &[NewChange]) -> String {
    let mut out = String::new();
    for c in batch {
        let props = serde_json::to_string(&c.properties).unwrap().replace('"', "\"\"");
        out.push_str(&format!(
            "hubspot,{},{},{},upsert,\"{props}\",{},webhook,{}\n",
            c.connector,
            c.object_type,
            c.record_id,
            c.occurred_at.to_rfc3339(),
            c.dedup_key
        ));
    }
    out
}

fn split<T>(items: Vec<T>) -> Vec<Vec<T>> {
    let mut shares: Vec<Vec<T>> = (0..WRITERS).map(|_| Vec::new()).collect();
    for (i, item) in items.into_iter().enumerate() {
        shares[i % WRITERS].push(item);
    }
    shares
}

async fn fresh_database(
    server: &str,
    tag: &str,
) -> (String, impl std::future::Future<Output = ()>) {
    let name = format!("hubsync_bench_{tag}_{}", uuid::Uuid::new_v4().simple());
    let mut admin = PgConnection::connect(server).await.expect("DATABASE_URL server reachable");
    sqlx::query(&format!("create database {name}")).execute(&mut admin).await.unwrap();
    let mut url = reqwest::Url::parse(server).unwrap();
    url.set_path(&format!("/{name}"));
    let cleanup = async move {
        let sql = format!("drop database if exists {name} with (force)");
        sqlx::query(&sql).execute(&mut admin).await.unwrap();
    };
    (url.to_string(), cleanup)
}
