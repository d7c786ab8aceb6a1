//! How HubSpot signs the requests it sends (fact sheet §10.5): v1 for CRM webhooks, v2 for
//! workflow actions and CRM cards, v3 for everything newer. The simulator signs its webhook
//! deliveries with v1 and v3; v2 is here for integrations that receive workflow actions.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

/// The percent-escapes HubSpot decodes in the request URI before signing it (v3); every
/// other escape stays as it is.
const DECODED_ESCAPES: [(&str, &str); 12] = [
    ("%3A", ":"),
    ("%2F", "/"),
    ("%3F", "?"),
    ("%40", "@"),
    ("%21", "!"),
    ("%24", "$"),
    ("%27", "'"),
    ("%28", "("),
    ("%29", ")"),
    ("%2A", "*"),
    ("%2C", ","),
    ("%3B", ";"),
];

/// `X-HubSpot-Signature` with version `v1`: `hex(sha256(client_secret + body))`.
pub fn sign_v1(client_secret: &str, body: &[u8]) -> String {
    hex_sha256(&[client_secret.as_bytes(), body])
}

/// `X-HubSpot-Signature` with version `v2`: `hex(sha256(client_secret + METHOD + URI + body))`,
/// the URI exactly as called.
pub fn sign_v2(client_secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    hex_sha256(&[client_secret.as_bytes(), method.as_bytes(), uri.as_bytes(), body])
}

/// `X-HubSpot-Signature-v3`: `base64(hmac_sha256(client_secret, METHOD + URI + body +
/// timestamp))`, the URI with [`DECODED_ESCAPES`] decoded and `timestamp` in epoch
/// milliseconds as sent in `X-HubSpot-Request-Timestamp`.
pub fn sign_v3(
    client_secret: &str,
    method: &str,
    uri: &str,
    body: &[u8],
    timestamp: &str,
) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(client_secret.as_bytes())
        .expect("HMAC takes a key of any length");
    mac.update(method.as_bytes());
    mac.update(signed_uri(uri).as_bytes());
    mac.update(body);
    mac.update(timestamp.as_bytes());
    STANDARD.encode(mac.finalize().into_bytes())
}

/// `uri` as v3 signs it.
fn signed_uri(uri: &str) -> String {
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        let decoded = DECODED_ESCAPES.iter().find(|(code, _)| code.eq_ignore_ascii_case(escape));
        match decoded {
            Some((code, plain)) => {
                out.push_str(plain);
                rest = &rest[at + code.len()..];
            }
            None => {
                out.push('%');
                rest = &rest[at + 1..];
            }
        }
    }
    out.push_str(rest);
    out
}

fn hex_sha256(parts: &[&[u8]]) -> String {
    let mut hasher = Sha256::new();
    for part in parts {
        hasher.update(part);
    }
    hasher.finalize().iter().map(|byte| format!("{byte:02x}")).collect()
}

#[cfg(test)]
mod tests {
    //! Pinned to the published vectors of the fact sheet (§10.5).
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const BODY: &str = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;
    const URI: &str = "https://www.example.com/webhook_uri";

    #[test]
    fn v1_matches_hubspots_published_vector() {
        assert_eq!(
            sign_v1(SECRET, BODY.as_bytes()),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
    }

    #[test]
    fn v2_matches_hubspots_published_vectors() {
        assert_eq!(
            sign_v2(SECRET, "GET", URI, b""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
        );
        assert_eq!(
            sign_v2(SECRET, "POST", URI, br#"{"example_field":"example_value"}"#),
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
        );
    }

    #[test]
    fn v3_matches_the_fact_sheets_vector() {
        assert_eq!(
            sign_v3(SECRET, "POST", URI, BODY.as_bytes(), "1700000000000"),
            "/pXDSgWeGksQpwCsgqd43P0eY6gBIse9UX0tfkudUrE="
        );
    }

    #[test]
    fn v3_decodes_only_the_listed_escapes_in_the_uri() {
        assert_eq!(
            signed_uri("https://h/a%3Ab%2Fc%20d?x=%26%3D&y=%40%2a%"),
            "https://h/a:b/c%20d?x=%26%3D&y=@*%"
        );
        let escaped = sign_v3(SECRET, "POST", "https://h/p%3Aq", b"", "1");
        assert_eq!(escaped, sign_v3(SECRET, "POST", "https://h/p:q", b"", "1"));
        assert_ne!(escaped, sign_v3(SECRET, "POST", "https://h/p%20q", b"", "1"));
    }
}
