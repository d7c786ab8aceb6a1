//! A 429 storm on HubSpot and 5xx bursts on both sides while 500 records sync each way:
//! everything lands eventually, once, and the writer's retries show in the outbox.

use std::time::Duration;

use salesforce_sim::fault;
use serde_json::json;
use sim_kit::faults::{Fault, FaultRule, Trigger};

use super::{Rig, compare, contacts};

const PER_SIDE: usize = 500;
const HUBSPOT_UPSERT: &str = "/crm/v3/objects/*/batch/upsert";
const SALESFORCE_COLLECTIONS: &str = "/services/data/*/composite/sobjects*";

/// HubSpot's 429 body for `policy`, with a `Retry-After` of one second.
fn rate_limited(policy: &str) -> Fault {
    Fault::Respond {
        status: 429,
        body: json!({"status": "error", "message": "You have reached your limit.",
                     "errorType": "RATE_LIMIT", "policyName": policy}),
        headers: vec![("Retry-After".into(), "1".into())],
    }
}

fn bad_gateway() -> Fault {
    Fault::Respond {
        status: 502,
        body: json!({"status": "error", "message": "Bad Gateway", "category": "INTERNAL_ERROR"}),
        headers: vec![],
    }
}

/// A burst of 5xx on each side's write endpoint, long enough to outlast a call's own
/// retries, and a standing share of 429s and 503s on everything else.
fn storm(rig: &Rig) {
    rig.hubspot.inject(FaultRule::new(HUBSPOT_UPSERT, bad_gateway(), Trigger::Next(30)));
    rig.hubspot.inject(FaultRule::new("*", rate_limited("SECONDLY"), Trigger::Fraction(0.2)));
    let rolling = rate_limited("TEN_SECONDLY_ROLLING");
    rig.hubspot.inject(FaultRule::new("*", rolling, Trigger::Fraction(0.05)));
    rig.salesforce.inject(SALESFORCE_COLLECTIONS, fault::server_error(), Trigger::Next(30));
    rig.salesforce.inject("/services/data/*", fault::unavailable(), Trigger::Fraction(0.15));
}

fn seed(rig: &Rig) {
    for i in 0..PER_SIDE {
        let props = json!({"email": format!("h{i}@storm.test"), "firstname": "H", "lastname": format!("{i}")});
        rig.hubspot.seed("contacts", props).unwrap();
        let fields = json!({"Email": format!("s{i}@storm.test"), "FirstName": "S", "LastName": format!("{i}"),
                            "Phone": format!("555-{i:04}")});
        rig.salesforce.seed("Contact", fields).unwrap();
    }
}

async fn count(rig: &Rig, sql: &str) -> i64 {
    sqlx::query_scalar(sql).fetch_one(rig.pool()).await.unwrap()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_429_storm_and_5xx_bursts_delay_the_sync_but_every_record_lands_exactly_once() {
    let rig = Rig::start(&contacts("newest_wins", "flag")).await;
    storm(&rig);
    seed(&rig);
    rig.wait_for("every record to be linked", Duration::from_secs(240), || async {
        rig.links("contacts").await.len() == 2 * PER_SIDE
    })
    .await;
    rig.quiesce(Duration::from_secs(60)).await;

    let hubspot = rig.hubspot.stats();
    let throttled = hubspot.total_with_status(429);
    let hubspot_5xx = hubspot.total_with_status(502);
    // How many requests a run makes depends on the machine's speed (a slow one polls less),
    // so the storm is judged by its share: the seeded 20% + 5% rules throttle about 24%.
    let exposed = hubspot.total_requests() - hubspot_5xx;
    let salesforce_5xx = rig.salesforce.stats().total_with_status(500)
        + rig.salesforce.stats().total_with_status(503);
    assert!(
        throttled >= 5 && throttled * 6 >= exposed,
        "the storm hit: {throttled} of {exposed} answers were 429"
    );
    assert_eq!(hubspot_5xx, 30, "the whole HubSpot burst was spent");
    assert!(salesforce_5xx >= 30, "the Salesforce bursts hit: {salesforce_5xx} answers were 5xx");

    let retried = count(&rig, "select count(*) from hubsync.outbox where attempts > 1").await;
    println!(
        "{throttled} of {exposed} × 429, {hubspot_5xx} + {salesforce_5xx} × 5xx, {retried} writes retried"
    );
    assert!(retried > 0, "some writes outlasted a call's own retries and were retried");
    let unsettled = count(&rig, "select count(*) from hubsync.outbox where status <> 'done'").await;
    assert_eq!(unsettled, 0, "every write landed in the end");
    let failed =
        count(&rig, "select count(*) from hubsync.journal where status in ('failed', 'dead')")
            .await;
    assert_eq!(failed, 0, "no change was given up on");
    assert_eq!(
        rig.write_count().await,
        2 * PER_SIDE as i64,
        "one write per record: {:?}",
        rig.writes().await
    );

    rig.hubspot.faults().clear();
    rig.salesforce.faults().clear();
    let contents = compare::contacts(&rig.hubspot_api, &rig.salesforce_api, rig.pool()).await;
    contents.assert_converged(2 * PER_SIDE);
}
