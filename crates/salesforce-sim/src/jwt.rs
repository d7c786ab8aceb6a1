//! Verifying a JWT bearer assertion: RS256 only, signed by the key of the configured
//! X.509 certificate, with Salesforce's claims (`iss`, `sub`, `aud`, `exp`).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, Duration, Utc};
use rustls_pki_types::CertificateDer;
use rustls_pki_types::pem::PemObject;
use serde::Deserialize;

/// The audiences Salesforce accepts (its login hosts); the simulator also accepts its own URL.
pub const AUDIENCES: &[&str] = &["https://login.salesforce.com", "https://test.salesforce.com"];

#[derive(Debug, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    pub aud: Audience,
    pub exp: i64,
}

#[derive(Debug, Deserialize)]
#[serde(untagged)]
pub enum Audience {
    One(String),
    Many(Vec<String>),
}

impl Audience {
    fn contains(&self, wanted: &str) -> bool {
        let same = |a: &str| a.trim_end_matches('/') == wanted.trim_end_matches('/');
        match self {
            Audience::One(a) => same(a),
            Audience::Many(all) => all.iter().any(|a| same(a)),
        }
    }
}

/// Why an assertion is refused; the token endpoint answers `invalid_grant` with this text.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum JwtError {
    #[error("invalid assertion")]
    Malformed,
    #[error("invalid assertion: only RS256 is supported")]
    Algorithm,
    #[error("invalid assertion: signature does not match the certificate")]
    Signature,
    #[error("invalid assertion: the configured certificate cannot be read")]
    Certificate,
    #[error("expired authorization code")]
    Expired,
    #[error("audience is invalid")]
    Audience,
}

/// The claims of `assertion`, if it is signed for `certificate_pem` and still valid.
pub fn verify(
    assertion: &str,
    certificate_pem: &str,
    own_audience: &str,
    now: DateTime<Utc>,
    skew: Duration,
) -> Result<Claims, JwtError> {
    let mut parts = assertion.split('.');
    let (Some(header), Some(payload), Some(signature), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(JwtError::Malformed);
    };
    check_algorithm(header)?;
    let signature = URL_SAFE_NO_PAD.decode(signature).map_err(|_| JwtError::Malformed)?;
    let signed = &assertion[..header.len() + 1 + payload.len()];
    check_signature(certificate_pem, signed.as_bytes(), &signature)?;
    let claims: Claims = decode_json(payload)?;
    if claims.exp + skew.num_seconds() < now.timestamp() {
        return Err(JwtError::Expired);
    }
    let audience_ok =
        AUDIENCES.iter().chain([&own_audience]).any(|wanted| claims.aud.contains(wanted));
    if !audience_ok {
        return Err(JwtError::Audience);
    }
    Ok(claims)
}

fn decode_json<T: serde::de::DeserializeOwned>(part: &str) -> Result<T, JwtError> {
    let bytes = URL_SAFE_NO_PAD.decode(part).map_err(|_| JwtError::Malformed)?;
    serde_json::from_slice(&bytes).map_err(|_| JwtError::Malformed)
}

fn check_algorithm(header: &str) -> Result<(), JwtError> {
    #[derive(Deserialize)]
    struct Header {
        alg: String,
    }
    let header: Header = decode_json(header)?;
    if header.alg != "RS256" {
        return Err(JwtError::Algorithm);
    }
    Ok(())
}

fn check_signature(certificate_pem: &str, signed: &[u8], signature: &[u8]) -> Result<(), JwtError> {
    let der = CertificateDer::from_pem_slice(certificate_pem.as_bytes())
        .map_err(|_| JwtError::Certificate)?;
    let certificate = webpki::EndEntityCert::try_from(&der).map_err(|_| JwtError::Certificate)?;
    certificate
        .verify_signature(webpki::ring::RSA_PKCS1_2048_8192_SHA256, signed, signature)
        .map_err(|_| JwtError::Signature)
}
