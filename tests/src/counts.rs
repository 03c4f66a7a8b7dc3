//! How much the server has stored: to prove that a refused request changed nothing.
use sea_orm::{EntityTrait, PaginatorTrait};
use serde_json::json;

use crate::{TestApp, nodes};

/// Rows of each kind the server holds.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Counts {
    pub pages: usize,
    pub conversations: usize,
    pub messages: usize,
    pub agents: usize,
    pub api_tokens: usize,
    /// Private notes, from the server's database.
    pub notes: usize,
}

const CONVERSATIONS: &str = "query($page: ID!, $after: String) {
  conversations(pageId: $page, first: 100, after: $after) {
    edges { node { id } }
    pageInfo { hasNextPage endCursor }
  }
}";

const MESSAGES: &str = "query($id: ID!, $before: String) {
  messages(conversationId: $id, last: 100, before: $before) {
    edges { node { id } }
    pageInfo { hasPreviousPage startCursor }
  }
}";

impl TestApp {
    /// Pages, conversations and messages as the administrator's queries show them (every
    /// page of every connection); agents and API tokens, which no query lists, from the
    /// server's database.
    pub async fn counts(&self) -> Counts {
        let pages = self.page_ids().await;
        let mut counts = Counts {
            pages: pages.len(),
            ..Counts::default()
        };
        for page in &pages {
            let mut after: Option<String> = None;
            loop {
                let data = self
                    .gql_data(CONVERSATIONS, json!({ "page": page, "after": after }))
                    .await;
                let connection = &data["conversations"];
                for conversation in nodes(connection) {
                    counts.conversations += 1;
                    counts.messages += self.message_count(crate::id_of(&conversation)).await;
                }
                if connection["pageInfo"]["hasNextPage"] != true {
                    break;
                }
                after = connection["pageInfo"]["endCursor"]
                    .as_str()
                    .map(str::to_owned);
            }
        }
        counts.agents = count(entity::agent::Entity::find().count(&self.db).await);
        counts.api_tokens = count(entity::api_token::Entity::find().count(&self.db).await);
        counts.notes = count(entity::note::Entity::find().count(&self.db).await);
        counts
    }

    async fn message_count(&self, conversation_id: &str) -> usize {
        let mut total = 0;
        let mut before: Option<String> = None;
        loop {
            let data = self
                .gql_data(MESSAGES, json!({ "id": conversation_id, "before": before }))
                .await;
            let connection = &data["messages"];
            total += nodes(connection).len();
            if connection["pageInfo"]["hasPreviousPage"] != true {
                return total;
            }
            before = connection["pageInfo"]["startCursor"]
                .as_str()
                .map(str::to_owned);
        }
    }
}

fn count(result: Result<u64, sea_orm::DbErr>) -> usize {
    let rows = result.unwrap_or_else(|error| panic!("counting rows failed: {error}"));
    usize::try_from(rows).expect("a row count fits in usize")
}
