//! `hubsync status` on a big journal: bulk-loads 1,000,000 journal rows (and 100,000 outbox
//! items) with a realistic status mix, then times the status library call and
//! `GET /api/status` through the admin router.
//!
//! Run: `cargo bench --bench status_query`. It uses DATABASE_URL's server (default
//! `postgres://postgres@127.0.0.1:5432/postgres`), creating and dropping its own database.

use std::sync::Arc;
use std::sync::atomic::AtomicBool;
use std::time::{Duration, Instant};

use hubsync::admin::{self, AdminState, Tokens};
use hubsync::config::{self, ConfigSources, Settings};
use sqlx::PgPool;
use testkit::database::{TestDatabase, bench_server};

const JOURNAL_ROWS: i64 = 1_000_000;
const OUTBOX_ROWS: i64 = 100_000;
const CALLS: usize = 50;
const TOKEN: &str = "bench-read-token-0123456789";

/// The connectors point at a closed local port: the status call reads only the database.
const CONFIG: &str = concat!(
    include_str!("../tests/support/offline_connectors.toml"),
    r#"
[[sync]]
name = "contacts"
hubspot_object = "contacts"
external_connector = "salesforce"
external_object = "Contact"
keys = { external_id_field = "HubSpot_Id__c" }

[[sync]]
name = "companies"
hubspot_object = "companies"
external_connector = "salesforce"
external_object = "Account"
keys = { external_id_field = "HubSpot_Id__c" }

[[admin.tokens]]
name = "bench"
scope = "read"
token = { env = "READ_TOKEN" }
"#
);

fn main() {
    let runtime = tokio::runtime::Builder::new_multi_thread().enable_all().build().unwrap();
    runtime.block_on(run());
}

async fn run() {
    let db = TestDatabase::on_server(&bench_server(), "bench_status").await;
    let url = db.url.clone();
    let pool = PgPool::connect(&url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let loading = Instant::now();
    load(&pool).await;
    println!(
        "loaded {JOURNAL_ROWS} journal rows and {OUTBOX_ROWS} outbox items in {:.1?}",
        loading.elapsed()
    );
    let settings = Arc::new(settings(&url));
    let report = hubsync::operate::status(&pool, &settings).await.unwrap();
    println!(
        "status of {} sync blocks; contacts journal depth {}",
        report.syncs.len(),
        report.syncs[0].journal_depth
    );
    let library = time(|| async {
        hubsync::operate::status(&pool, &settings).await.unwrap();
    })
    .await;
    let api = api_p50(&pool, settings.clone()).await;
    pool.close().await;
    drop(db);
    println!("status query p50: {:.1} ms (target < 100)", ms(library));
    println!("api status p50: {:.1} ms (target < 100)", ms(api));
}

/// 1,000,000 journal rows over 30 days across four objects: mostly settled, about 1.2 %
/// pending or processing, 1 % failed or dead; and 100,000 outbox items, mostly done.
async fn load(pool: &PgPool) {
    sqlx::raw_sql(&format!(
        "insert into hubsync.journal (side, connector, object_type, record_id, kind, properties,
             occurred_at, received_at, updated_at, source, dedup_key, status, attempts,
             error_kind, last_error, reason)
         select s.side, s.connector, s.object_type, (g % 200000)::text, 'upsert',
                jsonb_build_object('email', jsonb_build_object('value', 'user' || (g % 200000) || '@acme.com')),
                t.at, t.at, t.at + interval '2 seconds', 'poll', 'bench-' || g, st.status,
                case when st.status in ('failed', 'dead') then 3 else 1 end,
                case when st.status in ('failed', 'dead')
                     then (array['permanent', 'rate_limited', 'transient', 'needs_operator'])[1 + g % 4] end,
                case when st.status in ('failed', 'dead') then 'INVALID_EMAIL: bad address' end,
                case when st.status = 'applied' then 'queued' end
           from generate_series(1, {JOURNAL_ROWS}) as g
           cross join lateral (select now() - (({JOURNAL_ROWS} - g) * interval '30 days' / {JOURNAL_ROWS}) as at) t
           cross join lateral (select case g % 4
                   when 0 then 'hubspot' when 1 then 'external' when 2 then 'hubspot' else 'external' end as side,
               case when g % 4 in (0, 2) then 'hubspot' else 'salesforce' end as connector,
               (array['contacts', 'Contact', 'companies', 'Account'])[1 + g % 4] as object_type) s
           cross join lateral (select case
                   when g % 1000 < 900 then 'applied' when g % 1000 < 940 then 'echo'
                   when g % 1000 < 955 then 'stale' when g % 1000 < 965 then 'skipped'
                   when g % 1000 < 977 then 'pending' when g % 1000 < 979 then 'processing'
                   when g % 1000 < 983 then 'conflict' when g % 1000 < 990 then 'failed'
                   when g % 1000 < 993 then 'dead' else 'applied' end as status) st;
         insert into hubsync.outbox (sync_name, target_side, connector, object_type, operation,
             intent, target_id, source_id, properties, status, attempts, error_kind, last_error,
             created_at, updated_at)
         select (array['contacts', 'companies'])[1 + g % 2], 'external', 'salesforce',
                (array['Contact', 'Account'])[1 + g % 2], 'update', 'update', g::text, g::text,
                '{{}}', st.status, 1,
                case when st.status in ('failed', 'dead') then 'permanent' end,
                case when st.status in ('failed', 'dead') then 'REQUIRED_FIELD_MISSING' end,
                now() - (({OUTBOX_ROWS} - g) * interval '30 days' / {OUTBOX_ROWS}),
                now() - (({OUTBOX_ROWS} - g) * interval '30 days' / {OUTBOX_ROWS}) + interval '1 second'
           from generate_series(1, {OUTBOX_ROWS}) as g
           cross join lateral (select case when g % 100 < 96 then 'done'
                   when g % 100 < 98 then 'pending' when g % 100 < 99 then 'failed'
                   else 'dead' end as status) st;"
    ))
    .execute(pool)
    .await
    .unwrap();
    for table in ["journal", "outbox"] {
        let sql = format!("vacuum analyze hubsync.{table}");
        sqlx::raw_sql(&sql).execute(pool).await.unwrap();
    }
}

fn settings(database_url: &str) -> Settings {
    let path = std::env::temp_dir().join(format!("hubsync-bench-{}.toml", uuid::Uuid::new_v4()));
    std::fs::write(&path, CONFIG).unwrap();
    let env = [
        ("DATABASE_URL", database_url),
        ("HUBSYNC__ADMIN__LISTEN", "127.0.0.1:0"),
        ("HS_TOKEN", "bench"),
        ("SF_SECRET", "bench"),
        ("READ_TOKEN", TOKEN),
    ];
    let env = env.into_iter().map(|(k, v)| (k.to_string(), v.to_string())).collect();
    let settings = config::load(&ConfigSources { file: Some(path.clone()), env }).unwrap();
    let _ = std::fs::remove_file(path);
    settings
}

/// `GET /api/status` through the real admin router on a local port.
async fn api_p50(pool: &PgPool, settings: Arc<Settings>) -> Duration {
    let state = AdminState {
        pool: pool.clone(),
        metrics: hubsync::metrics::install(),
        started: Arc::new(AtomicBool::new(true)),
        tokens: Tokens::from_settings(&settings.admin.tokens),
        open_probes: true,
        max_body_bytes: 65536,
        connectors: Arc::default(),
        max_clock_skew: settings.admin.max_clock_skew,
    };
    let router = admin::operator_router(state, settings);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/api/status", listener.local_addr().unwrap());
    let server = tokio::spawn(async move { axum::serve(listener, router).await });
    let http = reqwest::Client::new();
    let p50 = time(|| async {
        let response = http.get(&url).bearer_auth(TOKEN).send().await.unwrap();
        assert_eq!(response.status().as_u16(), 200);
        response.bytes().await.unwrap();
    })
    .await;
    server.abort();
    p50
}

/// The median of `CALLS` timed calls, after one warm-up call.
async fn time<F, Fut>(call: F) -> Duration
where
    F: Fn() -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    call().await;
    let mut times = Vec::with_capacity(CALLS);
    for _ in 0..CALLS {
        let started = Instant::now();
        call().await;
        times.push(started.elapsed());
    }
    times.sort();
    times[CALLS / 2]
}

fn ms(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1000.0
}
