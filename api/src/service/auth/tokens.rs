//! Bearer tokens: 32 random bytes behind a prefix that says what they open, shown once and
//! stored only as their SHA-256.
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};

use crate::config::Secret;
use crate::error::ApiError;

/// A sign-in session's token starts with this.
pub(super) const SESSION_PREFIX: &str = "mfs_";
/// An integration's API token starts with this.
pub(super) const API_TOKEN_PREFIX: &str = "mfa_";

/// What is stored of a token, and looked up by.
pub(super) fn sha256_hex(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A new token with `prefix`, from the operating system's randomness.
pub(super) fn new_token(prefix: &str) -> Result<Secret, ApiError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes)
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("no randomness: {err}")))?;
    Ok(Secret::new(format!(
        "{prefix}{}",
        URL_SAFE_NO_PAD.encode(bytes)
    )))
}

/// A password for an administrator to hand on: 18 random bytes, 24 characters.
pub fn generate_password() -> Result<Secret, ApiError> {
    let mut bytes = [0u8; 18];
    getrandom::fill(&mut bytes)
        .map_err(|err| ApiError::Internal(anyhow::anyhow!("no randomness: {err}")))?;
    Ok(Secret::new(URL_SAFE_NO_PAD.encode(bytes)))
}
