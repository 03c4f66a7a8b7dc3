//! Names and pictures of customers first seen in a webhook: fetched from their Graph
//! profile in the background, so ingest never waits for Facebook.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, TransactionTrait};
use tokio::sync::mpsc;

use entity::conversation;

use crate::bus::Change;
use crate::state::AppState;

/// A new conversation whose customer has no name yet.
#[derive(Clone, Debug)]
pub struct NewCustomer {
    pub conversation_id: i64,
    pub page_id: String,
    pub psid: String,
}

/// Fetches profiles for what `receiver` announces until every sender is gone.
pub async fn run(state: AppState, mut receiver: mpsc::UnboundedReceiver<Vec<NewCustomer>>) {
    while let Some(customers) = receiver.recv().await {
        for customer in customers {
            if let Err(err) = fetch(&state, &customer).await {
                tracing::debug!(error = %err.message(), psid = %customer.psid, "no profile fetched");
            }
        }
    }
}

async fn fetch(state: &AppState, customer: &NewCustomer) -> Result<(), crate::error::ApiError> {
    // Pages that are not connected (or must be reconnected) have no token to ask with.
    let Ok(token) = crate::service::pages::token(&state.db, &customer.page_id).await else {
        return Ok(());
    };
    let profile = match state.graph.profile(&customer.psid, &token).await {
        Ok(Some(profile)) => profile,
        Ok(None) => return Ok(()),
        Err(err) => return Err(crate::error::ApiError::GraphApi(err.to_string())),
    };
    let name = [profile.first_name.as_deref(), profile.last_name.as_deref()]
        .into_iter()
        .flatten()
        .collect::<Vec<_>>()
        .join(" ");
    if name.is_empty() && profile.profile_pic.is_none() {
        return Ok(());
    }
    let mut update = conversation::Entity::update_many()
        .col_expr(
            conversation::Column::CustomerPicture,
            Expr::val(profile.profile_pic.clone()),
        )
        .filter(conversation::Column::Id.eq(customer.conversation_id));
    if !name.is_empty() {
        update = update.col_expr(conversation::Column::CustomerName, Expr::val(name));
    }
    let txn = state.db.begin().await?;
    let updated = update.exec_with_returning(&txn).await?;
    let changes = updated
        .into_iter()
        .map(Change::ConversationUpdated)
        .collect();
    state.outbox.commit(txn, changes).await?;
    Ok(())
}
