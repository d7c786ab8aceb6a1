//! The daily allocation: hubsync stops at its share, and pauses on
//! `REQUEST_LIMIT_EXCEEDED` until the budget recovers.

use chrono::Duration as ChronoDuration;
use hubsync::connector::{Connector, ConnectorError};
use hubsync::sim::faults::Trigger;
use hubsync::sim::salesforce::fault;

use super::*;

#[tokio::test]
async fn hubsync_stops_spending_at_its_share_of_the_daily_allocation() {
    let sim = sim_with(SimConfig { ..SimConfig::default() }).await;
    let salesforce = connector(&sim);
    salesforce.owners().await.unwrap();
    sim.set_api_usage(799_990);
    let mut refused = None;
    for _ in 0..30 {
        if let Err(err) = salesforce.owners().await {
            refused = Some(err);
            break;
        }
    }
    let refused = refused.expect("the share ran out");
    assert!(matches!(refused, ConnectorError::RateLimited { .. }), "{refused:?}");
    assert!(sim.api_usage() <= 800_001, "{} used", sim.api_usage());
    assert!(salesforce.budget().paused_until.is_some());
}

#[tokio::test]
async fn request_limit_exceeded_pauses_until_the_budget_recovers() {
    let sim = sim().await;
    let salesforce = connector(&sim);
    salesforce.owners().await.unwrap();
    sim.inject("/services/data/*/query*", fault::request_limit_exceeded(), Trigger::Next(1));
    let err = salesforce.owners().await.unwrap_err();
    assert_eq!(err.code(), Some("REQUEST_LIMIT_EXCEEDED"));
    let before = sim.stats().total_requests();
    let paused = salesforce.owners().await.unwrap_err();
    assert!(matches!(paused, ConnectorError::RateLimited { .. }), "{paused:?}");
    assert_eq!(sim.stats().total_requests(), before, "nothing spent while paused");
    sim.clock().advance(ChronoDuration::minutes(6));
    salesforce.owners().await.expect("spending resumes once the pause is over");
}
