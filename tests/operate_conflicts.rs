//! `hubsync conflicts ls|resolve` and `/api/conflicts`: resolving a held conflict writes the
//! chosen value through the outbox, audited, and wakes the writer.

use serde_json::{Value, json};
use sqlx::postgres::PgListener;

use crate::support::binary::text;
use crate::support::operate::{self, OPERATE, READ, Row, last_audit, seeded};

type Item = (
    String,
    String,
    String,
    String,
    String,
    String,
    Option<String>,
    Option<String>,
    Value,
    Value,
    Option<i64>,
    i16,
);

async fn outbox_items(pool: &sqlx::PgPool) -> Vec<Item> {
    sqlx::query_as(
        "select sync_name, target_side, connector, object_type, operation, intent, target_id,
                source_id, properties, state, journal_id, priority
           from hubsync.outbox order by id",
    )
    .fetch_all(pool)
    .await
    .unwrap()
}

#[tokio::test]
async fn resolving_a_conflict_from_the_cli_queues_the_hubspot_value_for_the_external_record() {
    let seeded = seeded().await;
    let pool = &seeded.pool;
    let journal_id = operate::journal(pool, Row { status: "conflict", ..Default::default() }).await;
    let link = operate::link(pool, "101", "003A").await;
    let id = operate::open_conflict(pool, Some(link), Some(journal_id)).await;

    let listed = text(&seeded.cli(&["conflicts", "ls"]).stdout);
    assert!(listed.contains("hs@acme.com") && listed.contains("sf@acme.com"), "{listed}");
    let resolve =
        seeded.cli(&["conflicts", "resolve", &id.to_string(), "--take", "hubspot", "--yes"]);
    assert!(resolve.status.success(), "{}", text(&resolve.stderr));
    assert!(text(&resolve.stdout).contains(&format!("resolved conflict {id}")));

    let items = outbox_items(pool).await;
    assert_eq!(items.len(), 1);
    let item = &items[0];
    assert_eq!(
        (&item.0[..], &item.1[..], &item.2[..], &item.3[..], &item.4[..], &item.5[..]),
        ("contacts", "external", "salesforce", "Contact", "update", "update")
    );
    assert_eq!((item.6.as_deref(), item.7.as_deref()), (Some("003A"), Some("101")));
    assert_eq!(item.8, json!({ "Email": "hs@acme.com" }));
    assert_eq!(
        item.9,
        json!([
            { "side": "external", "field": "Email", "value": "hs@acme.com",
              "value_at": "2026-11-01T10:00:00Z", "ours": true },
            { "side": "hubspot", "field": "email", "value": "hs@acme.com",
              "value_at": "2026-11-01T10:00:00Z", "ours": false },
        ])
    );
    assert_eq!((item.10, item.11), (Some(journal_id), 0));
    let (status, winner, by): (String, Option<String>, Option<String>) =
        sqlx::query_as("select status, winner, resolved_by from hubsync.conflicts where id = $1")
            .bind(id)
            .fetch_one(pool)
            .await
            .unwrap();
    assert_eq!((status.as_str(), winner.as_deref()), ("resolved", Some("hubspot")));
    assert!(by.unwrap().starts_with("cli:"));
    let (_, action, target, _) = last_audit(pool).await;
    assert_eq!((action.as_str(), target["conflict_id"].as_i64()), ("conflict.resolve", Some(id)));

    let again =
        seeded.cli(&["conflicts", "resolve", &id.to_string(), "--take", "external", "--yes"]);
    assert_eq!(again.status.code(), Some(1));
    assert!(text(&again.stderr).contains("is resolved, not open"), "{}", text(&again.stderr));
    let all: Value = serde_json::from_slice(
        &seeded.cli(&["conflicts", "ls", "--status", "all", "--json"]).stdout,
    )
    .unwrap();
    assert_eq!(all[0]["resolution"], "take:hubspot");
}

#[tokio::test]
async fn a_typed_value_is_written_to_both_sides_and_an_unlinked_conflict_is_refused() {
    let seeded = seeded().await;
    let pool = &seeded.pool;
    let link = operate::link(pool, "101", "003A").await;
    let id = operate::open_conflict(pool, Some(link), None).await;
    let typed = seeded.cli(&[
        "conflicts",
        "resolve",
        &id.to_string(),
        "--take",
        "value=ops@acme.com",
        "--yes",
    ]);
    assert!(typed.status.success(), "{}", text(&typed.stderr));
    let items = outbox_items(pool).await;
    let written: Vec<(&str, &Value)> = items.iter().map(|i| (i.1.as_str(), &i.8)).collect();
    assert_eq!(
        written,
        [
            ("external", &json!({ "Email": "ops@acme.com" })),
            ("hubspot", &json!({ "email": "ops@acme.com" }))
        ]
    );
    assert_eq!(items[1].6.as_deref(), Some("101"), "the HubSpot write targets the HubSpot id");

    let unlinked = operate::open_conflict(pool, None, None).await;
    let refused =
        seeded.cli(&["conflicts", "resolve", &unlinked.to_string(), "--take", "hubspot", "--yes"]);
    assert_eq!(refused.status.code(), Some(1));
    assert!(
        text(&refused.stderr).contains("has no linked record pair"),
        "{}",
        text(&refused.stderr)
    );
    let bad = seeded.cli(&["conflicts", "resolve", "1", "--take", "both", "--yes"]);
    assert!(
        text(&bad.stderr).contains("use hubspot, external or value=TEXT"),
        "{}",
        text(&bad.stderr)
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn the_api_pages_conflicts_and_resolving_one_needs_operate_and_wakes_the_writer() {
    let app = operate::app().await;
    let link = operate::link(&app.pool, "101", "003A").await;
    let first = operate::open_conflict(&app.pool, Some(link), None).await;
    let second = operate::open_conflict(&app.pool, Some(link), None).await;
    let page = |query: &str| {
        app.http.get(app.url(&format!("/api/conflicts{query}"))).bearer_auth(READ).send()
    };
    let one: Value = page("?limit=1").await.unwrap().json().await.unwrap();
    assert_eq!(
        (one["rows"][0]["id"].as_i64(), one["next_before"].as_i64()),
        (Some(second), Some(second))
    );
    let two: Value =
        page(&format!("?limit=1&before={second}")).await.unwrap().json().await.unwrap();
    assert_eq!(two["rows"][0]["id"].as_i64(), Some(first));

    let url = app.url(&format!("/api/conflicts/{first}/resolve"));
    let body = json!({ "take": "external" });
    let forbidden = app.http.post(&url).bearer_auth(READ).json(&body).send().await.unwrap();
    assert_eq!(forbidden.status().as_u16(), 403);
    let mut listener = PgListener::connect_with(&app.pool).await.unwrap();
    listener.listen("hubsync_outbox").await.unwrap();
    let done = app.http.post(&url).bearer_auth(OPERATE).json(&body).send().await.unwrap();
    assert_eq!(done.status().as_u16(), 200);
    let done: Value = done.json().await.unwrap();
    assert_eq!(done["conflict"]["winner"], "external");
    let woke = tokio::time::timeout(std::time::Duration::from_secs(5), listener.recv()).await;
    assert!(woke.is_ok(), "the writer was not notified");
    let items = outbox_items(&app.pool).await;
    assert_eq!((items[0].1.as_str(), &items[0].8), ("hubspot", &json!({ "email": "sf@acme.com" })));
    let (actor, action, ..) = last_audit(&app.pool).await;
    assert_eq!((actor.as_str(), action.as_str()), ("token:oncall", "conflict.resolve"));
    let again = app.http.post(&url).bearer_auth(OPERATE).json(&body).send().await.unwrap();
    assert_eq!(again.status().as_u16(), 409);
    app.stop().await.unwrap();
}
