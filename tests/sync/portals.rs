//! A portal-to-portal migration: the external side is a second HubSpot portal. Creates and
//! updates flow both ways once each, links are recorded, and echoes stop.

use std::collections::BTreeMap;
use std::time::Duration;

use hubspot_sim::{AppToken, HubspotSim, RateProfile, SimConfig};
use serde_json::json;
use testkit::settings::fast;
use testkit::sims::{HubspotToml, RateLimit};

use crate::support::app::{TestApp, start, test_settings_with_file};
use crate::support::database::TestDatabase;

const SETTLE: Duration = Duration::from_secs(30);
const USER: u64 = 7;

/// Portal A (the `hubspot` connector) and portal B (`portal_b`), each holding the other's
/// id in a unique property.
const RULES: &str = r#"
[[sync]]
name = "contacts"
hubspot_object = "contacts"
external_connector = "portal_b"
external_object = "contacts"
match_on = ["email"]
conflict = "newest_wins"
delete = "flag"
keys = { hubspot_unique_property = "portal_b_id", external_id_field = "portal_a_id" }
fields = [
  { hubspot = "email", external = "email" },
  { hubspot = "firstname", external = "firstname" },
  { hubspot = "lastname", external = "lastname" },
  { hubspot = "phone", external = "phone" },
]
"#;

/// Both portals and the daemon between them.
struct Portals {
    a: HubspotSim,
    b: HubspotSim,
    app: TestApp,
    _secrets: tempfile::TempDir,
}

async fn portal(portal_id: u64, token: &str, app_id: u64, key: &str) -> HubspotSim {
    let tokens = vec![AppToken { token: token.into(), app_id }];
    let config =
        SimConfig { portal_id, tokens, rate: RateProfile::UNLIMITED, ..Default::default() };
    let sim = HubspotSim::start(config).await.expect("hubspot simulator starts");
    let definition = json!({"name": key, "label": key, "type": "string", "fieldType": "text",
                            "groupName": "sync", "hasUniqueValue": true});
    sim.create_property("contacts", definition).expect("unique property created");
    sim
}

/// The HubSpot connector `name` at `sim`, as the sync tests configure one.
fn connector(name: &str, sim: &HubspotSim, app_id: u64, secrets: &tempfile::TempDir) -> String {
    HubspotToml::new(sim)
        .named(name)
        .app_id(app_id)
        .search_safety_lag("0s")
        .token_in(secrets.path())
        .rate_limit(RateLimit::generous())
        .render()
}

impl Portals {
    async fn start() -> Portals {
        crate::support::init_test_log();
        let a = portal(1001, "portal-a-token", 54321, "portal_b_id").await;
        let b = portal(2002, "portal-b-token", 65432, "portal_a_id").await;
        let secrets = tempfile::tempdir().unwrap();
        let file = connector("hubspot", &a, 54321, &secrets)
            + &connector("portal_b", &b, 65432, &secrets)
            + RULES;
        let db = TestDatabase::create().await;
        let settings = test_settings_with_file(&db.url, Some(&file), &fast(&[]));
        let app = start(settings, Some(db)).await;
        app.wait_until_ready().await;
        Portals { a, b, app, _secrets: secrets }
    }

    async fn links(&self) -> Vec<(String, String)> {
        super::compare::links(&self.app.pool, "contacts").await
    }

    /// Done outbox items, by operation and target side.
    async fn writes(&self) -> BTreeMap<String, i64> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "select operation || ' ' || target_side, count(*) from hubsync.outbox
             where status = 'done' group by 1",
        )
        .fetch_all(&self.app.pool)
        .await
        .unwrap();
        rows.into_iter().collect()
    }

    async fn busy(&self) -> i64 {
        sqlx::query_scalar(
            "select (select count(*) from hubsync.journal where status in ('pending', 'processing'))
                  + (select count(*) from hubsync.outbox where status in ('pending', 'processing'))",
        )
        .fetch_one(&self.app.pool)
        .await
        .unwrap()
    }

    /// Waits until nothing is in flight for a second, polling; panics after `SETTLE`.
    async fn quiesce(&self) {
        let mut quiet = 0;
        let deadline = tokio::time::Instant::now() + SETTLE;
        while quiet < 4 {
            quiet = if self.busy().await == 0 { quiet + 1 } else { 0 };
            assert!(tokio::time::Instant::now() < deadline, "still busy after {SETTLE:?}");
            tokio::time::sleep(Duration::from_millis(250)).await;
        }
    }

    async fn wait_for<F, Fut>(&self, what: &str, check: F)
    where
        F: Fn() -> Fut,
        Fut: std::future::Future<Output = bool>,
    {
        let deadline = tokio::time::Instant::now() + SETTLE;
        while !check().await {
            assert!(
                tokio::time::Instant::now() < deadline,
                "{what} did not happen within {SETTLE:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }
}

fn property(sim: &HubspotSim, id: &str, name: &str) -> Option<String> {
    let id: u64 = id.parse().expect("a HubSpot id");
    sim.record("contacts", id).expect("the contact exists").properties.get(name).cloned()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_portal_to_portal_sync_carries_creates_and_updates_both_ways_once_and_goes_quiet() {
    let portals = Portals::start().await;
    let ann = portals
        .a
        .create_as_user(
            "contacts",
            json!({"email": "ann@acme.com", "firstname": "Ann", "lastname": "Lee"}),
            USER,
        )
        .unwrap()
        .to_string();
    let bob = portals
        .b
        .create_as_user(
            "contacts",
            json!({"email": "bob@acme.com", "firstname": "Bob", "lastname": "Ray"}),
            USER,
        )
        .unwrap()
        .to_string();
    portals.wait_for("both links", || async { portals.links().await.len() == 2 }).await;
    portals.quiesce().await;

    let links = portals.links().await;
    let ann_b = links.iter().find(|(a, _)| *a == ann).expect("ann is linked").1.clone();
    let bob_a = links.iter().find(|(_, b)| *b == bob).expect("bob is linked").0.clone();
    assert_eq!(property(&portals.b, &ann_b, "email").as_deref(), Some("ann@acme.com"));
    assert_eq!(property(&portals.b, &ann_b, "lastname").as_deref(), Some("Lee"));
    assert_eq!(
        property(&portals.b, &ann_b, "portal_a_id"),
        Some(ann.clone()),
        "created by upsert on A's id"
    );
    assert_eq!(property(&portals.a, &bob_a, "firstname").as_deref(), Some("Bob"));
    assert_eq!(
        property(&portals.a, &bob_a, "portal_b_id"),
        Some(bob.clone()),
        "created by upsert on B's id"
    );
    assert_eq!((portals.a.count("contacts"), portals.b.count("contacts")), (2, 2), "one copy each");

    portals
        .a
        .edit_as_user("contacts", ann.parse().unwrap(), json!({"firstname": "Anne"}), USER)
        .unwrap();
    portals
        .b
        .edit_as_user("contacts", bob.parse().unwrap(), json!({"phone": "555-0100"}), USER)
        .unwrap();
    portals
        .wait_for("both edits to cross", || async {
            property(&portals.b, &ann_b, "firstname").as_deref() == Some("Anne")
                && property(&portals.a, &bob_a, "phone").as_deref() == Some("555-0100")
        })
        .await;
    portals.quiesce().await;
    let after_edits = portals.writes().await;

    // several poll rounds later, the echoes of those writes have written nothing
    tokio::time::sleep(Duration::from_secs(3)).await;
    portals.quiesce().await;
    assert_eq!(portals.writes().await, after_edits, "echoes stop");
    let expected: BTreeMap<String, i64> = [
        ("upsert external", 1),
        ("upsert hubspot", 1),
        ("update external", 1),
        ("update hubspot", 1),
    ]
    .into_iter()
    .map(|(k, v)| (k.to_string(), v))
    .collect();
    assert_eq!(after_edits, expected, "each create and each update was written once");
    assert_eq!(portals.links().await.len(), 2);
    assert_eq!((portals.a.count("contacts"), portals.b.count("contacts")), (2, 2), "no duplicates");
}
