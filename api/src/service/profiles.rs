//! Names and pictures of customers first seen in a webhook: fetched from their Graph
//! profile in the background, so ingest never waits for Facebook.
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use tokio::sync::mpsc;
use tokio_util::sync::CancellationToken;

use entity::conversation;

use crate::bus::Change;
use crate::facebook::graph::GraphClient;
use crate::service::outbox::Outbox;

/// A new conversation whose customer has no name yet.
#[derive(Clone, Debug)]
pub struct NewCustomer {
    pub conversation_id: i64,
    pub page_id: String,
    pub psid: String,
}

/// What the profile fetcher uses: the Pages' tokens and the conversations (`db`), the
/// Graph API to ask, and the outbox to publish the named conversations.
#[derive(Clone)]
pub struct Profiles {
    pub db: DatabaseConnection,
    pub graph: GraphClient,
    pub outbox: Outbox,
}

/// Fetches profiles for what `receiver` announces until every sender is gone, or `stop`
/// (profiles not fetched by then are best effort lost: the customers stay unnamed).
pub async fn run(
    profiles: Profiles,
    mut receiver: mpsc::UnboundedReceiver<Vec<NewCustomer>>,
    stop: CancellationToken,
) {
    loop {
        let customers = tokio::select! {
            customers = receiver.recv() => customers,
            () = stop.cancelled() => return,
        };
        let Some(customers) = customers else {
            return;
        };
        for customer in customers {
            if stop.is_cancelled() {
                return;
            }
            if let Err(err) = fetch(&profiles, &customer, &stop).await {
                tracing::debug!(error = %err.message(), psid = %customer.psid, "no profile fetched");
            }
        }
    }
}

/// Names the customer; a stop while Facebook is asked abandons it (nothing is stored).
async fn fetch(
    profiles: &Profiles,
    customer: &NewCustomer,
    stop: &CancellationToken,
) -> Result<(), crate::error::ApiError> {
    // Pages that are not connected (or must be reconnected) have no token to ask with.
    let Ok(token) = crate::service::pages::token(&profiles.db, &customer.page_id).await else {
        return Ok(());
    };
    let asked = tokio::select! {
        asked = profiles.graph.profile(&customer.psid, &token) => asked,
        () = stop.cancelled() => return Ok(()),
    };
    let profile = match asked {
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
    let txn = crate::db::begin_write(&profiles.db).await?;
    let updated = update.exec_with_returning(&txn).await?;
    let changes = updated
        .into_iter()
        .map(Change::ConversationUpdated)
        .collect();
    profiles.outbox.commit(txn, changes).await?;
    Ok(())
}
