//! What one GraphQL operation may cost, decided before it runs, and how long it may run.
//! The rules live in the schema (an extension), so they hold on HTTP and on the WebSocket.
//!
//! - **Complexity** counts each selected field once, except that a connection's selection
//!   counts once per item it may return: `conversations(first: 100) { edges { node { id } } }`
//!   costs 1 + 100 × 3. A missing `first`/`last` counts as the field's default page size.
//!   An operation over [`BUDGET`] is refused with `BAD_USER_INPUT`, its cost and the budget
//!   in `extensions`.
//! - **Depth**: an ordinary selection may nest [`MAX_DEPTH`] fields deep. The introspection
//!   that tools send (`__schema`, `__type`) nests deeper (its `ofType` chains) and is
//!   bounded differently, as graphql-js bounds it: up to [`MAX_INTROSPECTION_DEPTH`] fields,
//!   with at most [`MAX_INTROSPECTION_LISTS`] of `fields`, `inputFields`, `interfaces` and
//!   `possibleTypes` inside one another (each multiplies the work by a type's size).
//! - **Size**: a document whose fragments expand to more than [`MAX_SELECTIONS`] selections
//!   is refused before anything walks it again (fragments that spread fragments twice
//!   grow exponentially).
//! - **Deadline**: a query runs at most [`DEADLINE`] (`MF_QUERY_DEADLINE_MS`); then its
//!   work is dropped and it answers `TIMEOUT`. Mutations run to the end, so none is left
//!   half done.
use std::collections::HashSet;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_graphql::extensions::{
    Extension, ExtensionContext, ExtensionFactory, NextExecute, NextPrepareRequest, NextValidation,
};
use async_graphql::parser::types::{ExecutableDocument, OperationType, Selection, SelectionSet};
use async_graphql::{
    ErrorExtensionValues, Name, Request, Response, ServerError, ServerResult, ValidationResult,
};

/// Field depth of an ordinary (non-introspection) selection.
pub const MAX_DEPTH: usize = 12;
/// Complexity one operation may have (see the module's documentation). The web client's
/// largest operation (`Conversations`, 50 of them with every field it shows) costs 1,101;
/// an integration reading 100 conversations and 100 messages with every field in one
/// request, 5,502. The attack of issue 11 costs 49,545 per operation.
pub const BUDGET: usize = 10_000;
/// Field depth inside `__schema` / `__type`: graphql-js's query needs 13 (seven `ofType`
/// levels under `fields { args { type } }`).
pub const MAX_INTROSPECTION_DEPTH: usize = 24;
/// `fields`, `inputFields`, `interfaces`, `possibleTypes` nested in one another
/// (graphql-js's `MaxIntrospectionDepthRule` allows 3, the standard query uses 1).
pub const MAX_INTROSPECTION_LISTS: usize = 3;
/// Selections a document may expand to, fragments inlined.
pub const MAX_SELECTIONS: usize = 2 * BUDGET;
/// How long a query may run, by default.
pub const DEADLINE: Duration = Duration::from_secs(10);

/// The cost of a connection field: itself, plus its selection once per item it may
/// return (`requested`, or `default` when absent; at least 1, at most the largest page).
pub fn connection(requested: Option<i32>, default: i32, child_complexity: usize) -> usize {
    let items = requested
        .unwrap_or(default)
        .clamp(1, crate::service::inbox::MAX_PAGE_SIZE);
    1 + items as usize * child_complexity
}

/// The schema extension that applies these rules, with the queries' deadline.
pub struct CostLimits {
    pub deadline: Duration,
}

impl Default for CostLimits {
    fn default() -> Self {
        Self { deadline: DEADLINE }
    }
}

impl ExtensionFactory for CostLimits {
    fn create(&self) -> Arc<dyn Extension> {
        Arc::new(PerRequest {
            deadline: self.deadline,
            operations: Mutex::default(),
        })
    }
}

/// One request's view: which of its operations are queries (for the deadline).
struct PerRequest {
    deadline: Duration,
    operations: Mutex<Vec<(Option<Name>, OperationType)>>,
}

#[async_trait::async_trait]
impl Extension for PerRequest {
    async fn prepare_request(
        &self,
        ctx: &ExtensionContext<'_>,
        mut request: Request,
        next: NextPrepareRequest<'_>,
    ) -> ServerResult<Request> {
        let document = request.parsed_query()?;
        check_shape(document)?;
        let kinds = document
            .operations
            .iter()
            .map(|(name, op)| (name.cloned(), op.node.ty))
            .collect();
        if let Ok(mut operations) = self.operations.lock() {
            *operations = kinds;
        }
        next.run(ctx, request).await
    }

    async fn validation(
        &self,
        ctx: &ExtensionContext<'_>,
        next: NextValidation<'_>,
    ) -> Result<ValidationResult, Vec<ServerError>> {
        let result = next.run(ctx).await?;
        if result.complexity > BUDGET {
            let mut error = refusal(format!(
                "this operation costs {} and the budget is {BUDGET}: each field counts 1, and \
                 a connection's selection counts once per item (`first`/`last`); ask for \
                 fewer items or fields, or split it into several requests",
                result.complexity
            ));
            if let Some(extensions) = error.extensions.as_mut() {
                extensions.set("cost", result.complexity);
                extensions.set("budget", BUDGET);
            }
            return Err(vec![error]);
        }
        Ok(result)
    }

    async fn execute(
        &self,
        ctx: &ExtensionContext<'_>,
        operation_name: Option<&str>,
        next: NextExecute<'_>,
    ) -> Response {
        let is_query = self.operations.lock().ok().is_some_and(|operations| {
            operations
                .iter()
                .find(|(name, _)| match (operation_name, name) {
                    (Some(wanted), Some(name)) => wanted == name.as_str(),
                    _ => true,
                })
                .is_some_and(|(_, ty)| *ty == OperationType::Query)
        });
        if !is_query {
            return next.run(ctx, operation_name).await;
        }
        match tokio::time::timeout(self.deadline, next.run(ctx, operation_name)).await {
            Ok(response) => response,
            Err(_) => {
                tracing::warn!(
                    operation = operation_name.unwrap_or("(anonymous)"),
                    "a query ran past its deadline and was stopped"
                );
                let mut error = ServerError::new(
                    format!(
                        "the query ran longer than {} ms and was stopped; ask for less",
                        self.deadline.as_millis()
                    ),
                    None,
                );
                let mut extensions = ErrorExtensionValues::default();
                extensions.set("code", "TIMEOUT");
                error.extensions = Some(extensions);
                Response::from_errors(vec![error])
            }
        }
    }
}

/// A client error (`BAD_USER_INPUT`) raised before the operation runs.
fn refusal(message: String) -> ServerError {
    let mut error = ServerError::new(message, None);
    let mut extensions = ErrorExtensionValues::default();
    extensions.set("code", "BAD_USER_INPUT");
    error.extensions = Some(extensions);
    error
}

/// Depth, introspection nesting and size of every operation in the document.
pub fn check_shape(document: &ExecutableDocument) -> ServerResult<()> {
    let mut walk = Walk {
        document,
        selections: 0,
        in_fragments: HashSet::new(),
    };
    for (_, operation) in document.operations.iter() {
        walk.selection_set(&operation.node.selection_set.node, Level::default())
            .map_err(refusal)?;
    }
    Ok(())
}

/// Where a selection stands.
#[derive(Clone, Copy, Default)]
struct Level {
    /// Fields above it outside introspection.
    depth: usize,
    /// Fields above it inside `__schema` / `__type`, once entered.
    introspection: Option<usize>,
    /// Introspection lists (`fields`...) above it.
    lists: usize,
}

struct Walk<'a> {
    document: &'a ExecutableDocument,
    selections: usize,
    /// Fragments being expanded (a cycle is reported by validation later; here it stops).
    in_fragments: HashSet<&'a str>,
}

impl<'a> Walk<'a> {
    fn selection_set(&mut self, set: &'a SelectionSet, level: Level) -> Result<(), String> {
        for selection in &set.items {
            self.selections += 1;
            if self.selections > MAX_SELECTIONS {
                return Err(format!(
                    "the document expands to more than {MAX_SELECTIONS} selections"
                ));
            }
            match &selection.node {
                Selection::Field(field) => {
                    let name = field.node.name.node.as_str();
                    let mut next = level;
                    match level.introspection {
                        Some(depth) => {
                            next.introspection = Some(depth + 1);
                            if matches!(
                                name,
                                "fields" | "inputFields" | "interfaces" | "possibleTypes"
                            ) {
                                next.lists += 1;
                            }
                        }
                        // Introspection starts at the operation's root.
                        None if level.depth == 0 && matches!(name, "__schema" | "__type") => {
                            next.introspection = Some(1);
                        }
                        None => next.depth += 1,
                    }
                    if next.depth > MAX_DEPTH {
                        return Err(format!("the query nests deeper than {MAX_DEPTH} fields"));
                    }
                    if next
                        .introspection
                        .is_some_and(|d| d > MAX_INTROSPECTION_DEPTH)
                    {
                        return Err(format!(
                            "the introspection query nests deeper than \
                             {MAX_INTROSPECTION_DEPTH} fields"
                        ));
                    }
                    if next.lists > MAX_INTROSPECTION_LISTS {
                        return Err(format!(
                            "the introspection query nests `fields`, `inputFields`, \
                             `interfaces` or `possibleTypes` more than \
                             {MAX_INTROSPECTION_LISTS} deep"
                        ));
                    }
                    self.selection_set(&field.node.selection_set.node, next)?;
                }
                Selection::InlineFragment(fragment) => {
                    self.selection_set(&fragment.node.selection_set.node, level)?;
                }
                Selection::FragmentSpread(spread) => {
                    let name = spread.node.fragment_name.node.as_str();
                    let Some(fragment) = self.document.fragments.get(name) else {
                        continue; // validation reports it
                    };
                    if !self.in_fragments.insert(name) {
                        continue; // a cycle: validation reports it
                    }
                    let result = self.selection_set(&fragment.node.selection_set.node, level);
                    self.in_fragments.remove(name);
                    result?;
                }
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn shape(query: &str) -> Result<(), String> {
        let document = async_graphql::parser::parse_query(query).unwrap();
        check_shape(&document).map_err(|e| e.message)
    }

    fn nested(depth: usize) -> String {
        format!(
            "{{ {}id{} }}",
            "a { ".repeat(depth - 1),
            " }".repeat(depth - 1)
        )
    }

    #[test]
    fn ordinary_depth_is_limited_and_counted_through_fragments() {
        assert!(shape(&nested(MAX_DEPTH)).is_ok());
        assert!(
            shape(&nested(MAX_DEPTH + 1))
                .unwrap_err()
                .contains("deeper than 12")
        );
        let through_fragment = format!(
            "{{ a {{ ...F }} }} fragment F on T {{ {}id{} }}",
            "a { ".repeat(MAX_DEPTH - 1),
            " }".repeat(MAX_DEPTH - 1)
        );
        assert!(shape(&through_fragment).is_err());
    }

    #[test]
    fn introspection_is_exempt_from_the_depth_only_at_the_root() {
        let deep_intro = format!(
            "{{ __schema {{ types {{ {}name{} }} }} }}",
            "ofType { ".repeat(15),
            " }".repeat(15)
        );
        assert!(shape(&deep_intro).is_ok());
        // `__type` below an ordinary field does not switch the rules.
        let hidden = format!(
            "{{ a {{ __type {{ {}id{} }} }} }}",
            "a { ".repeat(MAX_DEPTH),
            " }".repeat(MAX_DEPTH)
        );
        assert!(shape(&hidden).is_err());
    }

    #[test]
    fn introspection_lists_nest_three_deep_at_most() {
        let lists = |n: usize| {
            format!(
                "{{ __schema {{ types {{ {}name{} }} }} }}",
                "fields { type { ".repeat(n),
                " } }".repeat(n)
            )
        };
        assert!(shape(&lists(3)).is_ok());
        assert!(shape(&lists(4)).unwrap_err().contains("more than 3 deep"));
    }

    #[test]
    fn exponential_fragments_are_refused_by_size() {
        // Each fragment spreads the next twice: 2^30 selections, with no depth at all.
        let mut query = String::from("{ ...F0 }");
        for i in 0..30 {
            let next = i + 1;
            query.push_str(&format!(" fragment F{i} on Q {{ ...F{next} ...F{next} }}"));
        }
        query.push_str(" fragment F30 on Q { __typename }");
        assert!(shape(&query).unwrap_err().contains("selections"));
    }

    #[test]
    fn connections_cost_their_page_size() {
        assert_eq!(connection(Some(100), 5, 3), 301);
        assert_eq!(connection(None, 5, 3), 16);
        assert_eq!(connection(Some(-7), 5, 3), 4);
        assert_eq!(connection(Some(1_000_000), 5, 3), 301);
    }
}
