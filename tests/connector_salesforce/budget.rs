//! The daily allocation: hubsync stops at its share, and pauses on
//! `REQUEST_LIMIT_EXCEEDED` until the budget recovers.

use chrono::Duration as ChronoDuration;
use hubsync::connector::salesforce::SalesforceOptions;
use hubsync::connector::{Connector, ConnectorError};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use salesforce_sim::fault;
use sim_kit::faults::Trigger;

use super::*;

/// Gauge `metric` of the Salesforce connector `name`, as Prometheus renders it.
fn gauge(handle: &PrometheusHandle, metric: &str, name: &str) -> Option<f64> {
    let series = format!("{metric}{{connector=\"salesforce\",name=\"{name}\"}} ");
    let rendered = handle.render();
    rendered.lines().find_map(|line| line.strip_prefix(&series)?.parse().ok())
}

#[tokio::test]
async fn hubsync_stops_spending_at_its_share_of_the_daily_allocation() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let metrics = recorder.handle();
    let _local = ::metrics::set_default_local_recorder(&recorder);
    let sim = sim_with(SimConfig { ..SimConfig::default() }).await;
    let options = SalesforceOptions { name: "org-emea".into(), ..options(&sim) };
    let salesforce = SalesforceConnector::new(&settings(&sim), options).unwrap();
    salesforce.owners().await.unwrap();
    let remaining = gauge(&metrics, "hubsync_connector_daily_remaining", "org-emea");
    assert!(remaining.is_some_and(|left| left > 790_000.0), "{remaining:?}");
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
    let left = gauge(&metrics, "hubsync_connector_daily_remaining", "org-emea");
    assert!(left.is_some_and(|left| left < 10.0), "the gauge follows the org's usage: {left:?}");
    let out = gauge(&metrics, "hubsync_connector_out_of_daily_budget", "org-emea");
    assert_eq!(out, Some(1.0), "visible as out of daily budget");
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
