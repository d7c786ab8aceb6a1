//! Rate limits: the limiter keeps under the portal's quotas, and each 429 policy is
//! honoured when one still arrives.

use std::sync::Arc;

use chrono::Duration as ChronoDuration;
use futures_util::future::join_all;
use hubspot_sim::RateProfile;
use hubsync::connector::{ChangeCursor, Connector, ConnectorError, Lookup};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use serde_json::json;

use super::*;

fn limits(burst: u32, daily: u32, search: u32) -> HubspotRateLimit {
    HubspotRateLimit {
        tier: HubspotTier::Professional,
        burst_per_10s: Some(burst),
        daily: Some(daily),
        search_per_second: Some(search),
    }
}

async fn read_one(hubspot: &HubspotConnector, id: &str) -> Result<(), ConnectorError> {
    hubspot.read_batch("contacts", &Lookup::Id, &[id.to_string()], &[]).await.map(|_| ())
}

#[tokio::test]
async fn the_limiter_never_causes_a_429_when_it_is_the_only_client() {
    let sim = sim(RateProfile::of(20, 100_000)).await;
    let id = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap().to_string();
    let hubspot = Arc::new(connector(&sim, limits(20, 100_000, 5)));
    let calls = (0..40).map(|_| read_one(&hubspot, &id));
    assert!(join_all(calls).await.iter().all(Result::is_ok));
    assert_eq!(sim.stats().total_with_status(429), 0);
    assert_eq!(sim.stats().total_requests(), 40);
}

#[tokio::test]
async fn the_search_limiter_never_causes_a_429_when_it_is_the_only_client() {
    let profile = RateProfile { per_ten_seconds: None, daily: None, search_per_second: Some(5) };
    let sim = sim(profile).await;
    sim.seed("contacts", json!({"email": "a@x.com"})).unwrap();
    let mut options = options(&sim);
    options.concurrency = 20;
    let hubspot = HubspotConnector::new(&settings(&sim, limits(100_000, 100_000, 5)), options);
    let hubspot = hubspot.unwrap();
    let started = std::time::Instant::now();
    let start = ChangeCursor::start();
    let polls = join_all((0..20).map(|_| hubspot.read_changes("contacts", &start, &[]))).await;
    assert!(polls.iter().all(Result::is_ok), "{polls:?}");
    assert_eq!(sim.stats().total_with_status(429), 0);
    assert_eq!(sim.stats().total_requests(), 20, "one search per poll, none sent twice");
    // 20 searches at 5 per second: the limiter, not the portal, spread them out
    assert!(started.elapsed() >= Duration::from_secs(3), "{:?}", started.elapsed());
}

#[tokio::test]
async fn a_ten_secondly_429_waits_for_the_window_and_the_headers_correct_the_limiter() {
    let sim = sim(RateProfile::of(20, 100_000)).await;
    let id = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap().to_string();
    // configured as if the portal allowed far more than it does
    let mut options = options(&sim);
    options.concurrency = 30;
    let hubspot = HubspotConnector::new(&settings(&sim, limits(1_000, 100_000, 5)), options);
    let hubspot = hubspot.unwrap();
    let results = join_all((0..30).map(|_| read_one(&hubspot, &id))).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(sim.stats().total_with_status(429) > 0, "the portal pushed back");
    assert_eq!(hubspot.budget().requests_per_second, 2.0, "corrected to 20 per 10 s");
}

#[tokio::test]
async fn a_secondly_search_429_waits_about_a_second_and_the_poll_goes_on() {
    let sim = sim(RateProfile { per_ten_seconds: None, daily: None, search_per_second: Some(3) });
    let sim = sim.await;
    let mut options = options(&sim);
    options.concurrency = 12;
    let hubspot = HubspotConnector::new(&settings(&sim, limits(100_000, 100_000, 100)), options);
    let hubspot = hubspot.unwrap();
    let start = ChangeCursor::start();
    let polls = (0..12).map(|_| hubspot.read_changes("contacts", &start, &[]));
    let results = join_all(polls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert!(sim.stats().total_with_status(429) > 0);
}

/// Another integration of the same account spends `n` requests of the shared daily budget.
async fn spent_elsewhere(sim: &hubspot_sim::HubspotSim, n: usize) {
    let http = reqwest::Client::new();
    for _ in 0..n {
        let url = format!("{}/crm/v3/owners", sim.base_url());
        http.get(url).bearer_auth(sim.token()).send().await.unwrap();
    }
}

/// The out-of-daily-budget gauge of connector `name`, as Prometheus renders it.
fn out_of_budget_gauge(handle: &PrometheusHandle, name: &str) -> Option<String> {
    let rendered = handle.render();
    let series =
        format!("hubsync_connector_out_of_daily_budget{{connector=\"hubspot\",name=\"{name}\"}} ");
    rendered.lines().find_map(|line| line.strip_prefix(&series).map(str::to_string))
}

#[tokio::test]
async fn a_daily_429_stops_spending_until_midnight_in_the_accounts_time_zone() {
    let recorder = PrometheusBuilder::new().build_recorder();
    let metrics = recorder.handle();
    let _local = ::metrics::set_default_local_recorder(&recorder);
    let sim = sim(RateProfile::of(100, 5)).await;
    sim.clock().freeze();
    let noon = chrono::DateTime::parse_from_rfc3339("2026-05-04T12:00:00Z").unwrap().to_utc();
    sim.clock().set(noon);
    let id = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap().to_string();
    let mut settings = settings(&sim, limits(100, 1_000, 5));
    settings.account_timezone = "America/New_York".into();
    let options = HubspotOptions { name: "portal-ny".into(), ..options(&sim) };
    let hubspot = HubspotConnector::new(&settings, options).unwrap();
    spent_elsewhere(&sim, 5).await;
    let spent = read_one(&hubspot, &id).await.unwrap_err();
    assert!(matches!(spent, ConnectorError::OutOfDailyBudget { .. }), "{spent:?}");
    assert_eq!(sim.stats().total_with_status(429), 1);
    // midnight in New York (EDT, UTC-4) is 04:00 UTC
    let reset = chrono::DateTime::parse_from_rfc3339("2026-05-05T04:00:00Z").unwrap().to_utc();
    assert_eq!(hubspot.budget().paused_until, Some(reset), "visible as out of daily budget");
    assert_eq!(out_of_budget_gauge(&metrics, "portal-ny").as_deref(), Some("1"));
    let before = sim.stats().total_requests();
    let refused = read_one(&hubspot, &id).await.unwrap_err();
    assert!(matches!(refused, ConnectorError::OutOfDailyBudget { .. }));
    // past midnight UTC, but still the same day in New York: nothing is spent
    sim.clock().advance(ChronoDuration::hours(12) + ChronoDuration::seconds(1));
    let refused = read_one(&hubspot, &id).await.unwrap_err();
    assert!(matches!(refused, ConnectorError::OutOfDailyBudget { .. }));
    assert_eq!(sim.stats().total_requests(), before, "nothing more was spent");
    sim.clock().advance(ChronoDuration::hours(4));
    read_one(&hubspot, &id).await.expect("the budget is back after midnight in New York");
    assert!(hubspot.budget().paused_until.is_none());
    assert_eq!(out_of_budget_gauge(&metrics, "portal-ny").as_deref(), Some("0"));
}

#[tokio::test]
async fn two_connectors_of_one_app_share_its_limiter_and_cause_no_429() {
    let sim = sim(RateProfile::of(20, 100_000)).await;
    let id = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap().to_string();
    let first = connector(&sim, limits(20, 100_000, 5));
    let second = connector(&sim, limits(20, 100_000, 5));
    assert!(Arc::ptr_eq(first.limits(), second.limits()));
    let calls =
        (0..30).map(|_| read_one(&first, &id)).chain((0..30).map(|_| read_one(&second, &id)));
    let results = join_all(calls).await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    assert_eq!(sim.stats().total_with_status(429), 0);
    assert_eq!(sim.stats().total_requests(), 60);
}

#[tokio::test]
async fn a_public_app_installed_on_two_portals_has_one_limiter_per_portal() {
    let sim = sim(RateProfile::UNLIMITED).await;
    let installed = |refresh_token: &str| {
        let mut settings = settings(&sim, limits(110, 500_000, 5));
        settings.auth = HubspotAuth::Oauth {
            client_id: "public-app".into(),
            client_secret: Secret::from_value("secret"),
            refresh_token: Secret::from_value(refresh_token),
        };
        HubspotConnector::new(&settings, options(&sim)).unwrap()
    };
    let (portal_a, portal_b) = (installed("refresh-portal-a"), installed("refresh-portal-b"));
    assert!(!Arc::ptr_eq(portal_a.limits(), portal_b.limits()), "each portal has its budget");
    let again_a = installed("refresh-portal-a");
    assert!(Arc::ptr_eq(portal_a.limits(), again_a.limits()), "one portal shares its budget");
}

#[tokio::test]
async fn the_daily_remaining_header_stops_spending_before_a_429() {
    let sim = sim(RateProfile::of(100, 3)).await;
    let id = sim.seed("contacts", json!({"email": "a@x.com"})).unwrap().to_string();
    let hubspot = connector(&sim, limits(100, 1_000, 5));
    for _ in 0..3 {
        read_one(&hubspot, &id).await.unwrap();
    }
    let refused = read_one(&hubspot, &id).await.unwrap_err();
    assert!(matches!(refused, ConnectorError::OutOfDailyBudget { .. }));
    assert_eq!(sim.stats().total_with_status(429), 0);
}
