//! Who is asking: agents, sign-in sessions, integration tokens, and what each may see.
//!
//! Tokens are 32 random bytes, shown once and stored only as their SHA-256, so a leaked
//! database does not hand out sessions (`tokens`). Passwords are argon2id PHC strings
//! (`passwords`). The rooms: `accounts` makes agents, `sessions` signs them in and out,
//! `api_tokens` gives integrations their tokens, `resolution` turns any credential into a
//! [`Principal`], and `members` says which agents work on which Page.
use std::collections::HashSet;

use entity::agent;

use crate::error::ApiError;

mod accounts;
mod api_tokens;
mod members;
mod passwords;
mod resolution;
mod sessions;
mod tokens;

pub use accounts::{check_password, create_agent, ensure_first_admin, normalize_email};
pub use api_tokens::{create_api_token, list_api_tokens, revoke_api_token};
pub use members::{
    add_page_member, memberships, page_agents, remove_page_member, validate_page_id,
};
pub use passwords::hash_password;
pub use resolution::{authenticate, recheck};
pub use sessions::{SESSION_TTL_MS, end_sessions, login, logout};
pub use tokens::generate_password;

/// ADMIN sees every Page; AGENT the Pages it is a member of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Role {
    Admin,
    Agent,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Admin => "ADMIN",
            Self::Agent => "AGENT",
        }
    }

    pub fn parse(stored: &str) -> Self {
        if stored == "ADMIN" {
            Self::Admin
        } else {
            Self::Agent
        }
    }
}

/// How the caller proved who it is.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Credential {
    Session { id: i64, expires_at: i64 },
    ApiToken { id: i64 },
}

/// Which credential, without what it carries: live uses are registered under it.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum CredentialKey {
    Session(i64),
    ApiToken(i64),
}

impl Credential {
    pub fn key(&self) -> CredentialKey {
        match self {
            Self::Session { id, .. } => CredentialKey::Session(*id),
            Self::ApiToken { id } => CredentialKey::ApiToken(*id),
        }
    }
}

/// The Pages a caller may see.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Scope {
    All,
    Pages(HashSet<String>),
}

/// An authenticated caller: an agent, through a session or an API token.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Principal {
    pub agent: agent::Model,
    pub role: Role,
    pub credential: Credential,
    pub scope: Scope,
}

impl Principal {
    /// Whether this caller may see anything of `page_id`: for `service::access`, which
    /// decides for everyone else.
    pub(in crate::service) fn can_see(&self, page_id: &str) -> bool {
        match &self.scope {
            Scope::All => true,
            Scope::Pages(pages) => pages.contains(page_id),
        }
    }

    /// The Pages this caller may see, sorted (`None`: every Page).
    pub(in crate::service) fn visible_pages(&self) -> Option<Vec<String>> {
        match &self.scope {
            Scope::All => None,
            Scope::Pages(pages) => {
                let mut pages: Vec<String> = pages.iter().cloned().collect();
                pages.sort();
                Some(pages)
            }
        }
    }

    pub fn is_admin(&self) -> bool {
        self.role == Role::Admin && matches!(self.credential, Credential::Session { .. })
    }

    /// Fails unless the caller is an administrator signed in with a session.
    pub fn require_admin(&self) -> Result<(), ApiError> {
        if self.is_admin() {
            Ok(())
        } else {
            Err(ApiError::Forbidden("only an administrator may do this"))
        }
    }
}
