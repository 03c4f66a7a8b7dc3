//! Cursor paging as Graph does it: `paging.cursors.{before,after}` are opaque,
//! `paging.next` is a full URL and is absent on the last page.
//!
//! [`PagingMode`] makes it as rough as Graph API "Paginated Results" allows
//! (<https://developers.facebook.com/docs/graph-api/results>): a page may hold fewer
//! items than `limit` ("a query may return fewer than the value of limit due to
//! filtering"), may be empty and still carry `next`, `limit` has a maximum ("some edges
//! may also have a maximum on the limit value"; here 100, clamped, the links saying 100),
//! and cursors go stale ("your app shouldn't store cursors or assume that they will be
//! valid in the future"). The page documents no error for a stale cursor: the simulator
//! chooses code 100, [`GraphError::cursor_expired`].

use std::cmp::Ordering;

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use super::error::{GraphError, GraphResult};
use crate::time;

/// How rough paging is (`PUT /_sim/paging`); the default is Graph at its kindest: full pages.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct PagingMode {
    /// Pages hold at most this many items, whatever `limit` asked (the links keep `limit`).
    pub max_page: Option<usize>,
    /// Every page reached through a cursor is first answered empty, with a `next` that
    /// leads to its items.
    pub empty_pages: bool,
    /// Cursors older than this many seconds are refused as expired.
    pub cursor_ttl_secs: Option<u64>,
    /// The next this many calls that carry a cursor are refused as expired (then counted down).
    pub expire_next: u32,
}

/// Where an item sits in a newest-first list: its time, then a tie-breaker.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Key(pub i64, pub String);

/// A cursor taken apart.
struct Cursor {
    key: Key,
    issued_ms: i64,
    /// Issued by an empty page: answer the items now.
    hop: bool,
}

impl Key {
    /// The opaque cursor for this position in a list of `kind`.
    pub fn cursor(&self, kind: &str) -> String {
        self.encode(kind, false)
    }

    fn encode(&self, kind: &str, hop: bool) -> String {
        URL_SAFE_NO_PAD.encode(format!(
            "{kind}:{}:{}:{}:{}",
            self.0,
            time::now_ms(),
            u8::from(hop),
            self.1
        ))
    }
}

impl Cursor {
    fn decode(cursor: &str, kind: &str) -> GraphResult<Self> {
        let invalid = || GraphError::invalid_param("The parameter cursor is invalid");
        let raw = URL_SAFE_NO_PAD
            .decode(cursor.trim_end_matches('='))
            .map_err(|_| invalid())?;
        let text = String::from_utf8(raw).map_err(|_| invalid())?;
        let mut parts = text.splitn(5, ':');
        if parts.next() != Some(kind) {
            return Err(invalid());
        }
        let mut number = || {
            parts
                .next()
                .and_then(|t| t.parse::<i64>().ok())
                .ok_or_else(invalid)
        };
        let time = number()?;
        let issued_ms = number()?;
        let hop = number()? == 1;
        let tie = parts.next().ok_or_else(invalid)?;
        Ok(Self {
            key: Key(time, tie.to_owned()),
            issued_ms,
            hop,
        })
    }

    fn check_age(&self, mode: &PagingMode) -> GraphResult<()> {
        let Some(ttl) = mode.cursor_ttl_secs else {
            return Ok(());
        };
        let ttl_ms = i64::try_from(ttl.saturating_mul(1000)).unwrap_or(i64::MAX);
        if time::now_ms().saturating_sub(self.issued_ms) > ttl_ms {
            return Err(GraphError::cursor_expired());
        }
        Ok(())
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
    /// An empty page standing before the items from `start` (see [`PagingMode::empty_pages`]).
    pub hop_to: Option<Key>,
}

/// Picks the window of a newest-first list of `keys` for `after`/`before` cursors.
pub fn window(
    keys: &[Key],
    kind: &str,
    after: Option<&str>,
    before: Option<&str>,
    limit: usize,
    mode: &PagingMode,
) -> GraphResult<Window> {
    let limit = mode.max_page.map_or(limit, |max| limit.min(max.max(1)));
    let (start, end) = if let Some(after) = after {
        let cursor = Cursor::decode(after, kind)?;
        cursor.check_age(mode)?;
        let start = keys.partition_point(|k| list_order(k, &cursor.key) != Ordering::Greater);
        if mode.empty_pages && !cursor.hop && start < keys.len() {
            return Ok(Window {
                start,
                end: start,
                more_before: start > 0,
                more_after: true,
                hop_to: Some(cursor.key),
            });
        }
        (start, start.saturating_add(limit).min(keys.len()))
    } else if let Some(before) = before {
        let cursor = Cursor::decode(before, kind)?;
        cursor.check_age(mode)?;
        let end = keys.partition_point(|k| list_order(k, &cursor.key) == Ordering::Less);
        (end.saturating_sub(limit), end)
    } else {
        (0, limit.min(keys.len()))
    };
    Ok(Window {
        start,
        end,
        more_before: start > 0,
        more_after: end < keys.len(),
        hop_to: None,
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
        if let Some(key) = &window.hop_to {
            // An empty page with a way on: Graph's paging doc allows it and says to follow `next`.
            let mut paging = Map::new();
            paging.insert(
                "next".into(),
                self.url("after", &key.encode(kind, true)).into(),
            );
            return Some(Value::Object(paging));
        }
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

    const KIND: PagingMode = PagingMode {
        max_page: None,
        empty_pages: false,
        cursor_ttl_secs: None,
        expire_next: 0,
    };

    fn window(
        keys: &[Key],
        kind: &str,
        after: Option<&str>,
        before: Option<&str>,
        limit: usize,
    ) -> GraphResult<Window> {
        super::window(keys, kind, after, before, limit, &KIND)
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

    #[test]
    fn short_pages_hold_at_most_max_page_items() {
        let keys = keys(7);
        let mode = PagingMode {
            max_page: Some(2),
            ..KIND
        };
        let first = super::window(&keys, "c", None, None, 25, &mode).unwrap();
        assert_eq!((first.start, first.end, first.more_after), (0, 2, true));
    }

    #[test]
    fn empty_pages_lead_on_to_the_items() {
        let keys = keys(5);
        let mode = PagingMode {
            empty_pages: true,
            ..KIND
        };
        let after = keys[1].cursor("c");
        let empty = super::window(&keys, "c", Some(&after), None, 2, &mode).unwrap();
        assert_eq!((empty.start, empty.end, empty.more_after), (2, 2, true));
        let hop = empty.hop_to.clone().unwrap().encode("c", true);
        let items = super::window(&keys, "c", Some(&hop), None, 2, &mode).unwrap();
        assert_eq!((items.start, items.end), (2, 4));
        let links = PagingLinks {
            base_path: "http://x/v25.0/1/conversations".into(),
            token: "t",
            carried: Vec::new(),
            limit: 2,
        };
        let paging = links.paging(&keys, "c", &empty).unwrap();
        assert!(paging["next"].as_str().unwrap().contains("after="));
    }

    #[test]
    fn an_old_cursor_is_refused_as_expired() {
        let keys = keys(3);
        let mode = PagingMode {
            cursor_ttl_secs: Some(60),
            ..KIND
        };
        let old = URL_SAFE_NO_PAD.encode(format!("c:1:{}:0:id1", time::now_ms() - 61_000));
        let error = super::window(&keys, "c", Some(&old), None, 2, &mode).unwrap_err();
        assert_eq!(error.code, 100);
        assert!(super::window(&keys, "c", Some(&keys[0].cursor("c")), None, 2, &mode).is_ok());
    }
}
