//! HubSpot credentials: a private app's static token, or OAuth access tokens refreshed
//! before they expire and once more when HubSpot calls one expired.

use std::time::Duration;

use chrono::{DateTime, Utc};
use secrecy::{ExposeSecret, SecretString};
use serde::Deserialize;
use tokio::sync::Mutex;

use crate::config::HubspotAuth;
use crate::connector::{Clock, ConnectorError};

/// Refresh this long before the token's stated expiry.
const REFRESH_MARGIN: Duration = Duration::from_secs(120);

struct Issued {
    token: SecretString,
    expires_at: DateTime<Utc>,
}

pub(super) struct OAuth {
    client_id: String,
    client_secret: SecretString,
    refresh_token: Mutex<SecretString>,
    token_url: String,
    current: Mutex<Option<Issued>>,
}

/// Where bearer tokens come from.
pub(super) enum Credentials {
    Static(SecretString),
    OAuth(Box<OAuth>),
}

#[derive(Deserialize)]
struct TokenResponse {
    access_token: String,
    #[serde(default)]
    refresh_token: Option<String>,
    expires_in: u64,
}

impl Credentials {
    pub fn new(auth: &HubspotAuth, base_url: &str) -> Self {
        match auth {
            HubspotAuth::PrivateApp { token } => Credentials::Static(token.value().clone()),
            HubspotAuth::Oauth { client_id, client_secret, refresh_token } => {
                Credentials::OAuth(Box::new(OAuth {
                    client_id: client_id.clone(),
                    client_secret: client_secret.value().clone(),
                    refresh_token: Mutex::new(refresh_token.value().clone()),
                    token_url: format!("{}/oauth/v1/token", base_url.trim_end_matches('/')),
                    current: Mutex::new(None),
                }))
            }
        }
    }

    pub fn is_oauth(&self) -> bool {
        matches!(self, Credentials::OAuth(_))
    }

    /// The bearer token for the next request, refreshed first when it is about to expire.
    /// Concurrent callers wait for one refresh.
    pub async fn bearer(
        &self,
        http: &reqwest::Client,
        clock: &Clock,
    ) -> Result<SecretString, ConnectorError> {
        let oauth = match self {
            Credentials::Static(token) => return Ok(token.clone()),
            Credentials::OAuth(oauth) => oauth,
        };
        let mut current = oauth.current.lock().await;
        let now = clock();
        let fresh = current.as_ref().filter(|issued| {
            issued.expires_at - chrono::Duration::from_std(REFRESH_MARGIN).expect("margin") > now
        });
        if let Some(issued) = fresh {
            return Ok(issued.token.clone());
        }
        let issued = oauth.refresh(http, now).await?;
        let token = issued.token.clone();
        *current = Some(issued);
        Ok(token)
    }

    /// Drops `rejected` so the next [`Credentials::bearer`] refreshes; a token another task
    /// already replaced is left alone.
    pub async fn reject(&self, rejected: &SecretString) {
        if let Credentials::OAuth(oauth) = self {
            let mut current = oauth.current.lock().await;
            if current.as_ref().is_some_and(|c| c.token.expose_secret() == rejected.expose_secret())
            {
                *current = None;
            }
        }
    }
}

impl OAuth {
    async fn refresh(
        &self,
        http: &reqwest::Client,
        now: DateTime<Utc>,
    ) -> Result<Issued, ConnectorError> {
        let refresh_token = self.refresh_token.lock().await.clone();
        let form = [
            ("grant_type", "refresh_token"),
            ("client_id", self.client_id.as_str()),
            ("client_secret", self.client_secret.expose_secret()),
            ("refresh_token", refresh_token.expose_secret()),
        ];
        let body = serde_urlencoded::to_string(form).expect("a form encodes");
        let response = http
            .post(&self.token_url)
            .header("content-type", "application/x-www-form-urlencoded")
            .body(body)
            .send()
            .await
            .map_err(|source| ConnectorError::network("hubspot", source))?;
        let status = response.status();
        let text = response.text().await.unwrap_or_default();
        if !status.is_success() {
            // the OAuth error code only: the rest of the body is not ours to log. HubSpot
            // answers BAD_REFRESH_TOKEN for a refresh token it no longer knows (the app was
            // uninstalled or the grant revoked)
            let error: serde_json::Value = serde_json::from_str(&text).unwrap_or_default();
            let code = error["error"].as_str().or(error["category"].as_str()).unwrap_or_default();
            let revoked = ["BAD_REFRESH_TOKEN", "invalid_grant"].iter().any(|c| text.contains(c));
            return Err(ConnectorError::Auth {
                api: "hubspot",
                message: format!("token refresh answered {status}: {code}"),
                revoked,
            });
        }
        // the parser's message may quote the token: left out
        let token: TokenResponse = serde_json::from_str(&text).map_err(|_| {
            ConnectorError::unreadable("hubspot", status.as_u16(), "token response not as expected")
        })?;
        if let Some(rotated) = token.refresh_token {
            *self.refresh_token.lock().await = SecretString::from(rotated);
        }
        ::metrics::counter!(crate::metrics::CONNECTOR_REAUTH, "connector" => "hubspot")
            .increment(1);
        tracing::debug!(expires_in = token.expires_in, "hubspot access token refreshed");
        let lifetime = chrono::Duration::seconds(token.expires_in as i64);
        Ok(Issued { token: SecretString::from(token.access_token), expires_at: now + lifetime })
    }
}

/// A key naming the app in one portal, so limiters are shared per app and portal, not per
/// connector. A private app's token belongs to one portal; an OAuth (public) app can be
/// installed on many, and each installation has its own refresh token, so both name it.
pub(super) fn app_key(auth: &HubspotAuth) -> String {
    use sha2::Digest;
    let material = match auth {
        HubspotAuth::PrivateApp { token } => token.value().expose_secret().to_string(),
        HubspotAuth::Oauth { client_id, refresh_token, .. } => {
            format!("{client_id}\n{}", refresh_token.value().expose_secret())
        }
    };
    let digest = sha2::Sha256::digest(material.as_bytes());
    digest.iter().take(8).map(|b| format!("{b:02x}")).collect()
}

/// The start of an error body, for messages (never a token: bodies here are HubSpot's).
pub(super) fn short(text: &str) -> &str {
    let end = text.char_indices().nth(300).map_or(text.len(), |(i, _)| i);
    &text[..end]
}
