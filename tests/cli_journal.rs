//! `hubsync journal …` against a seeded journal, as an operator runs it.

use std::collections::BTreeMap;

use chrono::{TimeZone, Utc};
use hubsync::config::Side;
use hubsync::error_kind::ErrorKind;
use hubsync::journal::{self, Arrival, ChangeKind, NewChange, PropertyChange};
use hubsync::store;
use sqlx::PgPool;

use crate::support::binary::{hubsync, run, text};
use crate::support::database::TestDatabase;

/// Three contacts: one applied, one failed permanently with the API's message, one pending.
async fn seeded() -> (TestDatabase, PgPool) {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let changes: Vec<_> = (1..=3).map(contact).collect();
    store::journal::append(&pool, &changes).await.unwrap();
    let rows =
        store::journal::claim(&pool, "w1", 2, std::time::Duration::from_secs(60)).await.unwrap();
    store::journal::complete(&pool, "w1", rows[0].id, journal::Completion::Applied, "applied")
        .await
        .unwrap();
    let message = "INVALID_EMAIL: Email address not-an-email is invalid";
    store::journal::fail(&pool, "w1", &rows[1], ErrorKind::Permanent, message, 10).await.unwrap();
    (db, pool)
}

fn contact(n: u32) -> NewChange {
    let at = Utc.with_ymd_and_hms(2026, 11, 1, 12, 0, n).unwrap();
    let value = PropertyChange { value: Some(format!("user{n}@acme.com")), timestamp: Some(at) };
    NewChange {
        side: Side::Hubspot,
        connector: "hubspot".into(),
        object_type: "contacts".into(),
        record_id: format!("10{n}"),
        kind: ChangeKind::Upsert,
        properties: BTreeMap::from([("email".to_string(), value)]),
        occurred_at: at,
        source: Arrival::Webhook,
        dedup_key: format!("evt-{n}"),
    }
}

fn journal_cmd(db: &TestDatabase, args: &[&str]) -> std::process::Output {
    run(hubsync().arg("journal").args(args).env("DATABASE_URL", &db.url))
}

#[tokio::test]
async fn journal_ls_lists_rows_newest_first_and_filters_them() {
    let (db, _pool) = seeded().await;
    let all = journal_cmd(&db, &["ls"]);
    assert!(all.status.success(), "{}", text(&all.stderr));
    let stdout = text(&all.stdout);
    let records: Vec<&str> = stdout
        .lines()
        .skip(1)
        .filter(|l| !l.starts_with('('))
        .filter_map(|l| l.split_whitespace().nth(5))
        .collect();
    assert_eq!(records, ["103", "102", "101"], "{stdout}");

    let failed =
        journal_cmd(&db, &["ls", "--status", "failed", "--error-kind", "permanent", "--json"]);
    let rows: serde_json::Value = serde_json::from_slice(&failed.stdout).unwrap();
    assert_eq!(rows.as_array().unwrap().len(), 1);
    assert_eq!(rows[0]["record_id"], "102");
    assert_eq!(rows[0]["last_error"], "INVALID_EMAIL: Email address not-an-email is invalid");

    let none = journal_cmd(&db, &["ls", "--object", "companies", "--since", "1h"]);
    assert!(text(&none.stdout).contains("(no rows)"));
}

#[tokio::test]
async fn journal_ls_since_and_until_select_rows_by_when_they_were_received() {
    let (db, pool) = seeded().await;
    sqlx::query("update hubsync.journal set received_at = now() - interval '3 hours' where record_id = '101'")
        .execute(&pool)
        .await
        .unwrap();
    let records = |args: &[&str]| {
        let output = journal_cmd(&db, &[&["ls", "--json"], args].concat());
        assert!(output.status.success(), "{}", text(&output.stderr));
        let rows: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
        let ids: Vec<String> = rows
            .as_array()
            .unwrap()
            .iter()
            .map(|r| r["record_id"].as_str().unwrap().to_string())
            .collect();
        ids
    };
    assert_eq!(records(&["--until", "2h"]), ["101"]);
    assert_eq!(records(&["--since", "2h"]), ["103", "102"]);
    assert_eq!(records(&["--since", "4h", "--until", "2h"]), ["101"]);
    let yesterday = (Utc::now() - chrono::Duration::days(1)).date_naive().to_string();
    assert_eq!(records(&["--since", &yesterday]), ["103", "102", "101"]);
    let output = journal_cmd(&db, &["ls", "--until", "soon"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("`soon`"), "{}", text(&output.stderr));
}

#[tokio::test]
async fn journal_show_tells_the_story_of_a_row_with_every_attempt() {
    let (db, pool) = seeded().await;
    let id: i64 = sqlx::query_scalar("select id from hubsync.journal where record_id = '102'")
        .fetch_one(&pool)
        .await
        .unwrap();
    let output = journal_cmd(&db, &["show", &id.to_string()]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let stdout = text(&output.stdout);
    for expected in [
        "hubspot hubspot contacts `102` (upsert)",
        "status:    failed after 1 attempt(s) (needs_operator)",
        "error:     [permanent] INVALID_EMAIL: Email address not-an-email is invalid",
        "email = user2@acme.com",
        "needs_operator  permanent",
    ] {
        assert!(stdout.contains(expected), "missing {expected:?} in:\n{stdout}");
    }
    let missing = journal_cmd(&db, &["show", "999999"]);
    assert_eq!(missing.status.code(), Some(1));
    assert!(text(&missing.stderr).contains("journal row 999999 not found"));
}

#[tokio::test]
async fn journal_retry_by_filter_requeues_failed_rows_and_audits_it() {
    let (db, pool) = seeded().await;
    let output = journal_cmd(&db, &["retry", "--status", "failed", "--yes", "--json"]);
    assert!(output.status.success(), "{}", text(&output.stderr));
    let answer: serde_json::Value = serde_json::from_slice(&output.stdout).unwrap();
    assert_eq!(answer["ids"].as_array().unwrap().len(), 1);
    let status: String =
        sqlx::query_scalar("select status from hubsync.journal where record_id = '102'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(status, "pending");
    let audit = hubsync::store::audit::recent(&pool, 10).await.unwrap();
    assert_eq!(audit.len(), 1);
    assert_eq!(audit[0].action, "journal.retry");
    assert!(audit[0].actor.starts_with("cli:"));
    assert_eq!(audit[0].target["journal_ids"], answer["ids"]);
}

#[tokio::test]
async fn a_mutation_without_yes_on_a_pipe_refuses_and_changes_nothing() {
    let (db, pool) = seeded().await;
    let output = journal_cmd(&db, &["skip", "--status", "pending"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(
        text(&output.stderr).contains("refusing to change 1 row(s) without --yes"),
        "{}",
        text(&output.stderr)
    );
    let pending: i64 =
        sqlx::query_scalar("select count(*) from hubsync.journal where status = 'pending'")
            .fetch_one(&pool)
            .await
            .unwrap();
    assert_eq!(pending, 1);
    assert!(hubsync::store::audit::recent(&pool, 10).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_mutation_needs_ids_or_a_filter_and_bad_flags_are_named() {
    let (db, _pool) = seeded().await;
    let output = journal_cmd(&db, &["retry", "--yes"]);
    assert_eq!(output.status.code(), Some(1));
    assert!(text(&output.stderr).contains("give row ids or at least one filter flag"));
    let output = journal_cmd(&db, &["ls", "--status", "broken"]);
    assert_eq!(output.status.code(), Some(2));
    assert!(text(&output.stderr).contains("unknown status `broken`"), "{}", text(&output.stderr));
}

/// Two quarantined deliveries: one today's parser reads (a change an older hubsync could
/// not), one it still cannot.
async fn quarantined() -> (TestDatabase, PgPool, i64, i64) {
    let db = TestDatabase::create().await;
    let pool = PgPool::connect(&db.url).await.unwrap();
    hubsync::db::migrate(&pool).await.unwrap();
    let good = serde_json::json!([{"eventId": 77, "subscriptionId": 5, "portalId": 62515,
        "occurredAt": 1_793_000_000_000_i64, "subscriptionType": "contact.creation",
        "attemptNumber": 0, "objectId": 901}])
    .to_string();
    hubsync::store::quarantine::keep(&pool, "hubspot", "unknown field `x`", good.as_bytes())
        .await
        .unwrap();
    let poison = "[{\"eventId\": \"not a number\"}]";
    hubsync::store::quarantine::keep(&pool, "hubspot", "invalid type", poison.as_bytes())
        .await
        .unwrap();
    let ids: Vec<i64> = sqlx::query_scalar("select id from hubsync.webhook_quarantine order by id")
        .fetch_all(&pool)
        .await
        .unwrap();
    (db, pool, ids[0], ids[1])
}

#[tokio::test]
async fn quarantined_webhooks_are_listed_shown_and_replayed_into_the_journal_once_they_parse() {
    let (db, pool, good, poison) = quarantined().await;
    let ls = journal_cmd(&db, &["quarantine", "ls"]);
    assert!(ls.status.success(), "{}", text(&ls.stderr));
    let listing = text(&ls.stdout);
    assert!(listing.contains("invalid type") && listing.contains("unknown field `x`"), "{listing}");
    assert!(listing.contains("(2 quarantined)"), "{listing}");
    let show = text(&journal_cmd(&db, &["quarantine", "show", &poison.to_string()]).stdout);
    assert!(show.contains("reason: invalid type"), "{show}");
    assert!(show.contains("[{\"eventId\": \"not a number\"}]"), "the body as received: {show}");

    let both = [good.to_string(), poison.to_string()];
    let replay = journal_cmd(&db, &["quarantine", "replay", &both[0], &both[1]]);
    assert_eq!(replay.status.code(), Some(1), "a delivery that still fails is an error");
    assert!(
        text(&replay.stdout).contains(&format!("replayed {good}: 1 event(s), 1 newly journalled"))
    );
    let stderr = text(&replay.stderr);
    assert!(stderr.contains(&format!("{poison}: still does not parse")), "{stderr}");
    let rows = store::journal::query(&pool, &Default::default(), 10).await.unwrap();
    assert_eq!(rows.len(), 1);
    assert_eq!((rows[0].record_id.as_str(), rows[0].source.as_str()), ("901", "webhook"));
    let left: Vec<i64> = sqlx::query_scalar("select id from hubsync.webhook_quarantine")
        .fetch_all(&pool)
        .await
        .unwrap();
    assert_eq!(left, [poison], "the replayed delivery left the quarantine, the poison stayed");
    let audited: Vec<String> =
        sqlx::query_scalar("select action from hubsync.audit").fetch_all(&pool).await.unwrap();
    assert_eq!(audited, ["quarantine_replay"]);
}

#[tokio::test]
async fn a_quarantined_webhook_is_dropped_only_when_confirmed() {
    let (db, pool, _good, poison) = quarantined().await;
    let id = poison.to_string();
    let refused = journal_cmd(&db, &["quarantine", "drop", &id]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(text(&refused.stderr).contains("refusing to act without --yes"));
    let dropped = journal_cmd(&db, &["quarantine", "drop", &id, "--yes"]);
    assert!(dropped.status.success(), "{}", text(&dropped.stderr));
    assert!(text(&dropped.stdout).contains(&format!("dropped 1 deliver(ies): [{poison}]")));
    let left: i64 = sqlx::query_scalar("select count(*) from hubsync.webhook_quarantine")
        .fetch_one(&pool)
        .await
        .unwrap();
    assert_eq!(left, 1);
    let missing = journal_cmd(&db, &["quarantine", "show", "999999"]);
    assert!(text(&missing.stderr).contains("quarantined delivery 999999 not found"));
}
