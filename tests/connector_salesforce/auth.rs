//! Sessions: client credentials and JWT bearer, and one shared re-authentication when
//! Salesforce calls the session invalid.

use futures_util::future::join_all;
use hubsync::connector::{Connector, ConnectorError};
use salesforce_sim::INTEGRATION_USERNAME;

use super::*;

const CERT: &str = include_str!("../../crates/salesforce-sim/tests/fixtures/jwt-cert.pem");
const KEY: &str = include_str!("../../crates/salesforce-sim/tests/fixtures/jwt-key.pem");

#[tokio::test]
async fn an_expired_session_is_renewed_once_for_all_concurrent_callers() {
    let sim = sim().await;
    let salesforce = connector(&sim);
    salesforce.owners().await.unwrap();
    assert_eq!(logins(&sim), 1);
    sim.expire_tokens();
    let calls = (0..8).map(|_| salesforce.owners());
    assert!(join_all(calls).await.iter().all(Result::is_ok));
    assert_eq!(logins(&sim), 2, "one re-authentication shared by every task");
}

#[tokio::test]
async fn the_jwt_bearer_grant_logs_in_with_the_private_key() {
    let sim =
        sim_with(SimConfig { jwt_certificate_pem: Some(CERT.into()), ..SimConfig::default() });
    let sim = sim.await;
    let mut settings = settings(&sim);
    settings.auth = SalesforceAuth::JwtBearer {
        client_id: sim.config().client_id.clone(),
        username: INTEGRATION_USERNAME.into(),
        private_key: Secret::from_value(KEY),
        audience: None,
    };
    let salesforce = SalesforceConnector::new(&settings, options(&sim)).unwrap();
    assert!(!salesforce.owners().await.unwrap().is_empty());
}

#[tokio::test]
async fn wrong_credentials_need_an_operator() {
    let sim = sim().await;
    let mut settings = settings(&sim);
    settings.auth = SalesforceAuth::ClientCredentials {
        client_id: "sim-client".into(),
        client_secret: Secret::from_value("wrong"),
    };
    let err = SalesforceConnector::new(&settings, options(&sim)).unwrap().owners().await;
    let err = err.unwrap_err();
    assert!(matches!(err, ConnectorError::Auth { .. }), "{err:?}");
    assert_eq!(err.kind(), hubsync::error_kind::ErrorKind::NeedsOperator);
}

#[tokio::test]
async fn a_config_entry_builds_a_connector_that_marks_writes_with_the_instance_name() {
    let sim = sim().await;
    let mut settings = settings(&sim);
    settings.client_name = None;
    let entry = hubsync::config::ConnectorSettings::Salesforce(settings);
    let connector = hubsync::connector::from_settings("salesforce", &entry, "replica-a").unwrap();
    assert_eq!(connector.api(), "salesforce");
    connector.upsert_batch("Contact", KEY_FIELD, &contacts(1)).await.unwrap();
    let record = &sim.find("Contact", KEY_FIELD, "hs-0")[0];
    assert_eq!(record[salesforce_sim::ECHO_FIELD], "hubsync-replica-a");
}

#[tokio::test]
async fn data_calls_go_to_the_instance_url_the_token_response_names() {
    let sim = sim_with(SimConfig { separate_instance: true, ..SimConfig::default() }).await;
    assert_ne!(sim.instance_url(), sim.base_url(), "the org has its own host");
    // the login host serves no data API, so a call sent there fails
    let login_host = format!("{}/services/data/v60.0/query?q=SELECT+Id+FROM+User", sim.base_url());
    let refused = reqwest::Client::new().get(login_host).bearer_auth(sim.access_token()).send();
    assert_eq!(refused.await.unwrap().status(), 404);
    let salesforce = connector(&sim);
    let results = salesforce.upsert_batch("Contact", KEY_FIELD, &contacts(3)).await.unwrap();
    assert!(results.iter().all(|r| r.is_success()), "{results:?}");
    assert!(!salesforce.owners().await.unwrap().is_empty());
    assert_eq!(sim.count("Contact", false), 3);
    assert_eq!(logins(&sim), 1);
}
