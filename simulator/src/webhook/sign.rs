//! `X-Hub-Signature-256`: HMAC-SHA256 over the exact body bytes, keyed with the App Secret.

use hmac::{Hmac, KeyInit, Mac};
use sha2::Sha256;

/// The header value for `body`: `sha256=` and 64 lowercase hex digits.
pub fn signature(secret: &str, body: &[u8]) -> String {
    // HMAC accepts keys of any length, so this branch is never taken.
    let Ok(mut mac) = Hmac::<Sha256>::new_from_slice(secret.as_bytes()) else {
        return String::new();
    };
    mac.update(body);
    format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
}

#[cfg(test)]
mod tests {
    #[test]
    fn matches_rfc_4231_case_2() {
        assert_eq!(
            super::signature("Jefe", b"what do ya want for nothing?"),
            "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
        );
    }
}
