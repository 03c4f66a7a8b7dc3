//! An initialised connection: the credential it authenticated with, kept current, and
//! what ends it (revocation, expiry).
use std::pin::Pin;
use std::time::Duration;

use async_graphql::ErrorExtensions;
use serde_json::Value;
use tokio::time::Sleep;

use super::CLOSE_FORBIDDEN;
use super::CLOSE_TOO_MANY;
use super::connection::{Connection, Verdict, close};
use super::protocol::init_token;
use super::seats::Seat;
use crate::config::Secret;
use crate::graphql::publish_presence;
use crate::service::auth::{self, Credential, Principal};
use crate::service::credentials::CredentialWatch;

/// An initialised connection: whose it is, and what ends it.
pub(super) struct Session {
    /// Re-checked for every operation; never logged.
    pub token: Secret,
    pub principal: Principal,
    /// The agent counted ONLINE through this connection (a session's, not a token's).
    pub online: Option<i64>,
    _seat: Seat,
    /// The credential kept current against the database (and the bus's revocations).
    watch: CredentialWatch,
    /// A session's expiry, watched here too so that it holds while the database re-check
    /// cannot run. Made once: `ended` is polled for every message the connection handles.
    expiry: Option<Pin<Box<Sleep>>>,
}

impl Session {
    /// Authenticates `connection_init`, takes a seat of its credential, lifts the
    /// pre-init byte budget and counts the agent ONLINE.
    pub(super) async fn start(
        connection: &Connection,
        payload: Option<Value>,
    ) -> Result<Self, Verdict> {
        let token = init_token(payload.as_ref()).map(Secret::new);
        drop(payload);
        let forbidden = || close(CLOSE_FORBIDDEN, "Forbidden");
        let Some(token) = token else {
            return Err(forbidden());
        };
        let principal = match auth::authenticate(&connection.state.db, token.expose()).await {
            Ok(Some(principal)) => principal,
            Ok(None) => return Err(forbidden()),
            Err(err) => {
                // Logged (internal) by `extend`; the client may retry.
                let _ = err.extend();
                return Err(close(1011, "internal error; retry"));
            }
        };
        let Some(seat) = connection.seats.seat(&principal.credential) else {
            return Err(close(
                CLOSE_TOO_MANY,
                "too many connections for this credential",
            ));
        };
        connection.budget.lift();
        let watch = connection.state.credentials.watch(&principal);
        // An agent's own session counts towards presence; an integration's token does not.
        let online = matches!(principal.credential, Credential::Session { .. })
            .then_some(principal.agent.id);
        if let Some(agent_id) = online
            && let Some(status) = connection.state.presence.connected(agent_id)
        {
            publish_presence(&connection.state, agent_id, status).await;
        }
        let expiry = match principal.credential {
            Credential::Session { expires_at, .. } => {
                let left = expires_at.saturating_sub(crate::time::now_ms()).max(0) as u64;
                Some(Box::pin(tokio::time::sleep(Duration::from_millis(left))))
            }
            Credential::ApiToken { .. } => None,
        };
        Ok(Self {
            token,
            principal,
            online,
            _seat: seat,
            watch,
            expiry,
        })
    }

    /// Resolves when the credential is revoked or expires.
    async fn ended(&mut self) {
        let Self { watch, expiry, .. } = self;
        let expired = async {
            match expiry {
                Some(sleep) => sleep.as_mut().await,
                None => futures::future::pending().await,
            }
        };
        tokio::select! {
            () = expired => {}
            () = watch.revoked() => {}
        }
    }
}

/// Resolves when the initialised connection's credential ends; never before init.
pub(super) async fn ended(session: &mut Option<Session>) {
    match session {
        Some(session) => session.ended().await,
        None => futures::future::pending().await,
    }
}
