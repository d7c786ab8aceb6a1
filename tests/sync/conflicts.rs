//! Same-field and different-field edits on both sides, under each conflict policy, with
//! the journal trail an operator reads.

use std::time::Duration;

use serde_json::json;

use super::{Rig, contacts};

const SETTLE: Duration = Duration::from_secs(30);
/// Ten of the test daemon's 200 ms poll cycles.
const TEN_CYCLES: Duration = Duration::from_secs(2);

/// What one conflict left behind: both sides' first names and the conflict row.
struct Outcome {
    hubspot: String,
    salesforce: String,
    hubspot_phone: String,
    salesforce_title: String,
    conflict: (String, String, Option<String>, String),
}

/// Links a contact, then, with the daemon down, edits `firstname` on HubSpot to `hubspot`
/// and then on Salesforce to `salesforce`, plus a different field on each side.
async fn both_edit(policy: &str, hubspot: &str, salesforce: &str) -> Outcome {
    both_edit_on(policy, hubspot, salesforce, false).await
}

/// [`both_edit`], with a second replica of the daemon on the same database while the
/// edits are picked up.
async fn both_edit_on(policy: &str, hubspot: &str, salesforce: &str, replica: bool) -> Outcome {
    let mut rig = Rig::start(&contacts(policy, "flag").replace(
        "{ hubspot = \"phone\", external = \"Phone\" },",
        "{ hubspot = \"phone\", external = \"Phone\" },\n  { hubspot = \"jobtitle\", external = \"Title\" },",
    ))
    .await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "c@acme.com", "firstname": "Ann", "lastname": "Lee"}))
        .await;

    let db = rig.stop().await;
    rig.hubspot
        .edit_as_user("contacts", id, json!({"firstname": hubspot, "phone": "111"}), 7)
        .unwrap();
    // Salesforce keeps whole seconds: make its edit unmistakably the later one
    tokio::time::sleep(Duration::from_millis(1100)).await;
    rig.salesforce.edit_as_user(&sf, json!({"FirstName": salesforce, "Title": "CTO"})).unwrap();
    rig.resume(db).await;
    let second = match replica {
        true => {
            let mut settings = rig.settings.clone();
            settings.instance.id = "replica-2".into();
            Some(crate::support::app::start(settings, None).await)
        }
        false => None,
    };
    rig.wait_for("the conflict", SETTLE, || async {
        let n: i64 = sqlx::query_scalar("select count(*) from hubsync.conflicts")
            .fetch_one(rig.pool())
            .await
            .unwrap();
        n > 0
    })
    .await;
    rig.quiesce(SETTLE).await;
    assert_settled_conflict_goes_quiet(&rig).await;
    if let Some(second) = second {
        let decided: i64 = sqlx::query_scalar(
            "select count(*) from hubsync.journal_attempts where worker like 'replica-2/%'",
        )
        .fetch_one(rig.pool())
        .await
        .unwrap();
        assert_eq!(decided, 0, "only one replica decides at a time");
        second.stop().await.expect("the second replica stops cleanly");
    }
    let contact = rig.hubspot_contact(&id.to_string());
    let record = rig.salesforce_record(&sf);
    let conflict = sqlx::query_as(
        "select hubspot_value, external_value, winner, status from hubsync.conflicts",
    )
    .fetch_one(rig.pool())
    .await
    .unwrap();
    Outcome {
        hubspot: contact["firstname"].clone(),
        salesforce: record["FirstName"].as_str().unwrap_or_default().to_string(),
        hubspot_phone: record["Phone"].as_str().unwrap_or_default().to_string(),
        salesforce_title: contact.get("jobtitle").cloned().unwrap_or_default(),
        conflict,
    }
}

/// Once decided, a conflict is counted for monitoring and no further cycle writes anything:
/// no flip-flop between the two sides.
async fn assert_settled_conflict_goes_quiet(rig: &Rig) {
    let writes = rig.write_count().await;
    tokio::time::sleep(TEN_CYCLES).await;
    assert_eq!(rig.write_count().await, writes, "ten quiet cycles write nothing more");
    let metrics = rig.app().get("/metrics").await.text().await.unwrap();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("hubsync_conflicts_total{") && l.contains("outcome=")),
        "the conflict is counted in /metrics:\n{metrics}"
    );
}

fn assert_different_fields_both_survive(outcome: &Outcome) {
    assert_eq!(outcome.hubspot_phone, "111", "HubSpot's phone edit reached Salesforce");
    assert_eq!(outcome.salesforce_title, "CTO", "Salesforce's title edit reached HubSpot");
}

#[tokio::test(flavor = "multi_thread")]
async fn newest_wins_takes_the_later_edit_on_both_sides_and_journals_the_conflict() {
    let outcome = both_edit("newest_wins", "Hank", "Sam").await;
    assert_eq!((outcome.hubspot.as_str(), outcome.salesforce.as_str()), ("Sam", "Sam"));
    assert_different_fields_both_survive(&outcome);
    let (hubspot, external, winner, status) = outcome.conflict;
    assert_eq!((hubspot.as_str(), external.as_str()), ("Hank", "Sam"));
    assert_eq!((winner.as_deref(), status.as_str()), (Some("external"), "auto"));
}

#[tokio::test(flavor = "multi_thread")]
async fn with_two_replicas_running_a_same_field_conflict_is_still_resolved_not_swapped() {
    let outcome = both_edit_on("newest_wins", "Hank", "Sam", true).await;
    assert_eq!((outcome.hubspot.as_str(), outcome.salesforce.as_str()), ("Sam", "Sam"));
    assert_different_fields_both_survive(&outcome);
    let (hubspot, external, winner, _) = outcome.conflict;
    assert_eq!(
        (hubspot.as_str(), external.as_str(), winner.as_deref()),
        ("Hank", "Sam", Some("external"))
    );
}

#[tokio::test(flavor = "multi_thread")]
async fn prefer_hubspot_keeps_hubspots_value_even_when_salesforce_edited_later() {
    let outcome = both_edit("prefer_hubspot", "Hank", "Sam").await;
    assert_eq!((outcome.hubspot.as_str(), outcome.salesforce.as_str()), ("Hank", "Hank"));
    assert_different_fields_both_survive(&outcome);
    assert_eq!(outcome.conflict.2.as_deref(), Some("hubspot"));
}

#[tokio::test(flavor = "multi_thread")]
async fn prefer_external_keeps_salesforces_value() {
    let outcome = both_edit("prefer_external", "Hank", "Sam").await;
    assert_eq!((outcome.hubspot.as_str(), outcome.salesforce.as_str()), ("Sam", "Sam"));
    assert_eq!(outcome.conflict.2.as_deref(), Some("external"));
}

#[tokio::test(flavor = "multi_thread")]
async fn prefer_hubspot_unless_blank_lets_salesforce_fill_a_blanked_field() {
    let outcome = both_edit("prefer_hubspot_unless_blank", "", "Sam").await;
    assert_eq!((outcome.hubspot.as_str(), outcome.salesforce.as_str()), ("Sam", "Sam"));
    assert_eq!(outcome.conflict.2.as_deref(), Some("external"));
}

#[tokio::test(flavor = "multi_thread")]
async fn prefer_external_unless_blank_keeps_hubspot_over_a_blank_salesforce_value() {
    let outcome = both_edit("prefer_external_unless_blank", "Hank", "").await;
    assert_eq!((outcome.hubspot.as_str(), outcome.salesforce.as_str()), ("Hank", "Hank"));
    assert_eq!(outcome.conflict.2.as_deref(), Some("hubspot"));
}

#[tokio::test(flavor = "multi_thread")]
async fn hold_keeps_both_values_and_waits_for_an_operator() {
    let outcome = both_edit("hold", "Hank", "Sam").await;
    let (hubspot, external, winner, status) = &outcome.conflict;
    assert_eq!((hubspot.as_str(), external.as_str()), ("Hank", "Sam"));
    assert_eq!((winner.as_deref(), status.as_str()), (None, "open"));
    assert_different_fields_both_survive(&outcome);
}

#[tokio::test(flavor = "multi_thread")]
async fn an_edit_on_one_side_wins_even_when_the_other_crms_clock_runs_ten_minutes_ahead() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "k@acme.com", "firstname": "Ann", "lastname": "Lee",
                               "phone": "100"}))
        .await;
    rig.salesforce.clock().advance(chrono::Duration::minutes(10));
    // Salesforce's records now carry times ten minutes ahead of HubSpot's
    rig.salesforce.edit_as_user(&sf, json!({"Title": "CTO"})).unwrap();
    rig.quiesce(SETTLE).await;
    rig.hubspot.edit_as_user("contacts", id, json!({"phone": "200"}), 7).unwrap();
    rig.wait_for("HubSpot's edit in Salesforce", SETTLE, || async {
        rig.salesforce_record(&sf)["Phone"] == "200"
    })
    .await;
    rig.quiesce(SETTLE).await;
    assert_eq!(rig.hubspot_contact(&id.to_string())["phone"], "200", "nothing flipped back");
    let conflicts: i64 = sqlx::query_scalar("select count(*) from hubsync.conflicts")
        .fetch_one(rig.pool())
        .await
        .unwrap();
    assert_eq!(conflicts, 0, "one side changed: no conflict, whatever the clocks say");
}
