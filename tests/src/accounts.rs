//! Agents, Page memberships and API tokens, set up through the administrator's GraphQL
//! mutations the way an administrator would.
use serde_json::json;

use crate::TestApp;

/// The password every agent the tests create signs in with.
pub const AGENT_PASSWORD: &str = "agent password 0123456789";

/// An agent the test created and signed in.
#[derive(Clone, Debug)]
pub struct Agent {
    pub id: String,
    pub email: String,
    /// The agent's session token.
    pub token: String,
}

/// A new API token: its id and the secret shown once.
#[derive(Clone, Debug)]
pub struct ApiToken {
    pub id: String,
    pub token: String,
}

impl TestApp {
    /// Creates an AGENT (as the administrator) with [`AGENT_PASSWORD`]; returns its id.
    pub async fn create_agent(&self, email: &str, name: &str) -> String {
        let data = self
            .gql_data(
                "mutation($input: CreateAgentInput!) { createAgent(input: $input) { id } }",
                json!({ "input": {
                    "email": email, "name": name, "role": "AGENT", "password": AGENT_PASSWORD,
                } }),
            )
            .await;
        data["createAgent"]["id"]
            .as_str()
            .unwrap_or_else(|| panic!("no agent id in {data:#}"))
            .to_owned()
    }

    /// Makes the agent a member of the page (as the administrator).
    pub async fn add_page_member(&self, page_id: &str, agent_id: &str) {
        let data = self
            .gql_data(
                "mutation($page: ID!, $agent: ID!) { addPageMember(pageId: $page, agentId: $agent) }",
                json!({ "page": page_id, "agent": agent_id }),
            )
            .await;
        assert_eq!(data["addPageMember"], true, "{data:#}");
    }

    /// Takes the agent off the page (as the administrator).
    pub async fn remove_page_member(&self, page_id: &str, agent_id: &str) {
        let data = self
            .gql_data(
                "mutation($page: ID!, $agent: ID!) { removePageMember(pageId: $page, agentId: $agent) }",
                json!({ "page": page_id, "agent": agent_id }),
            )
            .await;
        assert_eq!(data["removePageMember"], true, "{data:#}");
    }

    /// Creates an agent, makes it a member of `pages` (which must exist) and signs it in.
    pub async fn agent_on(&self, email: &str, name: &str, pages: &[&str]) -> Agent {
        let id = self.create_agent(email, name).await;
        for page in pages {
            self.add_page_member(page, &id).await;
        }
        let token = self.login(email, AGENT_PASSWORD).await;
        Agent {
            id,
            email: email.to_owned(),
            token,
        }
    }

    /// Creates an API token limited to `pages`, signed in with the session `token`.
    pub async fn create_api_token(&self, token: &str, name: &str, pages: &[&str]) -> ApiToken {
        let data = self
            .gql_data_as(
                token,
                "mutation($name: String!, $pages: [ID!]!) { \
                 createApiToken(name: $name, pageIds: $pages) { token apiToken { id } } }",
                json!({ "name": name, "pages": pages }),
            )
            .await;
        let created = &data["createApiToken"];
        ApiToken {
            id: created["apiToken"]["id"]
                .as_str()
                .unwrap_or_else(|| panic!("no API token id in {data:#}"))
                .to_owned(),
            token: created["token"]
                .as_str()
                .unwrap_or_else(|| panic!("no API token in {data:#}"))
                .to_owned(),
        }
    }

    /// Revokes the API token `id`, signed in with `token`.
    pub async fn revoke_api_token(&self, token: &str, id: &str) {
        let data = self
            .gql_data_as(
                token,
                "mutation($id: ID!) { revokeApiToken(id: $id) }",
                json!({ "id": id }),
            )
            .await;
        assert_eq!(data["revokeApiToken"], true, "{data:#}");
    }

    /// Ends the session `token`.
    pub async fn logout(&self, token: &str) {
        let data = self
            .gql_data_as(token, "mutation { logout }", json!({}))
            .await;
        assert_eq!(data["logout"], true, "{data:#}");
    }
}
