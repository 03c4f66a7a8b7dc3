//! Page access tokens: what each one grants, when it expires, and why it stopped working.
//!
//! What the documentation says, and what the simulator does with it:
//! - Lifetimes ([Long-Lived Access Tokens](https://developers.facebook.com/docs/facebook-login/guides/access-tokens/get-long-lived)):
//!   "Default User and Page access tokens are short-lived, expiring in hours"; a long-lived
//!   User token lasts about 60 days, and a Page token got with one has no expiry date. A
//!   token is issued without expiry unless given `expires_at` (seconds since the epoch);
//!   `POST /_sim/pages/{id}/token/expire` makes the Page's token expire now.
//! - Invalidation ([Debugging and Error Handling](https://developers.facebook.com/docs/facebook-login/access-tokens/debugging-and-error-handling)
//!   and [Handling Errors](https://developers.facebook.com/docs/graph-api/guides/error-handling)):
//!   "access tokens may be invalidated before the expected expiration time", and a call
//!   with such a token answers code 190 with the subcode of the cause: 463 expired, 460 the
//!   password changed, 458 the app was removed (not installed any more). The simulator
//!   answers each with that subcode (`POST /_sim/pages/{id}/revoke {"reason": ...}`).
//! - A new token: "This will be a different string than the original token, so if you're
//!   storing these tokens, replace the old one" (Long-Lived Access Tokens). Whether the old
//!   one keeps working the documentation does not say; the simulator's choice is the
//!   stricter one: issuing a Page a new token revokes its old ones, which answer 190 with
//!   subcode 466 ("the session was invalidated explicitly"), the documented subcode closest
//!   to it.
//! - Permissions: a token carries the permissions the Page's admin granted the app
//!   (`debug_token`'s `scopes`; `/me/permissions`). By default every permission a Messenger
//!   inbox needs; `PUT /_sim/pages/{id}/permissions` changes them, as when the admin
//!   removes one in their settings (it applies to the Page's tokens at once).

use std::collections::HashMap;

use serde::{Deserialize, Serialize};

use crate::graph::error::GraphError;

/// What a Page's admin grants the app unless told otherwise.
pub const DEFAULT_SCOPES: &[&str] = &[
    "pages_show_list",
    "pages_messaging",
    "pages_manage_metadata",
    "pages_read_engagement",
];

/// Why a token stopped working before its time.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Invalidation {
    /// The admin changed their password (or Facebook reset the session): subcode 460.
    PasswordChanged,
    /// The admin removed the app: subcode 458.
    AppRemoved,
    /// The Page was issued a newer token: subcode 466 (the simulator's choice).
    Replaced,
}

/// One issued token.
#[derive(Clone, Debug)]
struct Issued {
    page_id: String,
    issued_at: i64,
    expires_at: Option<i64>,
    invalidated: Option<Invalidation>,
}

/// Permissions of the Page's admin for the app.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(deny_unknown_fields)]
pub struct Grant {
    /// Granted permissions.
    #[serde(default)]
    pub granted: Vec<String>,
    /// Permissions the admin declined (listed by `/me/permissions` as `declined`).
    #[serde(default)]
    pub declined: Vec<String>,
}

impl Default for Grant {
    fn default() -> Self {
        Self {
            granted: DEFAULT_SCOPES.iter().map(|s| (*s).to_owned()).collect(),
            declined: Vec::new(),
        }
    }
}

/// What a token is, as `debug_token` reports it.
#[derive(Clone, Debug)]
pub struct TokenView {
    /// The Page it opens.
    pub page_id: String,
    /// Seconds since the epoch.
    pub issued_at: i64,
    /// Seconds since the epoch; `None`: never.
    pub expires_at: Option<i64>,
    /// Why it does not work (now), if it does not.
    pub error: Option<GraphError>,
}

/// Every token the simulator issued, and each Page's grant.
#[derive(Debug, Default)]
pub struct Tokens {
    issued: HashMap<String, Issued>,
    grants: HashMap<String, Grant>,
}

impl Tokens {
    /// Forgets everything.
    pub fn reset(&mut self) {
        *self = Self::default();
    }

    /// Records a new token of `page_id`; the Page's earlier tokens are revoked.
    pub fn issued(&mut self, token: &str, page_id: &str, now_s: i64, expires_at: Option<i64>) {
        for (other, issued) in &mut self.issued {
            if issued.page_id == page_id && other != token && issued.invalidated.is_none() {
                issued.invalidated = Some(Invalidation::Replaced);
            }
        }
        self.issued.insert(
            token.to_owned(),
            Issued {
                page_id: page_id.to_owned(),
                issued_at: now_s,
                expires_at,
                invalidated: None,
            },
        );
    }

    /// The Page's current token stops working for `why`.
    pub fn invalidate(&mut self, token: &str, why: Invalidation) {
        if let Some(issued) = self.issued.get_mut(token) {
            issued.invalidated = Some(why);
        }
    }

    /// The token expires at `at` (seconds since the epoch).
    pub fn expire(&mut self, token: &str, at: i64) {
        if let Some(issued) = self.issued.get_mut(token) {
            issued.expires_at = Some(at);
        }
    }

    /// What the token is now; `None` for a token the simulator does not know the details
    /// of (created before it kept them: treated as valid for ever).
    pub fn view(&self, token: &str, now_s: i64, app_id: u64) -> Option<TokenView> {
        let issued = self.issued.get(token)?;
        let error = match (issued.invalidated, issued.expires_at) {
            (Some(why), _) => Some(invalidated(why, app_id)),
            (None, Some(at)) if at <= now_s => Some(expired(at, now_s)),
            (None, _) => None,
        };
        Some(TokenView {
            page_id: issued.page_id.clone(),
            issued_at: issued.issued_at,
            expires_at: issued.expires_at,
            error,
        })
    }

    /// The Page's grant.
    pub fn grant(&self, page_id: &str) -> Grant {
        self.grants.get(page_id).cloned().unwrap_or_default()
    }

    /// Replaces the Page's grant.
    pub fn set_grant(&mut self, page_id: &str, grant: Grant) {
        self.grants.insert(page_id.to_owned(), grant);
    }
}

fn token_error(subcode: u32, message: String) -> GraphError {
    let mut error = GraphError::invalid_token();
    error.subcode = Some(subcode);
    error.message = message;
    error
}

/// 190/463, worded as the Debugging and Error Handling page shows it.
fn expired(at: i64, now_s: i64) -> GraphError {
    let when = |s: i64| {
        chrono::DateTime::<chrono::Utc>::from_timestamp(s, 0)
            .unwrap_or_default()
            .format("%A, %d-%b-%y %H:%M:%S UTC")
            .to_string()
    };
    token_error(
        463,
        format!(
            "Error validating access token: Session has expired on {}. The current time is {}.",
            when(at),
            when(now_s)
        ),
    )
}

fn invalidated(why: Invalidation, app_id: u64) -> GraphError {
    match why {
        Invalidation::PasswordChanged => GraphError::revoked_token(),
        Invalidation::AppRemoved => token_error(
            458,
            format!(
                "Error validating access token: The user has not authorized application {app_id}."
            ),
        ),
        Invalidation::Replaced => token_error(
            466,
            "Error validating access token: The session was invalidated explicitly: a newer access token was issued for this Page."
                .to_owned(),
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::{Invalidation, Tokens};

    #[test]
    fn a_new_token_revokes_the_old_one_and_expiry_is_by_the_clock() {
        let mut tokens = Tokens::default();
        tokens.issued("old", "p", 100, None);
        tokens.issued("new", "p", 200, Some(300));
        tokens.issued("other", "q", 200, None);

        let old = tokens.view("old", 250, 1).and_then(|v| v.error);
        assert_eq!(old.map(|e| (e.code, e.subcode)), Some((190, Some(466))));
        assert!(tokens.view("new", 299, 1).and_then(|v| v.error).is_none());
        let expired = tokens.view("new", 300, 1).and_then(|v| v.error);
        assert_eq!(expired.map(|e| e.subcode), Some(Some(463)));
        assert!(tokens.view("other", 250, 1).and_then(|v| v.error).is_none());
        tokens.invalidate("other", Invalidation::AppRemoved);
        let removed = tokens.view("other", 250, 1).and_then(|v| v.error);
        assert_eq!(removed.map(|e| e.subcode), Some(Some(458)));
    }
}
