//! JSON written the way Facebook writes webhook bodies: every non-ASCII character as a
//! `\uXXXX` escape (UTF-16, so emoji become surrogate pairs) and `/` as `\/`.
//! A receiver that re-serialises the parsed JSON before hashing gets a different
//! signature, which is exactly the mistake the simulator must expose.

use std::io;

use serde::Serialize;
use serde_json::ser::{Formatter, Serializer};

/// Serialises `value` as compact JSON with Facebook's escaping.
pub fn to_vec<T: Serialize + ?Sized>(value: &T) -> serde_json::Result<Vec<u8>> {
    let mut out = Vec::with_capacity(256);
    let mut serializer = Serializer::with_formatter(&mut out, FacebookFormatter);
    value.serialize(&mut serializer)?;
    Ok(out)
}

/// Compact output (the trait's defaults); string contents escaped like PHP's `json_encode`.
struct FacebookFormatter;

impl Formatter for FacebookFormatter {
    fn write_string_fragment<W: ?Sized + io::Write>(
        &mut self,
        writer: &mut W,
        fragment: &str,
    ) -> io::Result<()> {
        let mut plain_from = 0;
        for (at, ch) in fragment.char_indices() {
            if ch.is_ascii() && ch != '/' {
                continue;
            }
            writer.write_all(&fragment.as_bytes()[plain_from..at])?;
            if ch == '/' {
                writer.write_all(b"\\/")?;
            } else {
                let mut units = [0u16; 2];
                for unit in ch.encode_utf16(&mut units) {
                    write!(writer, "\\u{unit:04x}")?;
                }
            }
            plain_from = at + ch.len_utf8();
        }
        writer.write_all(&fragment.as_bytes()[plain_from..])
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn escapes_non_ascii_slashes_and_astral_characters() {
        let body = super::to_vec(&json!({"t": "äöå 😀 a/b \"q\"\n"})).unwrap();
        assert_eq!(
            String::from_utf8(body).unwrap(),
            r#"{"t":"\u00e4\u00f6\u00e5 \ud83d\ude00 a\/b \"q\"\n"}"#
        );
    }

    #[test]
    fn output_parses_back_to_the_same_value() {
        let value = json!({"entry": [{"id": "1", "n": 5, "s": "Jörg / Ñandú"}]});
        let body = super::to_vec(&value).unwrap();
        let back: serde_json::Value = serde_json::from_slice(&body).unwrap();
        assert_eq!(back, value);
    }
}
