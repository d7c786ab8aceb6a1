//! `hubsync demo`: its seed, its running report, its final verification, and the binary end
//! to end (which needs the reconciler and the writer to pass) and under Ctrl-C.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use hubsync::config::{self, ConfigSources, Settings};
use hubsync::demo::seed::{self, Place};
use hubsync::demo::{database, populate, report, sims, verify};
use serde_json::json;
use sqlx::PgPool;

use crate::support::database::TestDatabase;

fn demo_settings() -> Settings {
    let sources = ConfigSources { file: Some("config/demo.toml".into()), env: Default::default() };
    config::load(&sources).expect("config/demo.toml is valid")
}

async fn migrated() -> (TestDatabase, PgPool) {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    (db, pool)
}

#[test]
fn check_config_accepts_the_demo_config_and_shows_no_credentials() {
    let mut command = crate::support::binary::hubsync();
    command.current_dir(env!("CARGO_MANIFEST_DIR"));
    let output =
        crate::support::binary::run(command.args(["check-config", "--config", "config/demo.toml"]));
    let stdout = crate::support::binary::text(&output.stdout);
    assert!(output.status.success(), "{stdout}{}", crate::support::binary::text(&output.stderr));
    assert!(stdout.contains("[redacted]") && !stdout.contains("sim-secret"), "{stdout}");
}

#[test]
fn the_demo_config_is_valid_and_maps_every_value_the_seed_writes() {
    let settings = demo_settings();
    let names: Vec<&str> = settings.sync.iter().map(|rule| rule.name.as_str()).collect();
    assert_eq!(names, ["contacts", "companies", "deals", "notes"]);
    let map_of = |block: &str, field: &str| -> Vec<(String, String)> {
        let rule = settings.sync.iter().find(|r| r.name == block).unwrap();
        let mapping = rule.fields.iter().find(|f| f.hubspot == field).unwrap();
        match &mapping.transform {
            Some(config::Transform::ValueMap { values, .. }) => {
                values.iter().map(|p| (p.hubspot.clone(), p.external.clone())).collect()
            }
            other => panic!("{block}.{field} has no value map: {other:?}"),
        }
    };
    let owned = |table: &[(&str, &str)]| -> Vec<(String, String)> {
        table.iter().map(|(h, s)| (h.to_string(), s.to_string())).collect()
    };
    assert_eq!(map_of("contacts", "lifecyclestage"), owned(seed::LIFECYCLE));
    assert_eq!(map_of("companies", "industry"), owned(seed::INDUSTRY));
    assert_eq!(map_of("deals", "dealstage"), owned(seed::STAGES));
}

#[tokio::test]
async fn the_seed_is_deterministic_and_creates_the_promised_counts_and_overlaps_on_both_sides() {
    assert_eq!(seed::plan(42), seed::plan(42), "the same seed gives the same data");
    let plan = seed::plan(42);
    let sims = sims::start().await.unwrap();
    let seeded = populate::apply(&plan, &sims).unwrap();

    let on_both = |hs: &str, sf: &str| sims.hubspot.count(hs) + sims.salesforce.count(sf, false);
    assert_eq!(on_both("contacts", "Contact"), seed::CONTACTS);
    assert_eq!(on_both("companies", "Account"), seed::COMPANIES);
    assert_eq!(on_both("deals", "Opportunity"), seed::DEALS);
    assert_eq!(sims.hubspot.count("notes") + sims.salesforce.count("Task", false), 270);

    let shared = seeded.shared_contacts();
    assert_eq!(shared.len(), seed::SHARED_CONTACTS);
    let mut titles_differ = 0;
    for (hs, sf) in &shared {
        let contact = sims.hubspot.record("contacts", *hs).unwrap().properties;
        let record = sims.salesforce.record(sf).unwrap();
        assert_eq!(record["Email"], json!(contact["email"]), "shared records share an email");
        titles_differ += usize::from(record["Title"] != json!(contact["jobtitle"]));
    }
    assert_eq!(titles_differ, seed::TITLE_CONFLICTS);
    let shared_companies = plan.companies.iter().filter(|c| c.place == Place::Both).count();
    assert_eq!(shared_companies, seed::SHARED_COMPANIES);
}

#[tokio::test]
async fn each_conflict_failure_and_pause_is_reported_once_with_both_values_and_the_apis_message() {
    let (_db, pool) = migrated().await;
    sqlx::query(
        "insert into hubsync.conflicts (sync_name, hubspot_id, external_id, hubspot_field,
             external_field, hubspot_value, external_value, policy, winner, status)
         values ('contacts', '101', '003A', 'jobtitle', 'Title', 'CEO', 'CTO', 'newest_wins',
                 'external', 'auto'),
                ('contacts', '102', '003B', 'phone', 'Phone', '+1 1', '+1 2', 'hold', null, 'open')",
    )
    .execute(&pool)
    .await
    .unwrap();
    sqlx::query(
        "insert into hubsync.outbox (sync_name, target_side, connector, object_type, operation,
             source_id, status, last_error)
         values ('contacts', 'external', 'salesforce', 'Contact', 'upsert', '103', 'failed',
                 'FIELD_CUSTOM_VALIDATION_EXCEPTION: blocked by a validation rule')",
    )
    .execute(&pool)
    .await
    .unwrap();

    let mut watcher = report::Watcher::default();
    let conflicts = watcher.new_conflicts(&pool).await.unwrap();
    assert_eq!(conflicts.len(), 2, "{conflicts:?}");
    assert!(conflicts[0].contains("\"CEO\"") && conflicts[0].contains("\"CTO\""));
    assert!(conflicts[0].contains("Salesforce's value wins"), "{}", conflicts[0]);
    assert!(conflicts[1].contains("held for an operator"), "{}", conflicts[1]);
    let failures = watcher.new_failures(&pool).await.unwrap();
    assert_eq!(failures.len(), 1);
    assert!(failures[0].contains("103") && failures[0].contains("blocked by a validation rule"));
    assert!(watcher.new_conflicts(&pool).await.unwrap().is_empty(), "printed once");
    assert!(watcher.new_failures(&pool).await.unwrap().is_empty(), "printed once");

    sqlx::query(
        "insert into hubsync.paused (sync_name, reason, detail, paused_by)
         values ('deals', 'blast_radius', '{\"records\": 260}', 'hubsync')",
    )
    .execute(&pool)
    .await
    .unwrap();
    let paused = watcher.paused_blocks(&pool).await.unwrap();
    assert_eq!(paused.len(), 1);
    assert!(paused[0].contains("[deals]") && paused[0].contains("blast_radius"), "{paused:?}");
    assert!(watcher.paused_blocks(&pool).await.unwrap().is_empty(), "printed once");
    sqlx::query("delete from hubsync.paused").execute(&pool).await.unwrap();
    assert!(watcher.paused_blocks(&pool).await.unwrap()[0].contains("resumed: [deals]"));

    let progress = report::progress(&pool).await.unwrap();
    assert_eq!((progress.conflicts, progress.held, progress.failures), (2, 1, 1));
}

/// A contact on each simulator with the demo's fields; `title` differs per side if asked.
fn contact_pair(sims: &sims::Sims, owners: (&str, &str), n: u32, sf_title: &str) -> (u64, String) {
    let email = format!("pair{n}@x.example.com");
    let hs = json!({"email": email, "firstname": "Ann", "lastname": "Lee", "jobtitle": "CEO",
                    "lifecyclestage": "lead", "hubspot_owner_id": owners.0});
    let sf = json!({"Email": email, "FirstName": "Ann", "LastName": "Lee", "Title": sf_title,
                    "Lifecycle_Stage__c": "Lead", "OwnerId": owners.1});
    (sims.hubspot.seed("contacts", hs).unwrap(), sims.salesforce.seed("Contact", sf).unwrap())
}

async fn link(pool: &PgPool, hs: u64, sf: &str) -> i64 {
    sqlx::query_scalar(
        "insert into hubsync.links (sync_name, hubspot_id, external_id)
         values ('contacts', $1, $2) returning id",
    )
    .bind(hs.to_string())
    .bind(sf)
    .fetch_one(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn verification_passes_only_when_every_difference_and_unlinked_record_was_reported() {
    let (_db, pool) = migrated().await;
    let sims = sims::start().await.unwrap();
    let hs_owner = sims.hubspot.add_owner(json!({"email": "owner@x.example.com"}));
    let user = json!({"Username": "owner@x.example.com", "Email": "owner@x.example.com",
                      "LastName": "Owner"});
    let sf_owner = sims.salesforce.seed("User", user).unwrap();
    let owners = (hs_owner.as_str(), sf_owner.as_str());
    let agreed = contact_pair(&sims, owners, 1, "CEO");
    let held = contact_pair(&sims, owners, 2, "CTO");
    let drifted = contact_pair(&sims, owners, 3, "Buyer");
    link(&pool, agreed.0, &agreed.1).await;
    let held_link = link(&pool, held.0, &held.1).await;
    link(&pool, drifted.0, &drifted.1).await;
    sqlx::query(
        "insert into hubsync.conflicts (sync_name, link_id, hubspot_id, external_id,
             hubspot_field, external_field, policy, status)
         values ('contacts', $1, $2, $3, 'jobtitle', 'Title', 'hold', 'open')",
    )
    .bind(held_link)
    .bind(held.0.to_string())
    .bind(&held.1)
    .execute(&pool)
    .await
    .unwrap();
    let mut settings = demo_settings();
    sims::point(&mut settings, &sims, "http://127.0.0.1:9/webhooks/hubspot", "s3cret");

    let first = verify::run(&settings, &pool).await.unwrap();
    let contacts = &first.blocks[0];
    assert_eq!(contacts.block, "contacts");
    assert_eq!((contacts.agreed, contacts.explained, contacts.unexplained), (1, 1, 1));
    assert!(contacts.samples[0].contains("jobtitle=\"CEO\" vs Title=\"Buyer\""));
    assert!(!first.passed());

    sims.salesforce.edit_as_user(&drifted.1, json!({"Title": "CEO"})).unwrap();
    let lone = sims.hubspot.seed("contacts", json!({"email": "lone@x.example.com"})).unwrap();
    let second = verify::run(&settings, &pool).await.unwrap();
    assert_eq!(second.blocks[0].unaccounted, 1, "an unlinked record nobody reported");
    sqlx::query(
        "insert into hubsync.outbox (sync_name, target_side, connector, object_type, operation,
             source_id, status, last_error)
         values ('contacts', 'external', 'salesforce', 'Contact', 'upsert', $1, 'failed', 'no')",
    )
    .bind(lone.to_string())
    .execute(&pool)
    .await
    .unwrap();
    let third = verify::run(&settings, &pool).await.unwrap();
    assert_eq!((third.blocks[0].agreed, third.blocks[0].accounted), (2, 1));
    assert!(third.passed(), "{third}");
    assert!(third.to_string().contains("verification passed"));
}

/// `hubsync demo` as a user runs it, its stdout collected line by line.
struct RunningDemo {
    child: Child,
    lines: mpsc::Receiver<String>,
    seen: Vec<String>,
}

impl RunningDemo {
    fn spawn(server_url: &str, database: &str, duration: &str) -> RunningDemo {
        let mut child = Command::new(env!("CARGO_BIN_EXE_hubsync"))
            .current_dir(env!("CARGO_MANIFEST_DIR"))
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", server_url)
            .args(["demo", "--duration", duration, "--listen", "127.0.0.1:0"])
            .args(["--database", database])
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("hubsync starts");
        let (sender, lines) = mpsc::channel();
        let stdout = child.stdout.take().expect("piped stdout");
        let stderr = child.stderr.take().expect("piped stderr");
        let err_sender = sender.clone();
        std::thread::spawn(move || forward(BufReader::new(stdout), "", sender));
        std::thread::spawn(move || forward(BufReader::new(stderr), "stderr: ", err_sender));
        RunningDemo { child, lines, seen: Vec::new() }
    }

    /// Collects output until a line contains `needle`, at most `within`.
    fn wait_for_line(&mut self, needle: &str, within: Duration) {
        let deadline = Instant::now() + within;
        while !self.seen.iter().any(|line| line.contains(needle)) {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.lines.recv_timeout(left) {
                Ok(line) => self.seen.push(line),
                Err(_) => panic!("no line with {needle:?} within {within:?}:\n{}", self.output()),
            }
        }
    }

    /// Waits for the process to exit and collects the rest of its output.
    fn wait_for_exit(&mut self, within: Duration) -> std::process::ExitStatus {
        let deadline = Instant::now() + within;
        loop {
            if let Some(status) = self.child.try_wait().expect("wait works") {
                std::thread::sleep(Duration::from_millis(200));
                self.seen.extend(self.lines.try_iter());
                return status;
            }
            if Instant::now() >= deadline {
                let _ = self.child.kill();
                panic!("the demo did not exit within {within:?}:\n{}", self.output());
            }
            self.seen.extend(self.lines.try_iter());
            std::thread::sleep(Duration::from_millis(100));
        }
    }

    fn output(&self) -> String {
        self.seen.join("\n")
    }

    /// The verdict lines first (a long output is cut in the middle when shown), then all.
    fn report(&self) -> String {
        let verdict = ["queues ", "  [", "    - ", "verification ", "stderr: "];
        let key: Vec<&str> = self
            .seen
            .iter()
            .map(String::as_str)
            .filter(|line| verdict.iter().any(|start| line.starts_with(start)))
            .collect();
        format!("{}\n---- the whole output ----\n{}", key.join("\n"), self.output())
    }
}

fn forward(reader: impl BufRead, prefix: &'static str, sender: mpsc::Sender<String>) {
    for line in reader.lines().map_while(Result::ok) {
        if sender.send(format!("{prefix}{line}")).is_err() {
            break;
        }
    }
}

fn demo_database() -> String {
    format!("hubsync_demo_test_{}", uuid::Uuid::new_v4().simple())
}

#[tokio::test(flavor = "multi_thread")]
async fn the_demo_runs_end_to_end_on_a_fresh_database_and_both_sides_agree() {
    let server = TestDatabase::create().await;
    let name = demo_database();
    let mut demo = RunningDemo::spawn(&server.url, &name, "20s");
    let status = tokio::task::block_in_place(|| demo.wait_for_exit(Duration::from_secs(300)));
    database::drop_database(&server.url, &name).await.unwrap();
    let (output, report) = (demo.output(), demo.report());
    assert!(output.contains("dropped and recreated"), "{report}");
    assert!(output.contains("progress: writes done:"), "{report}");
    assert!(output.contains("verification passed"), "{report}");
    assert_eq!(status.code(), Some(0), "{report}");
}

#[tokio::test(flavor = "multi_thread")]
async fn ctrl_c_stops_the_demo_cleanly_and_it_still_reports_its_verification() {
    let server = TestDatabase::create().await;
    let name = demo_database();
    let mut demo = RunningDemo::spawn(&server.url, &name, "10m");
    let status = tokio::task::block_in_place(|| {
        // generous bounds: under a loaded CI machine seeding, the first sync and the
        // verification each take several times longer than on a quiet one
        demo.wait_for_line("syncing for", Duration::from_secs(180));
        let pid = demo.child.id().to_string();
        let sent = Command::new("kill").args(["-INT", &pid]).status().expect("kill runs");
        assert!(sent.success());
        demo.wait_for_exit(Duration::from_secs(300))
    });
    database::drop_database(&server.url, &name).await.unwrap();
    let output = demo.output();
    assert!(output.contains("stopping (Ctrl-C)"), "{output}");
    assert!(output.contains("verification "), "{output}");
    assert!(
        matches!(status.code(), Some(0 | 1)),
        "exits on its own, not by the signal: {status:?}\n{output}"
    );
}
