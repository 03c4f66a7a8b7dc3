//! The GraphQL schema, free of the web framework: `build_schema` serves HTTP, WebSocket,
//! tests and the SDL export alike.
mod auth;
mod mutation;
mod query;
mod subscription;
pub mod types;

use async_graphql::{Context, Schema};

use crate::error::ApiError;
use crate::service::auth::Principal;
use crate::state::AppState;

pub use mutation::{ClientIp, MutationRoot, publish_presence};
pub use query::QueryRoot;
pub use subscription::SubscriptionRoot;

pub type AppSchema = Schema<QueryRoot, MutationRoot, SubscriptionRoot>;

/// Query depth past which a request is refused before it runs.
const MAX_DEPTH: usize = 12;
/// Fields (each counting 1) a single request may select; the web client's largest
/// query selects about 40.
const MAX_COMPLEXITY: usize = 500;
/// Nesting of input values (lists in lists, objects in objects).
const MAX_RECURSIVE_DEPTH: usize = 16;
/// Directives on one field.
const MAX_DIRECTIVES: usize = 8;

fn builder() -> async_graphql::SchemaBuilder<QueryRoot, MutationRoot, SubscriptionRoot> {
    Schema::build(QueryRoot, MutationRoot, SubscriptionRoot)
        .limit_depth(MAX_DEPTH)
        .limit_complexity(MAX_COMPLEXITY)
        .limit_recursive_depth(MAX_RECURSIVE_DEPTH)
        .limit_directives(MAX_DIRECTIVES)
}

/// The schema with the app's state, as served.
pub fn build_schema(state: AppState) -> AppSchema {
    builder().data(state).finish()
}

/// The schema's SDL: what `schema.graphql` must contain (`api print-schema`).
pub fn schema_sdl() -> String {
    builder().finish().sdl()
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
