//! Bearer-token authentication for the admin API, with `read` and `operate` scopes.
//! Tokens are compared through their SHA-256 digests in constant time.

use std::sync::Arc;

use axum::extract::{FromRequestParts, State};
use axum::http::header::AUTHORIZATION;
use axum::http::request::Parts;
use secrecy::ExposeSecret;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::error::ApiError;
use crate::config::{AdminToken, TokenScope};

/// The configured tokens, kept as digests.
#[derive(Clone, Default)]
pub struct Tokens {
    known: Arc<Vec<(String, TokenScope, [u8; 32])>>,
}

impl Tokens {
    pub fn from_settings(tokens: &[AdminToken]) -> Self {
        let known = tokens
            .iter()
            .map(|t| (t.name.clone(), t.scope, digest(t.token.value().expose_secret())))
            .collect();
        Tokens { known: Arc::new(known) }
    }

    /// The holder and scope of `presented`, checking every token so timing tells nothing.
    fn identify(&self, presented: &str) -> Option<Caller> {
        let presented = digest(presented);
        let mut found = None;
        for (name, scope, known) in self.known.iter() {
            if bool::from(known.ct_eq(&presented)) {
                found = Some(Caller { name: name.clone(), scope: *scope });
            }
        }
        found
    }
}

fn digest(text: &str) -> [u8; 32] {
    Sha256::digest(text.as_bytes()).into()
}

/// Who is calling, and what they may do.
#[derive(Debug, Clone)]
pub struct Caller {
    pub name: String,
    pub scope: TokenScope,
}

impl Caller {
    /// The actor recorded in the audit trail.
    pub fn actor(&self) -> String {
        format!("token:{}", self.name)
    }

    /// Refuses with 403 unless the caller may operate.
    pub fn must_operate(&self, what: &'static str) -> Result<(), ApiError> {
        match self.scope {
            TokenScope::Operate => Ok(()),
            TokenScope::Read => Err(ApiError::Forbidden(what)),
        }
    }
}

impl<S> FromRequestParts<S> for Caller
where
    Tokens: axum::extract::FromRef<S>,
    S: Send + Sync,
{
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, Self::Rejection> {
        let State(tokens) = State::<Tokens>::from_request_parts(parts, state)
            .await
            .map_err(|_| ApiError::Unauthorized)?;
        let header = parts.headers.get(AUTHORIZATION).and_then(|v| v.to_str().ok());
        let presented = header.and_then(|h| h.strip_prefix("Bearer ")).map(str::trim);
        presented.and_then(|token| tokens.identify(token)).ok_or(ApiError::Unauthorized)
    }
}
