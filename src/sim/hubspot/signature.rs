//! HubSpot's webhook request signatures: v1 (`sha256(secret + body)`), v2 (adds method and
//! URI) and v3 (HMAC-SHA256 over method, URI, body and timestamp, base64).

use base64::Engine;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// `X-HubSpot-Signature` with `X-HubSpot-Signature-Version: v1`.
pub fn v1(client_secret: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(client_secret.as_bytes());
    hasher.update(body);
    hex(&hasher.finalize())
}

/// Version 2: `hex(sha256(secret + METHOD + URI + body))`.
pub fn v2(client_secret: &str, method: &str, uri: &str, body: &[u8]) -> String {
    let mut hasher = Sha256::new();
    hasher.update(client_secret.as_bytes());
    hasher.update(method.as_bytes());
    hasher.update(uri.as_bytes());
    hasher.update(body);
    hex(&hasher.finalize())
}

/// Decodes only the percent-escapes HubSpot decodes before signing.
pub fn v3_uri(uri: &str) -> String {
    const DECODED: &[(&str, &str)] = &[
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
    let mut out = String::with_capacity(uri.len());
    let mut rest = uri;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let escape = rest.get(at..at + 3).unwrap_or(&rest[at..]);
        match DECODED.iter().find(|(code, _)| code.eq_ignore_ascii_case(escape)) {
            Some((_, plain)) => out.push_str(plain),
            None => out.push_str(escape),
        }
        rest = &rest[at + escape.len()..];
    }
    out.push_str(rest);
    out
}

/// `X-HubSpot-Signature-v3` for a request to `uri` sent at `timestamp_ms`.
pub fn v3(client_secret: &str, method: &str, uri: &str, body: &[u8], timestamp_ms: i64) -> String {
    let mut mac =
        Hmac::<Sha256>::new_from_slice(client_secret.as_bytes()).expect("HMAC takes any key");
    mac.update(method.as_bytes());
    mac.update(v3_uri(uri).as_bytes());
    mac.update(body);
    mac.update(timestamp_ms.to_string().as_bytes());
    base64::engine::general_purpose::STANDARD.encode(mac.finalize().into_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "yyyyyyyy-yyyy-yyyy-yyyy-yyyyyyyyyyyy";
    const BODY: &str = r#"[{"eventId":1,"subscriptionId":12345,"portalId":62515,"occurredAt":1564113600000,"subscriptionType":"contact.creation","attemptNumber":0,"objectId":123,"changeSource":"CRM","changeFlag":"NEW","appId":54321}]"#;

    #[test]
    fn the_v1_vector_from_hubspots_docs_verifies() {
        assert_eq!(
            v1(SECRET, BODY.as_bytes()),
            "232db2615f3d666fe21a8ec971ac7b5402d33b9a925784df3ca654d05f4817de"
        );
    }

    #[test]
    fn the_v2_vectors_verify() {
        let uri = "https://www.example.com/webhook_uri";
        assert_eq!(
            v2(SECRET, "GET", uri, b""),
            "eee2dddcc73c94d699f5e395f4b9d454a069a6855fbfa152e91e88823087200e"
        );
        assert_eq!(
            v2(SECRET, "POST", uri, br#"{"example_field":"example_value"}"#),
            "9569219f8ba981ffa6f6f16aa0f48637d35d728c7e4d93d0d52efaa512af7900"
        );
    }

    #[test]
    fn the_v3_vector_verifies() {
        let signature = v3(
            SECRET,
            "POST",
            "https://www.example.com/webhook_uri",
            BODY.as_bytes(),
            1700000000000,
        );
        assert_eq!(signature, "/pXDSgWeGksQpwCsgqd43P0eY6gBIse9UX0tfkudUrE=");
    }

    #[test]
    fn v3_decodes_only_the_listed_escapes() {
        assert_eq!(v3_uri("https://x.io/a%3Ab%20c?q=%40d%26e"), "https://x.io/a:b%20c?q=@d%26e");
    }
}
