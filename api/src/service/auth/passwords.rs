//! Passwords as argon2id PHC strings, hashed and checked off the async threads.
use argon2::Argon2;
use argon2::password_hash::phc::PasswordHash;
use argon2::password_hash::{PasswordHasher, PasswordVerifier};

use crate::config::Secret;
use crate::error::ApiError;

/// argon2id with the crate's defaults (19 MiB, 2 passes), off the async threads.
pub async fn hash_password(password: Secret) -> Result<String, ApiError> {
    tokio::task::spawn_blocking(move || {
        Argon2::default()
            .hash_password(password.expose().as_bytes())
            .map(|hash| hash.to_string())
            .map_err(|err| ApiError::Internal(anyhow::anyhow!("hashing a password: {err}")))
    })
    .await
    .map_err(|err| ApiError::Internal(err.into()))?
}

/// Checks a password against a PHC string; `None` still spends the same effort, so an
/// unknown email takes as long to refuse as a wrong password.
pub(super) async fn verify_password(password: Secret, hash: Option<String>) -> bool {
    const DUMMY: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$yMOAKGuoOYePU3Zmm+xYrhqrLApDsWvUjdxN/vBhW2U";
    let known = hash.is_some();
    let hash = hash.unwrap_or_else(|| DUMMY.to_owned());
    tokio::task::spawn_blocking(move || {
        let Ok(parsed) = PasswordHash::new(&hash) else {
            return false;
        };
        let ok = Argon2::default()
            .verify_password(password.expose().as_bytes(), &parsed)
            .is_ok();
        ok && known
    })
    .await
    .unwrap_or(false)
}
