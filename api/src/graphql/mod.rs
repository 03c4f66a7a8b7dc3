//! The GraphQL schema, free of the web framework: `build_schema` serves HTTP, WebSocket,
//! tests and the SDL export alike.
mod admin;
mod auth;
pub mod cost;
pub mod labels;
pub mod loaders;
mod mutation;
mod notes;
mod query;
mod saved_replies;
mod search;
mod sequencer;
mod story;
mod subscription;
pub mod types;
mod voices;

use async_graphql::{Context, MergedObject, Schema};

use crate::error::ApiError;
use crate::service::audit;
use crate::service::auth::Principal;
use crate::state::AppState;

pub use mutation::{ClientIp, MutationRoot, publish_presence};
pub use subscription::SubscriptionRoot;

/// The queries: the inbox's, and administration's.
#[derive(MergedObject, Default)]
pub struct QueryRoot(
    query::InboxQuery,
    admin::AdminQuery,
    labels::LabelQuery,
    notes::NotesQuery,
    saved_replies::SavedReplyQuery,
    search::SearchQuery,
    story::StoryQuery,
);

/// The HTTP request's `User-Agent`, set by the HTTP layer for the audit log.
#[derive(Clone, Debug)]
pub struct UserAgent(pub String);

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Nesting of selection sets and fragment spreads the parser accepts: a guard for the
/// stack only (async-graphql's default). The depth that matters, with introspection
/// apart, is checked by `cost::CostLimits`.
const MAX_RECURSIVE_DEPTH: usize = 32;
/// Directives on one field.
const MAX_DIRECTIVES: usize = 8;

fn builder(
    limits: cost::CostLimits,
) -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    // Depth and complexity are limited by `cost::CostLimits`, which refuses with the
    // cost and the budget in the error, and lets introspection nest as tools need.
    Schema::build(
        QueryRoot::default(),
        MutationRoot::default(),
        SubscriptionRoot,
    )
    .extension(limits)
    .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
    .limit_directives(MAX_DIRECTIVES)
}

/// The schema with the app's state, as served.
pub fn build_schema(state: AppState) -> AppSchema {
    let limits = cost::CostLimits {
        deadline: std::time::Duration::from_millis(state.config.query_deadline_ms),
    };
    let loader = loaders::loader(state.db.clone());
    builder(limits).data(loader).data(state).finish()
}

/// The schema's SDL: what `schema.graphql` must contain (`api print-schema`).
pub fn schema_sdl() -> String {
    builder(cost::CostLimits::default()).finish().sdl()
}

/// The authenticated caller, or UNAUTHENTICATED.
pub(crate) fn principal<'a>(ctx: &Context<'a>) -> Result<&'a Principal, ApiError> {
    ctx.data_opt::<Principal>().ok_or(ApiError::Unauthenticated(
        "sign in first: missing, invalid or expired token",
    ))
}

/// Parses one of our numeric ids (`ID` scalars carry them as strings).
pub(crate) fn parse_id(id: &async_graphql::ID, what: &str) -> Result<i64, ApiError> {
    id.parse::<i64>()
        .ok()
        .filter(|n| *n > 0)
        .ok_or_else(|| ApiError::bad_input(format!("`{what}` is not a valid id")))
}

/// Where the request came from, as the audit log keeps it.
pub(crate) fn origin(ctx: &Context<'_>) -> audit::Origin {
    audit::Origin::new(
        ctx.data_opt::<ClientIp>().map(|ip| ip.0),
        ctx.data_opt::<UserAgent>().map(|agent| agent.0.as_str()),
    )
}

/// The authenticated caller and the actor the audit log records for it.
pub(crate) fn actor<'a>(ctx: &Context<'a>) -> Result<(&'a Principal, audit::Actor), ApiError> {
    let me = principal(ctx)?;
    Ok((me, audit::Actor::of(me, origin(ctx))))
}
