//! OAuth: client credentials, JWT bearer, sessions and their expiry.

use chrono::Duration;
use salesforce_sim::{INTEGRATION_USERNAME, ORG_ID, SimConfig, sign_assertion};
use serde_json::{Value, json};

use super::{Answer, Sf, answer, test_config};

const CERT: &str = include_str!("fixtures/jwt-cert.pem");
const KEY: &str = include_str!("fixtures/jwt-key.pem");
const OTHER_KEY: &str = include_str!("fixtures/other-key.pem");

async fn token_request(sf: &Sf, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Answer {
    let mut request = sf.http.post(sf.url("/services/oauth2/token")).form(form);
    if let Some((id, secret)) = basic {
        request = request.basic_auth(id, Some(secret));
    }
    answer(request.send().await.unwrap()).await
}

async fn use_token(sf: &Sf, token: &str) -> u16 {
    let response = sf.http.get(sf.url("/limits")).bearer_auth(token).send().await.unwrap();
    response.status().as_u16()
}

#[tokio::test]
async fn client_credentials_in_form_fields_return_a_token_that_works() {
    let sf = Sf::start().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "sim-client"),
        ("client_secret", "sim-secret"),
    ];
    let answer = token_request(&sf, &form, None).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    for key in
        ["access_token", "instance_url", "id", "token_type", "issued_at", "signature", "scope"]
    {
        assert!(answer.body[key].is_string(), "{key} in {}", answer.body);
    }
    assert_eq!(answer.body["instance_url"], sf.sim.base_url());
    assert_eq!(answer.body["token_type"], "Bearer");
    let id_url = answer.body["id"].as_str().unwrap();
    assert!(
        id_url.ends_with(&format!("/id/{ORG_ID}/{}", sf.sim.integration_user_id())),
        "{id_url}"
    );
    assert!(answer.body["issued_at"].as_str().unwrap().parse::<i64>().unwrap() > 1_600_000_000_000);
    assert!(answer.body.get("refresh_token").is_none());
    assert_eq!(use_token(&sf, answer.body["access_token"].as_str().unwrap()).await, 200);
}

#[tokio::test]
async fn client_credentials_in_http_basic_return_a_token() {
    let sf = Sf::start().await;
    let answer = token_request(
        &sf,
        &[("grant_type", "client_credentials")],
        Some(("sim-client", "sim-secret")),
    )
    .await;
    assert_eq!(answer.status, 200, "{}", answer.body);
}

#[tokio::test]
async fn wrong_client_credentials_answer_an_oauth_error_object() {
    let sf = Sf::start().await;
    let wrong = [
        ("grant_type", "client_credentials"),
        ("client_id", "sim-client"),
        ("client_secret", "nope"),
    ];
    let answer = token_request(&sf, &wrong, None).await;
    assert_eq!(answer.status, 400);
    assert_eq!(answer.body["error"], "invalid_client");
    assert!(answer.body["error_description"].is_string());
    let unknown =
        token_request(&sf, &[("grant_type", "client_credentials")], Some(("who", "sim-secret")))
            .await;
    assert_eq!(unknown.body["error"], "invalid_client_id");
    let grant = token_request(&sf, &[("grant_type", "password")], None).await;
    assert_eq!(grant.body["error"], "unsupported_grant_type");
}

#[tokio::test]
async fn a_request_without_a_valid_token_answers_401_invalid_session_id() {
    let sf = Sf::start().await;
    let response = sf.http.get(sf.url("/sobjects")).send().await.unwrap();
    let missing = answer(response).await;
    assert_eq!((missing.status, missing.error_code()), (401, "INVALID_SESSION_ID"));
    assert_eq!(missing.body[0]["message"], "Session expired or invalid");
    assert_eq!(use_token(&sf, "00Dforged!AQxyz").await, 401);
}

#[tokio::test]
async fn a_token_expires_after_the_session_timeout() {
    let config = SimConfig { session_timeout: Duration::minutes(30), ..test_config() };
    let sf = Sf::start_with(config).await;
    sf.sim.clock().advance(Duration::minutes(29));
    assert_eq!(use_token(&sf, &sf.token).await, 200);
    sf.sim.clock().advance(Duration::minutes(2));
    assert_eq!(use_token(&sf, &sf.token).await, 401, "use does not extend a session by default");
}

#[tokio::test]
async fn an_expired_token_answers_invalid_session_id_in_salesforces_error_array() {
    let config = SimConfig { session_timeout: Duration::minutes(30), ..test_config() };
    let sf = Sf::start_with(config).await;
    sf.sim.clock().advance(Duration::minutes(31));
    let expired = sf.get("/sobjects").await;
    assert_eq!((expired.status, expired.error_code()), (401, "INVALID_SESSION_ID"));
    assert_eq!(expired.body[0]["message"], "Session expired or invalid");
    assert!(expired.header("content-type").unwrap().starts_with("application/json"));
}

#[tokio::test]
async fn with_the_switch_on_use_extends_a_session() {
    let config = SimConfig {
        session_timeout: Duration::minutes(30),
        session_extends_on_activity: true,
        ..test_config()
    };
    let sf = Sf::start_with(config).await;
    sf.sim.clock().advance(Duration::minutes(20));
    assert_eq!(use_token(&sf, &sf.token).await, 200);
    sf.sim.clock().advance(Duration::minutes(20));
    assert_eq!(use_token(&sf, &sf.token).await, 200);
}

#[tokio::test]
async fn forced_expiry_makes_every_token_answer_invalid_session_id() {
    let sf = Sf::start().await;
    assert_eq!(use_token(&sf, &sf.token).await, 200);
    sf.sim.expire_tokens();
    assert_eq!(use_token(&sf, &sf.token).await, 401);
    assert_eq!(use_token(&sf, &sf.sim.access_token()).await, 200, "a new token works");
}

fn jwt_config() -> SimConfig {
    SimConfig { jwt_certificate_pem: Some(CERT.to_string()), ..test_config() }
}

fn claims(sf: &Sf, exp_in: Duration) -> Value {
    json!({
        "iss": "sim-client",
        "sub": INTEGRATION_USERNAME,
        "aud": "https://login.salesforce.com",
        "exp": (sf.sim.clock().now() + exp_in).timestamp(),
    })
}

async fn jwt_grant(sf: &Sf, assertion: &str) -> Answer {
    let form =
        [("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer"), ("assertion", assertion)];
    token_request(sf, &form, None).await
}

#[tokio::test]
async fn a_jwt_signed_for_the_configured_certificate_returns_a_token() {
    let sf = Sf::start_with(jwt_config()).await;
    let assertion = sign_assertion(KEY, &claims(&sf, Duration::minutes(3))).unwrap();
    let answer = jwt_grant(&sf, &assertion).await;
    assert_eq!(answer.status, 200, "{}", answer.body);
    assert_eq!(use_token(&sf, answer.body["access_token"].as_str().unwrap()).await, 200);
    let mut own = claims(&sf, Duration::minutes(3));
    own["aud"] = json!(sf.sim.base_url());
    assert_eq!(jwt_grant(&sf, &sign_assertion(KEY, &own).unwrap()).await.status, 200);
}

#[tokio::test]
async fn a_jwt_that_is_forged_expired_for_another_audience_or_user_is_refused() {
    let sf = Sf::start_with(jwt_config()).await;
    let forged = sign_assertion(OTHER_KEY, &claims(&sf, Duration::minutes(3))).unwrap();
    let expired = sign_assertion(KEY, &claims(&sf, Duration::minutes(-1))).unwrap();
    let mut audience = claims(&sf, Duration::minutes(3));
    audience["aud"] = json!("https://evil.example");
    let mut user = claims(&sf, Duration::minutes(3));
    user["sub"] = json!("nobody@example.com");
    for assertion in [
        forged,
        expired,
        sign_assertion(KEY, &audience).unwrap(),
        sign_assertion(KEY, &user).unwrap(),
        "a.b.c".to_string(),
    ] {
        let answer = jwt_grant(&sf, &assertion).await;
        assert_eq!(
            (answer.status, answer.body["error"].as_str()),
            (400, Some("invalid_grant")),
            "{}",
            answer.body
        );
    }
}

#[tokio::test]
async fn with_a_jwt_clock_skew_an_assertion_just_past_its_expiry_is_still_accepted() {
    let strict = Sf::start_with(jwt_config()).await;
    let lapsed = sign_assertion(KEY, &claims(&strict, Duration::seconds(-60))).unwrap();
    assert_eq!(jwt_grant(&strict, &lapsed).await.status, 400, "no skew by default");
    let config = SimConfig { jwt_clock_skew: Duration::minutes(2), ..jwt_config() };
    let sf = Sf::start_with(config).await;
    let lapsed = sign_assertion(KEY, &claims(&sf, Duration::seconds(-60))).unwrap();
    let answer = jwt_grant(&sf, &lapsed).await;
    assert_eq!(answer.status, 200, "within the skew: {}", answer.body);
    assert_eq!(use_token(&sf, answer.body["access_token"].as_str().unwrap()).await, 200);
    let stale = sign_assertion(KEY, &claims(&sf, Duration::seconds(-180))).unwrap();
    let answer = jwt_grant(&sf, &stale).await;
    assert_eq!((answer.status, answer.body["error"].as_str()), (400, Some("invalid_grant")));
}

#[tokio::test]
async fn a_jwt_issued_for_another_client_id_is_refused() {
    let sf = Sf::start_with(jwt_config()).await;
    let mut other = claims(&sf, Duration::minutes(3));
    other["iss"] = json!("another-client");
    let answer = jwt_grant(&sf, &sign_assertion(KEY, &other).unwrap()).await;
    assert_eq!((answer.status, answer.body["error"].as_str()), (400, Some("invalid_client_id")));
    assert!(answer.body.get("access_token").is_none());
}

/// An assertion whose header names `alg` but whose signature is the RS256 signature of
/// the certificate's key over that header and the claims: only the algorithm is wrong.
fn assertion_claiming(alg: &str, claims: &Value) -> String {
    use base64::Engine;
    use base64::engine::general_purpose::URL_SAFE_NO_PAD;
    use rustls_pki_types::PrivatePkcs8KeyDer;
    use rustls_pki_types::pem::PemObject;
    let der = PrivatePkcs8KeyDer::from_pem_slice(KEY.as_bytes()).unwrap();
    let pair = ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).unwrap();
    let header = URL_SAFE_NO_PAD.encode(json!({"alg": alg, "typ": "JWT"}).to_string());
    let signed = format!("{header}.{}", URL_SAFE_NO_PAD.encode(claims.to_string()));
    let mut signature = vec![0; pair.public().modulus_len()];
    let rng = ring::rand::SystemRandom::new();
    pair.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, signed.as_bytes(), &mut signature).unwrap();
    format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature))
}

#[tokio::test]
async fn a_jwt_that_names_an_algorithm_other_than_rs256_is_refused() {
    let sf = Sf::start_with(jwt_config()).await;
    let claims = claims(&sf, Duration::minutes(3));
    let control = jwt_grant(&sf, &assertion_claiming("RS256", &claims)).await;
    assert_eq!(control.status, 200, "the same assertion with RS256 works: {}", control.body);
    for alg in ["HS256", "RS512", "none"] {
        let answer = jwt_grant(&sf, &assertion_claiming(alg, &claims)).await;
        assert_eq!((answer.status, answer.body["error"].as_str()), (400, Some("invalid_grant")));
        let description = answer.body["error_description"].as_str().unwrap();
        assert!(description.contains("RS256"), "{alg}: {description}");
    }
}

#[tokio::test]
async fn without_a_configured_certificate_the_jwt_grant_is_refused() {
    let sf = Sf::start().await;
    let assertion = sign_assertion(KEY, &claims(&sf, Duration::minutes(3))).unwrap();
    assert_eq!(jwt_grant(&sf, &assertion).await.body["error"], "invalid_grant");
}

#[tokio::test]
async fn the_identity_url_of_a_token_names_its_user() {
    let sf = Sf::start().await;
    let form = [
        ("grant_type", "client_credentials"),
        ("client_id", "sim-client"),
        ("client_secret", "sim-secret"),
    ];
    let token = token_request(&sf, &form, None).await.body;
    let id_url = token["id"].as_str().unwrap();
    let access = token["access_token"].as_str().unwrap();
    let identity = answer(sf.http.get(id_url).bearer_auth(access).send().await.unwrap()).await;
    assert_eq!(identity.status, 200);
    assert_eq!(identity.body["username"], INTEGRATION_USERNAME);
    assert_eq!(identity.body["organization_id"], ORG_ID);
    let anonymous = answer(sf.http.get(id_url).send().await.unwrap()).await;
    assert_eq!(anonymous.status, 401);
}
