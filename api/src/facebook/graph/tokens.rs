//! What Facebook says about a token: `debug_token` and `/me/permissions` (checked by
//! `connectPage` before it stores a token).
use serde::Deserialize;

use super::shapes::GraphPage;
use super::{GraphClient, GraphError, Patience};
use crate::config::Secret;

/// `debug_token`'s `data`.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenInfo {
    #[serde(default)]
    pub is_valid: bool,
    /// `PAGE`, `USER`, `APP`...
    #[serde(rename = "type")]
    pub kind: Option<String>,
    /// For a Page token: the Page.
    pub profile_id: Option<String>,
    #[serde(default)]
    pub scopes: Vec<String>,
    /// Seconds since the epoch; 0 for a token that does not expire.
    pub expires_at: Option<i64>,
    /// Why the token does not work, when `is_valid` is false.
    pub error: Option<TokenInfoError>,
}

/// The error Graph would answer for an invalid token.
#[derive(Clone, Debug, Deserialize)]
pub struct TokenInfoError {
    pub code: Option<i64>,
    pub subcode: Option<i64>,
}

#[derive(Deserialize)]
struct DebugToken {
    data: TokenInfo,
}

/// One entry of `/me/permissions`.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct Permission {
    pub permission: String,
    /// `granted`, `declined` or `expired`.
    pub status: String,
}

impl GraphClient {
    /// `GET /debug_token?input_token=`, asked with `caller` (the app token
    /// `{app-id}|{app-secret}` when we have one, else the token itself). `input_token` is a
    /// query parameter by Graph's definition: the only token of ours in a URL; no error
    /// or log line prints it (errors are stripped of their URL).
    pub async fn debug_token(
        &self,
        token: &Secret,
        caller: &Secret,
    ) -> Result<TokenInfo, GraphError> {
        let url = self.url("debug_token");
        let answer: DebugToken = self
            .call(None, Patience::Interactive, caller, |http| {
                http.get(&url).query(&[("input_token", token.expose())])
            })
            .await?;
        Ok(answer.data)
    }

    /// `GET /me/permissions`: what the token's grant holds.
    pub async fn permissions(&self, token: &Secret) -> Result<Vec<Permission>, GraphError> {
        let url = self.url("me/permissions");
        let page: GraphPage<Permission> = self
            .call(None, Patience::Interactive, token, |http| http.get(&url))
            .await?;
        Ok(page.data)
    }
}
