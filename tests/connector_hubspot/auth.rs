//! OAuth: access tokens are refreshed before they expire, and once more when HubSpot calls
//! one expired.

use chrono::Duration as ChronoDuration;
use hubspot_sim::{HubspotSim, OAuthApp, RateProfile};
use hubsync::connector::Connector;

use super::*;

async fn oauth_sim(ttl: Duration) -> HubspotSim {
    crate::support::init_test_log();
    let oauth = OAuthApp { access_token_ttl: ttl, ..SimConfig::default().oauth };
    let config = SimConfig { rate: RateProfile::UNLIMITED, oauth, ..SimConfig::default() };
    HubspotSim::start(config).await.unwrap()
}

fn oauth_settings(sim: &HubspotSim) -> HubspotSettings {
    let app = &sim.state().config.oauth;
    let mut settings = settings(sim, generous());
    settings.auth = HubspotAuth::Oauth {
        client_id: app.client_id.clone(),
        client_secret: Secret::from_value(app.client_secret.clone()),
        refresh_token: Secret::from_value(app.refresh_token.clone()),
    };
    settings
}

fn token_calls(sim: &HubspotSim) -> u64 {
    sim.stats().snapshot().get("POST /oauth/v1/token").map_or(0, |s| s.requests)
}

#[tokio::test]
async fn an_oauth_token_is_refreshed_before_it_expires() {
    let sim = oauth_sim(Duration::from_secs(600)).await;
    let hubspot = HubspotConnector::new(&oauth_settings(&sim), options(&sim)).unwrap();
    hubspot.owners().await.unwrap();
    hubspot.owners().await.unwrap();
    assert_eq!(token_calls(&sim), 1, "one token serves until near its expiry");
    sim.clock().advance(ChronoDuration::seconds(550));
    hubspot.owners().await.unwrap();
    assert_eq!(token_calls(&sim), 2);
    assert_eq!(sim.stats().total_with_status(401), 0, "never sent an expired token");
}

#[tokio::test]
async fn a_token_hubspot_calls_expired_is_refreshed_once_and_the_call_succeeds() {
    let sim = oauth_sim(Duration::from_secs(1800)).await;
    // the connector's clock runs behind the portal's, so it believes its token is fresh
    let options = HubspotOptions { clock: hubsync::connector::system_clock(), ..options(&sim) };
    let hubspot = HubspotConnector::new(&oauth_settings(&sim), options).unwrap();
    hubspot.owners().await.unwrap();
    sim.clock().advance(ChronoDuration::hours(1));
    hubspot.owners().await.expect("refreshed after EXPIRED_AUTHENTICATION");
    assert_eq!(sim.stats().total_with_status(401), 1);
    assert_eq!(token_calls(&sim), 2);
}

#[tokio::test]
async fn a_wrong_private_app_token_needs_an_operator() {
    let sim = super::sim(RateProfile::UNLIMITED).await;
    let mut settings = settings(&sim, generous());
    settings.auth = HubspotAuth::PrivateApp { token: Secret::from_value("pat-wrong") };
    let hubspot = HubspotConnector::new(&settings, options(&sim)).unwrap();
    let err = hubspot.owners().await.unwrap_err();
    assert_eq!(err.kind(), hubsync::error_kind::ErrorKind::NeedsOperator);
    assert_eq!(sim.stats().total_requests(), 1);
}

#[tokio::test]
async fn twenty_calls_spanning_a_tokens_expiry_share_one_refresh() {
    let sim = oauth_sim(Duration::from_secs(600)).await;
    let hubspot =
        std::sync::Arc::new(HubspotConnector::new(&oauth_settings(&sim), options(&sim)).unwrap());
    hubspot.owners().await.unwrap();
    sim.clock().advance(ChronoDuration::seconds(550));
    let calls: Vec<_> = (0..20)
        .map(|_| {
            let hubspot = hubspot.clone();
            tokio::spawn(async move { hubspot.owners().await })
        })
        .collect();
    for call in calls {
        call.await.unwrap().expect("each call succeeds");
    }
    assert_eq!(token_calls(&sim), 2, "one refresh for all twenty, before the expiry");
    assert_eq!(sim.stats().total_with_status(401), 0, "no call went out with an expired token");
}
