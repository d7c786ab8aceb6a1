//! Hostile values (SQL and format-string lookalikes, quotes, backslashes, bidi overrides,
//! 4-byte emoji) cross both ways byte for byte and never disturb the database
//! (catalog T36, the values both CRMs accept).

use std::time::Duration;

use serde_json::json;

use super::{Rig, contacts};

const SETTLE: Duration = Duration::from_secs(30);

/// Values a careless implementation would splice into SQL, a format string or a log line.
const HOSTILE: [&str; 9] = [
    "'); DROP TABLE hubsync.journal;--",
    "tab'le",
    "$1",
    "%s%n%x",
    "back\\slash\\\\",
    "right\u{202E}to-left",
    "emoji 🧪🦀",
    "quote \" and {braces}",
    "tab\tand newline\nin a name",
];

#[tokio::test(flavor = "multi_thread")]
async fn hostile_values_cross_both_ways_byte_for_byte_and_leave_the_tables_intact() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    let mut pairs = Vec::new();
    for (i, value) in HOSTILE.iter().enumerate() {
        let properties = json!({"email": format!("h{i}@hostile.test"), "firstname": value,
                                "lastname": "Lee"});
        let (id, sf) = rig.linked_contact(properties).await;
        assert_eq!(rig.salesforce_record(&sf)["FirstName"], *value, "to Salesforce: {value:?}");
        pairs.push((id, sf));
    }
    for ((id, sf), value) in pairs.iter().zip(HOSTILE) {
        // Salesforce keeps whole seconds: the edit is unmistakably the later one
        tokio::time::sleep(Duration::from_millis(1100)).await;
        let back = format!("{value}!");
        rig.salesforce.edit_as_user(sf, json!({"FirstName": back})).unwrap();
        rig.wait_for(&format!("{value:?} back on HubSpot"), SETTLE, || async {
            rig.hubspot_contact(&id.to_string())["firstname"] == back
        })
        .await;
    }
    rig.quiesce(SETTLE).await;
    let (journal, failed): (i64, i64) = sqlx::query_as(
        "select count(*), count(*) filter (where status in ('failed', 'dead')) from hubsync.journal",
    )
    .fetch_one(rig.pool())
    .await
    .unwrap();
    assert!(journal > 0, "the journal table is intact");
    assert_eq!(failed, 0, "no value made a change fail");
}
