//! Salesforce sessions: the client credentials or JWT bearer grant, `instance_url` from the
//! token response, and one re-authentication shared by every task when a session dies.

use std::sync::Arc;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use serde_json::json;
use tokio::sync::{Mutex, RwLock};

use crate::config::SalesforceAuth;
use crate::connector::ConnectorError;

/// A live session: the token and the instance it works on.
pub struct Session {
    pub access_token: SecretString,
    pub instance_url: String,
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    instance_url: String,
}

/// Fetches and replaces sessions, one fetch at a time.
pub struct Sessions {
    login_url: String,
    auth: SalesforceAuth,
    current: RwLock<Option<Arc<Session>>>,
    fetching: Mutex<()>,
}

impl Sessions {
    pub fn new(login_url: &str, auth: SalesforceAuth) -> Self {
        Sessions {
            login_url: login_url.trim_end_matches('/').to_string(),
            auth,
            current: RwLock::new(None),
            fetching: Mutex::new(()),
        }
    }

    /// The current session, logging in first if there is none.
    pub async fn session(
        &self,
        http: &reqwest::Client,
        now: DateTime<Utc>,
    ) -> Result<Arc<Session>, ConnectorError> {
        if let Some(session) = self.current.read().await.clone() {
            return Ok(session);
        }
        self.replace(http, None, now).await
    }

    /// Replaces `stale` with a new session; when another task already replaced it, returns
    /// that one instead of logging in again.
    pub async fn replace(
        &self,
        http: &reqwest::Client,
        stale: Option<&Arc<Session>>,
        now: DateTime<Utc>,
    ) -> Result<Arc<Session>, ConnectorError> {
        let _single_flight = self.fetching.lock().await;
        let current = self.current.read().await.clone();
        if let Some(current) = current.filter(|c| stale.is_none_or(|s| !Arc::ptr_eq(s, c))) {
            return Ok(current);
        }
        let session = Arc::new(self.log_in(http, now).await?);
        *self.current.write().await = Some(session.clone());
        ::metrics::counter!(crate::metrics::CONNECTOR_REAUTH, "connector" => "salesforce")
            .increment(1);
        Ok(session)
    }

    async fn log_in(
        &self,
        http: &reqwest::Client,
        now: DateTime<Utc>,
    ) -> Result<Session, ConnectorError> {
        let form = grant_form(&self.auth, &self.login_url, now)?;
        let body = serde_urlencoded::to_string(&form).expect("a form encodes");
        let response = http
            .post(format!("{}/services/oauth2/token", self.login_url))
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|source| ConnectorError::network("salesforce", source))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            let error: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            // the connected app's grant is gone (revoked, user deactivated); a bad client id
            // or secret is a rejected credential instead. The OAuth error code only: a
            // description can name the user
            let revoked = error["error"] == "invalid_grant";
            let code = error["error"].as_str().unwrap_or_default();
            let message = format!("token endpoint answered {status}: {code}");
            return Err(ConnectorError::Auth { api: "salesforce", message, revoked });
        }
        // the parser's message may quote the token: left out
        let token: TokenResponse = serde_json::from_str(&text).map_err(|_| {
            ConnectorError::unreadable(
                "salesforce",
                status.as_u16(),
                "token response not as expected",
            )
        })?;
        tracing::debug!(instance_url = %token.instance_url, "salesforce session started");
        Ok(Session {
            access_token: SecretString::from(token.access_token),
            instance_url: token.instance_url.trim_end_matches('/').to_string(),
        })
    }
}

/// The token request's form fields for the configured grant.
pub fn grant_form(
    auth: &SalesforceAuth,
    login_url: &str,
    now: DateTime<Utc>,
) -> Result<Vec<(&'static str, String)>, ConnectorError> {
    Ok(match auth {
        SalesforceAuth::ClientCredentials { client_id, client_secret } => vec![
            ("grant_type", "client_credentials".into()),
            ("client_id", client_id.clone()),
            ("client_secret", client_secret.value().expose_secret().to_string()),
        ],
        SalesforceAuth::JwtBearer { client_id, username, private_key, audience } => {
            let claims = json!({
                "iss": client_id,
                "sub": username,
                "aud": audience.as_deref().unwrap_or(login_url),
                "exp": now.timestamp() + 180,
            });
            let assertion = sign_rs256(private_key.value().expose_secret(), &claims)?;
            vec![
                ("grant_type", "urn:ietf:params:oauth:grant-type:jwt-bearer".into()),
                ("assertion", assertion),
            ]
        }
    })
}

/// A compact JWT signed RS256 with a PKCS#8 PEM private key.
pub fn sign_rs256(
    private_key_pem: &str,
    claims: &serde_json::Value,
) -> Result<String, ConnectorError> {
    use rustls_pki_types::PrivatePkcs8KeyDer;
    use rustls_pki_types::pem::PemObject;
    let bad_key = |err: &dyn std::fmt::Display| {
        ConnectorError::Setup(format!("salesforce JWT private key: {err}"))
    };
    let der =
        PrivatePkcs8KeyDer::from_pem_slice(private_key_pem.as_bytes()).map_err(|e| bad_key(&e))?;
    let pair =
        ring::signature::RsaKeyPair::from_pkcs8(der.secret_pkcs8_der()).map_err(|e| bad_key(&e))?;
    let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"RS256"}"#);
    let payload = URL_SAFE_NO_PAD.encode(claims.to_string());
    let signed = format!("{header}.{payload}");
    let mut signature = vec![0; pair.public().modulus_len()];
    let rng = ring::rand::SystemRandom::new();
    pair.sign(&ring::signature::RSA_PKCS1_SHA256, &rng, signed.as_bytes(), &mut signature)
        .map_err(|e| bad_key(&e))?;
    Ok(format!("{signed}.{}", URL_SAFE_NO_PAD.encode(signature)))
}
