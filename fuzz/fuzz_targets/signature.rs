//! Fuzzes `api::facebook::signature::verify` with an arbitrary secret, body and
//! `X-Hub-Signature-256` header.
//!
//! Properties, beyond "never panics":
//! - `sign` returns `sha256=` followed by 64 lowercase hex digits, and `verify` accepts it;
//! - `verify` returns `Ok` exactly when the header is `sha256=` (lowercase, as `sign` writes
//!   it) followed by the correct digest in hex, where each hex digit may be either case
//!   (`hex::decode_to_slice` accepts `A-F` as well as `a-f`);
//! - otherwise the error is the one the header deserves: `Missing` for no header,
//!   `Malformed` for anything not of the form `sha256=<64 hex digits>`, `Mismatch` else.
//!
//! Random headers almost never carry the right digest, so the header is structured: it is
//! either raw bytes or derived from the correct header (exact, re-cased, with one byte
//! changed, truncated, extended, or with another prefix), which reaches every branch.
#![no_main]

use api::facebook::signature::{SignatureError, sign, verify};
use arbitrary::Arbitrary;
use libfuzzer_sys::fuzz_target;

const PREFIX: &[u8] = b"sha256=";

#[derive(Arbitrary, Debug)]
enum Header {
    /// No header at all.
    Missing,
    /// Whatever bytes the fuzzer makes.
    Raw(Vec<u8>),
    /// Exactly what `sign` returns.
    Correct,
    /// The correct header with the hex digits whose bit is set in `mask` uppercased, and
    /// the prefix uppercased too when `prefix` is set.
    Recased { mask: u64, prefix: bool },
    /// The correct header with one byte XORed with `xor` (a no-op when `xor` is 0).
    OneByteChanged { index: u8, xor: u8 },
    /// The correct header cut to `len` bytes.
    Truncated { len: u8 },
    /// The correct header with bytes appended.
    Extended(Vec<u8>),
    /// The correct hex digest after another prefix.
    OtherPrefix(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    secret: Vec<u8>,
    body: Vec<u8>,
    header: Header,
}

fn is_hex_digit(b: &u8) -> bool {
    b.is_ascii_hexdigit()
}

fn build_header(header: &Header, correct: &[u8]) -> Option<Vec<u8>> {
    let mut h = correct.to_vec();
    match header {
        Header::Missing => return None,
        Header::Raw(bytes) => return Some(bytes.clone()),
        Header::Correct => {}
        Header::Recased { mask, prefix } => {
            for (i, b) in h[PREFIX.len()..].iter_mut().enumerate() {
                if mask >> i & 1 == 1 {
                    b.make_ascii_uppercase();
                }
            }
            if *prefix {
                h[..PREFIX.len()].make_ascii_uppercase();
            }
        }
        Header::OneByteChanged { index, xor } => {
            let i = usize::from(*index) % h.len();
            h[i] ^= xor;
        }
        Header::Truncated { len } => h.truncate(usize::from(*len)),
        Header::Extended(more) => h.extend_from_slice(more),
        Header::OtherPrefix(prefix) => {
            let mut other = prefix.clone();
            other.extend_from_slice(&correct[PREFIX.len()..]);
            h = other;
        }
    }
    Some(h)
}

fuzz_target!(|input: Input| {
    let correct = sign(&input.secret, &input.body);
    let correct = correct.as_bytes();

    // `sign` writes the canonical form, and `verify` accepts it.
    assert_eq!(correct.len(), PREFIX.len() + 64, "sign() = {correct:?}");
    assert!(correct.starts_with(PREFIX), "sign() = {correct:?}");
    assert!(
        correct[PREFIX.len()..]
            .iter()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(b)),
        "sign() = {correct:?}"
    );
    assert_eq!(verify(&input.secret, &input.body, Some(correct)), Ok(()));

    let header = build_header(&input.header, correct);
    let got = verify(&input.secret, &input.body, header.as_deref());

    let expected = match &header {
        None => Err(SignatureError::Missing),
        Some(h) => match h.strip_prefix(PREFIX) {
            Some(hex) if hex.len() == 64 && hex.iter().all(is_hex_digit) => {
                if hex.eq_ignore_ascii_case(&correct[PREFIX.len()..]) {
                    Ok(())
                } else {
                    Err(SignatureError::Mismatch)
                }
            }
            _ => Err(SignatureError::Malformed),
        },
    };
    assert_eq!(
        got,
        expected,
        "header {:?} (correct {:?})",
        header.as_deref().map(String::from_utf8_lossy),
        String::from_utf8_lossy(correct),
    );

    // The property in its plainest form: Ok implies the header is the correct one, up to
    // the case of its hex digits.
    if got.is_ok() {
        let h = header.as_deref().unwrap_or_default();
        assert!(h.len() == correct.len() && h.starts_with(PREFIX));
        assert!(h[PREFIX.len()..].eq_ignore_ascii_case(&correct[PREFIX.len()..]));
    }
});
