//! OAuth: the token endpoint (client credentials via form fields or HTTP Basic, and the
//! JWT bearer grant), access tokens with a session timeout, and the bearer check on every
//! data request (401 `INVALID_SESSION_ID`).

use std::collections::HashMap;

use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::middleware::Next;
use axum::response::Response;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chrono::{DateTime, Duration, Utc};
use rand::Rng;
use serde_json::json;

use super::error::{SfError, json_response};
use super::jwt;
use super::state::{ORG_ID, SfState, SharedState};

const JWT_GRANT: &str = "urn:ietf:params:oauth:grant-type:jwt-bearer";

#[derive(Debug, Clone)]
struct Session {
    user_id: String,
    expires_at: DateTime<Utc>,
}

/// Issued access tokens and when they expire.
#[derive(Debug, Default)]
pub struct Sessions {
    by_token: HashMap<String, Session>,
}

impl Sessions {
    pub fn issue(&mut self, user_id: &str, now: DateTime<Utc>, timeout: Duration) -> String {
        let secret: String =
            rand::rng().sample_iter(rand::distr::Alphanumeric).take(40).map(char::from).collect();
        let token = format!("{}!AQ{secret}", &ORG_ID[..15]);
        let session = Session { user_id: user_id.to_string(), expires_at: now + timeout };
        self.by_token.insert(token.clone(), session);
        token
    }

    /// The user of a live token; with `extend`, use pushes its expiry out again.
    pub fn check(
        &mut self,
        token: &str,
        now: DateTime<Utc>,
        extend: Option<Duration>,
    ) -> Result<String, SfError> {
        let session = self.by_token.get_mut(token).ok_or_else(SfError::invalid_session)?;
        if session.expires_at <= now {
            return Err(SfError::invalid_session());
        }
        if let Some(timeout) = extend {
            session.expires_at = now + timeout;
        }
        Ok(session.user_id.clone())
    }

    /// Ends every session now, as an admin revoking them or a forced timeout would.
    pub fn expire_all(&mut self) {
        self.by_token.clear();
    }
}

/// Middleware for data requests: a live `Authorization: Bearer` (or `OAuth`) token.
pub async fn require_session(
    State(state): State<SharedState>,
    request: Request,
    next: Next,
) -> Response {
    match check_bearer(&state, request.headers()) {
        Ok(()) => next.run(request).await,
        Err(err) => axum::response::IntoResponse::into_response(err),
    }
}

fn check_bearer(state: &SfState, headers: &HeaderMap) -> Result<(), SfError> {
    let value = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok());
    let token = value
        .and_then(|v| v.strip_prefix("Bearer ").or_else(|| v.strip_prefix("OAuth ")))
        .ok_or_else(SfError::invalid_session)?;
    let config = &state.config;
    let extend = config.session_extends_on_activity.then_some(config.session_timeout);
    let mut sessions = state.sessions.lock().expect("sessions lock");
    sessions.check(token.trim(), state.now(), extend).map(|_| ())
}

/// `POST /services/oauth2/token`.
pub async fn token(State(state): State<SharedState>, headers: HeaderMap, body: Bytes) -> Response {
    let form: HashMap<String, String> = match serde_urlencoded::from_bytes(&body) {
        Ok(form) => form,
        Err(_) => return oauth_error("invalid_request", "invalid request body"),
    };
    let outcome = match form.get("grant_type").map(String::as_str) {
        Some("client_credentials") => client_credentials(&state, &headers, &form),
        Some(JWT_GRANT) => jwt_bearer(&state, &form),
        Some(_) => Err(("unsupported_grant_type", "grant type not supported".to_string())),
        None => Err(("invalid_request", "grant_type is required".to_string())),
    };
    match outcome {
        Ok(user_id) => issue_response(&state, &user_id),
        Err((error, description)) => oauth_error(error, &description),
    }
}

type OAuthFailure = (&'static str, String);

fn client_credentials(
    state: &SfState,
    headers: &HeaderMap,
    form: &HashMap<String, String>,
) -> Result<String, OAuthFailure> {
    let (id, secret) = basic_credentials(headers)
        .or_else(|| Some((form.get("client_id")?.clone(), form.get("client_secret")?.clone())))
        .ok_or(("invalid_client", "client credentials are required".to_string()))?;
    if id != state.config.client_id {
        return Err(("invalid_client_id", "client identifier invalid".to_string()));
    }
    if secret != state.config.client_secret {
        return Err(("invalid_client", "invalid client credentials".to_string()));
    }
    Ok(state.integration_user_id.clone())
}

fn basic_credentials(headers: &HeaderMap) -> Option<(String, String)> {
    let value = headers.get(header::AUTHORIZATION)?.to_str().ok()?;
    let encoded = value.strip_prefix("Basic ")?;
    let decoded = String::from_utf8(STANDARD.decode(encoded.trim()).ok()?).ok()?;
    let (id, secret) = decoded.split_once(':')?;
    Some((id.to_string(), secret.to_string()))
}

fn jwt_bearer(state: &SfState, form: &HashMap<String, String>) -> Result<String, OAuthFailure> {
    let invalid = |text: String| ("invalid_grant", text);
    let assertion = form.get("assertion").ok_or_else(|| invalid("assertion is required".into()))?;
    let certificate =
        state.config.jwt_certificate_pem.as_deref().ok_or_else(|| {
            invalid("the JWT bearer flow is not configured (no certificate)".into())
        })?;
    let claims = jwt::verify(
        assertion,
        certificate,
        state.base_url(),
        state.now(),
        state.config.jwt_clock_skew,
    )
    .map_err(|err| invalid(err.to_string()))?;
    if claims.iss != state.config.client_id {
        return Err(("invalid_client_id", "client identifier invalid".into()));
    }
    user_by_username(state, &claims.sub)
        .ok_or_else(|| invalid("user hasn't approved this consumer".into()))
}

fn user_by_username(state: &SfState, username: &str) -> Option<String> {
    let store = state.store();
    let key = serde_json::Value::String(username.to_string());
    let users = store.find_indexed("User", "Username", &key);
    users
        .into_iter()
        .find(|u| u.get("IsActive") == &serde_json::Value::Bool(true))
        .map(|u| u.id().to_string())
}

fn issue_response(state: &SfState, user_id: &str) -> Response {
    let now = state.now();
    let token = state.sessions.lock().expect("sessions lock").issue(
        user_id,
        now,
        state.config.session_timeout,
    );
    let base = state.base_url();
    let id_url = format!("{base}/id/{ORG_ID}/{user_id}");
    let issued_at = now.timestamp_millis().to_string();
    let signature = sign(&state.config.client_secret, &format!("{id_url}{issued_at}"));
    let body = json!({
        "access_token": token,
        "signature": signature,
        "scope": "api",
        "instance_url": state.instance_url(),
        "id": id_url,
        "token_type": "Bearer",
        "issued_at": issued_at,
        "token_format": "opaque",
    });
    json_response(StatusCode::OK, &body)
}

/// `GET /id/{orgId}/{userId}`: the identity of a user of this org.
pub async fn identity(
    State(state): State<SharedState>,
    super::rest::SfPath((org, user)): super::rest::SfPath<(String, String)>,
) -> Result<Response, SfError> {
    let store = state.store();
    let found = store.get(&user).filter(|u| u.object == "User" && org == ORG_ID);
    let user = found.ok_or_else(SfError::not_found)?;
    let base = state.base_url();
    let body = json!({
        "id": format!("{base}/id/{ORG_ID}/{}", user.id()),
        "user_id": user.id(),
        "organization_id": ORG_ID,
        "username": user.get("Username"),
        "email": user.get("Email"),
        "last_name": user.get("LastName"),
        "active": user.get("IsActive"),
        "urls": { "rest": format!("{base}/services/data/v{{version}}/") },
    });
    Ok(json_response(StatusCode::OK, &body))
}

/// Base64 of HMAC-SHA256 over the identity URL and issue time, keyed by the client secret.
fn sign(secret: &str, text: &str) -> String {
    let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, secret.as_bytes());
    STANDARD.encode(ring::hmac::sign(&key, text.as_bytes()).as_ref())
}

fn oauth_error(error: &str, description: &str) -> Response {
    let body = json!({ "error": error, "error_description": description });
    json_response(StatusCode::BAD_REQUEST, &body)
}

/// A JWT bearer assertion for tests and tools: RS256 over `claims`, signed with a PKCS#8
/// RSA private key in PEM.
pub fn sign_assertion(private_key_pem: &str, claims: &serde_json::Value) -> Result<String, String> {
    use rustls_pki_types::PrivatePkcs8KeyDer;
    use rustls_pki_types::pem::PemObject;
    let der = PrivatePkcs8KeyDer::from_pem_slice(private_key_pem.as_bytes())
        .map_err(|e| format!("private key: {e}"))?;
    let pair = ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der())
        .map_err(|e| format!("private key: {e}"))?;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256","typ":"JWT"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    let mut signature = vec![0; pair.public().modulus_len()];
    let rng = ring::rand::SystemRandom::new();
    pair.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, signed.as_bytes(), &mut signature)
        .map_err(|e| format!("signing: {e}"))?;
    Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
