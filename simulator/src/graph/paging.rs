//! Cursor paging as Graph does it: `paging.cursors.{before,after}` are opaque,
//! `paging.next` is a full URL and is absent on the last page.

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::{Map, Value, json};

use super::error::{GraphError, GraphResult};

/// Where an item sits in a newest-first list: its time, then a tie-breaker.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key(pub i64, pub String);

impl Key {
    /// The opaque cursor for this position in a list of `kind`.
    pub fn cursor(&self, kind: &str) -> String {
        URL_SAFE_NO_PAD.encode(format!("{kind}:{}:{}", self.0, self.1))
    }

    fn decode(cursor: &str, kind: &str) -> GraphResult<Self> {
        let invalid = || GraphError::invalid_param("The parameter cursor is invalid");
        let raw = URL_SAFE_NO_PAD
            .decode(cursor.trim_end_matches('='))
            .map_err(|_| invalid())?;
        let text = String::from_utf8(raw).map_err(|_| invalid())?;
        let mut parts = text.splitn(3, ':');
        if parts.next() != Some(kind) {
            return Err(invalid());
        }
        let time = parts
            .next()
            .and_then(|t| t.parse().ok())
            .ok_or_else(invalid)?;
        let tie = parts.next().ok_or_else(invalid)?;
        Ok(Self(time, tie.to_owned()))
    }
}

/// Newest first: a larger key comes earlier.
fn list_order(a: &Key, b: &Key) -> Ordering {
    b.cmp(a)
}

/// The part of a list one call returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Window {
    /// First index, inclusive.
    pub start: usize,
    /// Last index, exclusive.
    pub end: usize,
    /// Items exist before `start`.
    pub more_before: bool,
    /// Items exist after `end`.
    pub more_after: bool,
}

/// Picks the window of a newest-first list of `keys` for `after`/`before` cursors.
pub fn window(
    keys: &[Key],
    kind: &str,
    after: Option<&str>,
    before: Option<&str>,
    limit: usize,
) -> GraphResult<Window> {
    let (start, end) = if let Some(after) = after {
        let cursor = Key::decode(after, kind)?;
        let start = keys.partition_point(|k| list_order(k, &cursor) != Ordering::Greater);
        (start, start.saturating_add(limit).min(keys.len()))
    } else if let Some(before) = before {
        let cursor = Key::decode(before, kind)?;
        let end = keys.partition_point(|k| list_order(k, &cursor) == Ordering::Less);
        (end.saturating_sub(limit), end)
    } else {
        (0, limit.min(keys.len()))
    };
    Ok(Window {
        start,
        end,
        more_before: start > 0,
        more_after: end < keys.len(),
    })
}

/// Builds `paging` for a window, with `next`/`previous` URLs to `base_path`.
pub struct PagingLinks<'a> {
    /// `http://host/v25.0/{node}/{edge}`.
    pub base_path: String,
    /// Token the caller used; Graph repeats it in `next`.
    pub token: &'a str,
    /// Other parameters to repeat, such as `fields` and `platform`.
    pub carried: Vec<(String, String)>,
    /// Page size.
    pub limit: usize,
}

impl PagingLinks<'_> {
    /// `paging`, or `None` for an empty page (Graph then sends only `data`).
    pub fn paging(&self, keys: &[Key], kind: &str, window: &Window) -> Option<Value> {
        if window.start >= window.end {
            return None;
        }
        let first = keys.get(window.start)?;
        let last = keys.get(window.end - 1)?;
        let (before, after) = (first.cursor(kind), last.cursor(kind));
        let mut paging = Map::new();
        paging.insert("cursors".into(), json!({"before": before, "after": after}));
        if window.more_after {
            paging.insert("next".into(), self.url("after", &after).into());
        }
        if window.more_before {
            paging.insert("previous".into(), self.url("before", &before).into());
        }
        Some(Value::Object(paging))
    }

    fn url(&self, direction: &str, cursor: &str) -> String {
        let mut query = url::form_urlencoded::Serializer::new(String::new());
        query.append_pair("access_token", self.token);
        for (key, value) in &self.carried {
            query.append_pair(key, value);
        }
        query.append_pair("limit", &self.limit.to_string());
        query.append_pair(direction, cursor);
        format!("{}?{}", self.base_path, query.finish())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(n: i64) -> Vec<Key> {
        (0..n).rev().map(|t| Key(t, format!("id{t}"))).collect()
    }

    #[test]
    fn after_cursor_continues_where_the_page_ended() {
        let keys = keys(7);
        let first = window(&keys, "c", None, None, 3).unwrap();
        assert_eq!((first.start, first.end, first.more_after), (0, 3, true));
        let after = keys[2].cursor("c");
        let second = window(&keys, "c", Some(&after), None, 3).unwrap();
        assert_eq!((second.start, second.end), (3, 6));
        let last = window(&keys, "c", Some(&keys[5].cursor("c")), None, 3).unwrap();
        assert_eq!((last.start, last.end, last.more_after), (6, 7, false));
        let back = window(&keys, "c", None, Some(&keys[3].cursor("c")), 2).unwrap();
        assert_eq!((back.start, back.end), (1, 3));
    }

    #[test]
    fn a_cursor_of_another_list_is_invalid() {
        let keys = keys(3);
        let foreign = keys[0].cursor("m");
        assert_eq!(
            window(&keys, "c", Some(&foreign), None, 2)
                .unwrap_err()
                .code,
            100
        );
        assert!(window(&keys, "c", Some("%%%"), None, 2).is_err());
    }
}
