//! `X-Hub-Signature-256`: HMAC-SHA256 of the raw body bytes, keyed with the App Secret.
//! Facebook signs the bytes as sent (non-ASCII escaped as `\uXXXX`), so the check runs on
//! the exact bytes received, before any parsing, and compares in constant time.
use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Why a delivery's signature was refused.
#[derive(Debug, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing X-Hub-Signature-256 header")]
    Missing,
    #[error("X-Hub-Signature-256 is not of the form sha256=<64 hex digits>")]
    Malformed,
    #[error("X-Hub-Signature-256 does not match the body")]
    Mismatch,
}

/// Checks `header` (`sha256=<hex>`, or `None` when absent) against `body`.
pub fn verify(secret: &[u8], body: &[u8], header: Option<&[u8]>) -> Result<(), SignatureError> {
    let header = header.ok_or(SignatureError::Missing)?;
    let hex_digest = header
        .strip_prefix(b"sha256=")
        .ok_or(SignatureError::Malformed)?;
    let mut expected = [0u8; 32];
    hex::decode_to_slice(hex_digest, &mut expected).map_err(|_| SignatureError::Malformed)?;
    let mut mac = HmacSha256::new_from_slice(secret).map_err(|_| SignatureError::Mismatch)?;
    mac.update(body);
    mac.verify_slice(&expected)
        .map_err(|_| SignatureError::Mismatch)
}

/// The header value Facebook would send for `body`: for the simulator and tests.
pub fn sign(secret: &[u8], body: &[u8]) -> String {
    // HMAC takes keys of any length; this cannot fail.
    let mut mac = match HmacSha256::new_from_slice(secret) {
        Ok(mac) => mac,
        Err(_) => return String::new(),
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_signature_made_with_the_secret_verifies() {
        let body = br#"{"object":"page","entry":[]}"#;
        let header = sign(b"s3cret", body);
        assert_eq!(verify(b"s3cret", body, Some(header.as_bytes())), Ok(()));
    }

    #[test]
    fn a_known_vector_verifies() {
        // RFC 4231 test case 2: key "Jefe".
        let header = "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
        let body = b"what do ya want for nothing?";
        assert_eq!(verify(b"Jefe", body, Some(header.as_bytes())), Ok(()));
    }

    #[test]
    fn tampering_missing_and_malformed_headers_are_refused() {
        let body = b"{}";
        let header = sign(b"k", body);
        assert_eq!(
            verify(b"k", b"{ }", Some(header.as_bytes())),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(
            verify(b"other", body, Some(header.as_bytes())),
            Err(SignatureError::Mismatch)
        );
        assert_eq!(verify(b"k", body, None), Err(SignatureError::Missing));
        let sha1 = header.replace("sha256=", "sha1=");
        assert_eq!(
            verify(b"k", body, Some(sha1.as_bytes())),
            Err(SignatureError::Malformed)
        );
        assert_eq!(
            verify(b"k", body, Some(b"sha256=zz")),
            Err(SignatureError::Malformed)
        );
        let short = &header[..header.len() - 2];
        assert_eq!(
            verify(b"k", body, Some(short.as_bytes())),
            Err(SignatureError::Malformed)
        );
    }
}
