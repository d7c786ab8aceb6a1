//! Revoked credentials (catalog T34, revocation): the daemon stops spending attempts, says
//! why it is not ready, keeps every change queued, probes the credential now and then, and
//! resumes by itself once it works again.

use std::time::Duration;

use hubspot_sim::RateProfile;
use serde_json::json;
use sim_kit::faults::{Fault, Trigger};

use super::{Rig, contacts};

const SETTLE: Duration = Duration::from_secs(30);
/// How often a rejected credential is tried again: a second in tests, a minute by default.
const PROBE: [(&str, &str); 3] = [
    ("HUBSYNC__CONNECTORS__SALESFORCE__CREDENTIAL_PROBE_INTERVAL", "1s"),
    ("HUBSYNC__CONNECTORS__HUBSPOT__CREDENTIAL_PROBE_INTERVAL", "1s"),
    ("HUBSYNC__WRITER__MAX_ATTEMPTS", "2"),
];

/// Unsettled and failed rows of both queues, with the attempts they have spent (a claim in
/// progress counts an attempt it may still hand back), for assertions.
async fn queues(rig: &Rig) -> (Vec<(String, i32)>, Vec<(String, i32)>) {
    let journal = sqlx::query_as(
        "select status, attempts - coalesce(lease_until > now(), false)::int from hubsync.journal where status not in
             ('applied', 'echo', 'stale', 'skipped') order by id",
    )
    .fetch_all(rig.pool())
    .await
    .unwrap();
    let outbox = sqlx::query_as(
        "select status, attempts - coalesce(lease_until > now(), false)::int from hubsync.outbox
         where status <> 'done' order by id",
    )
    .fetch_all(rig.pool())
    .await
    .unwrap();
    (journal, outbox)
}

/// Requests the Salesforce simulator's token endpoint has answered so far.
fn token_requests(rig: &Rig) -> u64 {
    let stats = rig.salesforce.stats().snapshot();
    stats
        .iter()
        .filter(|(endpoint, _)| endpoint.contains("oauth2/token"))
        .map(|(_, s)| s.requests)
        .sum()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_revoked_salesforce_grant_halts_writes_unspent_and_readiness_names_it_until_it_works() {
    let rules = contacts("newest_wins", "flag");
    let rig = Rig::start_with(&rules, RateProfile::UNLIMITED, &PROBE).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "r@acme.com", "firstname": "Before", "lastname": "R"}))
        .await;

    // an admin revokes the connected app: sessions die, the grant is refused
    let revoked = Fault::Respond {
        status: 400,
        body: json!({"error": "invalid_grant", "error_description": "expired access/refresh token"}),
        headers: Vec::new(),
    };
    rig.salesforce.inject("/services/oauth2/token", revoked, Trigger::Fraction(1.0));
    rig.salesforce.expire_tokens();
    rig.hubspot.edit_as_user("contacts", id, json!({"firstname": "During"}), 7).unwrap();
    rig.hubspot
        .create_as_user("contacts", json!({"email": "n@acme.com", "lastname": "N"}), 7)
        .unwrap();

    let body = rig.app().wait_for_unready_code("token_revoked", SETTLE).await;
    assert_eq!(body["connector"], "salesforce", "{body}");
    // several probe intervals: writes would have spent both attempts long ago
    let tokens_before = token_requests(&rig);
    tokio::time::sleep(Duration::from_secs(5)).await;
    let probes = token_requests(&rig) - tokens_before;
    assert!(probes <= 7, "{probes} token requests in 5 s: at most one per probe interval");
    let (journal, outbox) = queues(&rig).await;
    // the edit (as a write, or as a change whose batch could not be read) and the new contact
    assert!(journal.len() + outbox.len() >= 2, "the changes are queued: {journal:?} {outbox:?}");
    for (status, attempts) in journal.iter().chain(&outbox) {
        assert_eq!(status, "pending", "nothing fails or dies while the grant is revoked");
        assert_eq!(*attempts, 0, "no attempt is spent on a revoked grant: {journal:?} {outbox:?}");
    }
    let body: serde_json::Value = rig.app().get("/readyz").await.json().await.unwrap();
    assert_eq!(body["code"], "token_revoked", "still not ready: {body}");

    // the grant works again: the daemon notices on its next probe and drains the queue
    rig.salesforce.faults().clear();
    rig.app().wait_for_readyz(200, SETTLE).await;
    rig.wait_for("the queued writes to land", SETTLE, || async {
        rig.salesforce_record(&sf)["FirstName"] == "During"
            && rig.salesforce.count("Contact", false) == 2
    })
    .await;
    rig.quiesce(SETTLE).await;
    let (journal, outbox) = queues(&rig).await;
    assert!(journal.is_empty() && outbox.is_empty(), "{journal:?} {outbox:?}");
}

#[tokio::test(flavor = "multi_thread")]
async fn a_rejected_hubspot_token_halts_writes_and_readiness_names_it_until_it_works() {
    let rules = contacts("newest_wins", "flag");
    let rig = Rig::start_with(&rules, RateProfile::UNLIMITED, &PROBE).await;
    let (id, sf) = rig
        .linked_contact(json!({"email": "h@acme.com", "firstname": "Before", "lastname": "H"}))
        .await;

    // the private app's token is deleted: every call answers 401
    let rejected = Fault::Respond {
        status: 401,
        body: json!({"status": "error", "category": "INVALID_AUTHENTICATION",
                     "message": "Authentication credentials not found."}),
        headers: Vec::new(),
    };
    let rule = sim_kit::faults::FaultRule::new("/crm/*", rejected, Trigger::Fraction(1.0));
    rig.hubspot.inject(rule);
    rig.salesforce.edit_as_user(&sf, json!({"FirstName": "During"})).unwrap();

    let body = rig.app().wait_for_unready_code("credentials_rejected", SETTLE).await;
    assert_eq!(body["connector"], "hubspot", "{body}");
    tokio::time::sleep(Duration::from_secs(3)).await;
    let (journal, outbox) = queues(&rig).await;
    for (status, attempts) in journal.iter().chain(&outbox) {
        assert_eq!(status, "pending", "nothing fails or dies while the token is rejected");
        assert_eq!(*attempts, 0, "no attempt is spent on a rejected token: {journal:?} {outbox:?}");
    }

    rig.hubspot.faults().clear();
    rig.app().wait_for_readyz(200, SETTLE).await;
    rig.wait_for("the queued write to land", SETTLE, || async {
        rig.hubspot_contact(&id.to_string())["firstname"] == "During"
    })
    .await;
    rig.quiesce(SETTLE).await;
}
