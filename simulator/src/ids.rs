//! Random identifiers shaped like Facebook's.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::Rng;

/// A numeric id such as a PSID or Page id.
pub fn numeric(digits: usize) -> String {
    let mut rng = rand::rng();
    let mut id = String::with_capacity(digits);
    id.push(char::from(b'1' + rng.random_range(0..9u8)));
    for _ in 1..digits {
        id.push(char::from(b'0' + rng.random_range(0..10u8)));
    }
    id
}

/// Random URL-safe characters.
pub fn token_chars(bytes: usize) -> String {
    let mut raw = vec![0u8; bytes];
    rand::rng().fill(raw.as_mut_slice());
    URL_SAFE_NO_PAD.encode(raw)
}

/// A message id, `m_` and 86 characters, like the Send API's.
pub fn mid() -> String {
    format!("m_{}", token_chars(64))
}

/// A conversation id, `t_` and digits.
pub fn conversation_id() -> String {
    format!("t_{}", numeric(16))
}

/// A Page access token: `EAA` and random characters.
pub fn page_token() -> String {
    format!("EAAG{}", token_chars(90).replace(['-', '_'], "Z"))
}

/// The support identifier in every error body.
pub fn fbtrace_id() -> String {
    token_chars(8)
}
