//! The operator's loop end to end: a write the target refuses fails with the API's message,
//! the cause is fixed in the simulator, the row is retried from the CLI, it lands, and the
//! record's timeline tells the whole story.

use std::time::Duration;

use serde_json::json;

use super::{Rig, contacts};
use crate::support::binary::{hubsync, run, text};

const SETTLE: Duration = Duration::from_secs(60);

#[tokio::test(flavor = "multi_thread")]
async fn a_refused_write_fixed_in_the_simulator_and_retried_from_the_cli_lands_with_its_story() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let rule = "Contacts named Blocked are refused by a validation rule";
    rig.salesforce.reject_records("Contact", "LastName", json!("Blocked"), rule).unwrap();
    let id = rig
        .hubspot
        .create_as_user("contacts", json!({"email": "b@acme.com", "lastname": "Blocked"}), 7)
        .unwrap();
    let failed = || async {
        sqlx::query_scalar::<_, i64>(
            "select id from hubsync.journal where status = 'failed' and record_id = $1",
        )
        .bind(id.to_string())
        .fetch_optional(rig.pool())
        .await
        .unwrap()
    };
    rig.wait_for("the refused write", SETTLE, || async { failed().await.is_some() }).await;
    let row = failed().await.unwrap();
    let open = || async { hubsync::operate::QueueDepths::read(rig.pool()).await.unwrap() };
    assert!(open().await.failures_open >= 1, "the hubsync_failures_open gauge shows it");

    rig.salesforce.clear_record_faults();
    let config = tempfile::Builder::new().suffix(".toml").tempfile().unwrap();
    std::fs::write(config.path(), &rig.config).unwrap();
    let url = rig.app().db.as_ref().unwrap().url.clone();
    let cli = |args: &[&str]| {
        let mut command = hubsync();
        command.arg("--config").arg(config.path()).args(args).env("DATABASE_URL", &url);
        run(&mut command)
    };
    let retried = cli(&["journal", "retry", &row.to_string(), "--yes"]);
    assert!(retried.status.success(), "{}", text(&retried.stderr));
    rig.wait_for("the retried write", SETTLE, || async { rig.links("contacts").await.len() == 1 })
        .await;
    rig.quiesce(SETTLE).await;
    let sf = rig.links("contacts").await[0].1.clone();
    assert_eq!(rig.salesforce_record(&sf)["LastName"], "Blocked");
    assert_eq!(open().await.failures_open, 0, "and drops to zero once the replay landed");

    let timeline = cli(&["record", &id.to_string(), "--json"]);
    assert!(timeline.status.success(), "{}", text(&timeline.stderr));
    let story = text(&timeline.stdout);
    // the API's message, stored without the record's values it quotes
    let refusal = rule.replace("Blocked", "[value]");
    let chapters = [&refusal, "capture", "write_failed", "done after", "linked in contacts", &sf];
    for chapter in chapters {
        assert!(story.contains(chapter), "the timeline lacks {chapter:?}:\n{story}");
    }
}
