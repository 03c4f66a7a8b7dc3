//! The customer's story (`customerStory`), for the panel beside a chat, and the referrals
//! it lists, which `pageEvents` also delivers live (REFERRAL_ADDED).
use async_graphql::{Context, ID, Object, Result};

use entity::referral;

use super::types::Conversation;
use super::{parse_id, principal};
use crate::service::{access, story};
use crate::state::AppState;
use crate::time::rfc3339;

/// The customer-story query (merged into `QueryRoot`).
#[derive(Default)]
pub struct StoryQuery;

#[Object]
impl StoryQuery {
    /// The customer of a conversation: who, since when, how much was said, their other
    /// conversations on the same Page and how they came. NOT_FOUND for a conversation the
    /// caller may not see, as for one that does not exist.
    async fn customer_story(
        &self,
        ctx: &Context<'_>,
        conversation_id: ID,
    ) -> Result<CustomerStory> {
        let state = ctx.data::<AppState>()?;
        let id = parse_id(&conversation_id, "conversationId")?;
        let visible = access::require_conversation(&state.db, principal(ctx)?, id).await?;
        Ok(CustomerStory(story::of(&state.db, &visible).await?))
    }
}

/// One customer of a Page, as the chat's side panel shows them.
pub struct CustomerStory(story::Story);

#[Object]
impl CustomerStory {
    /// The conversation asked about.
    async fn conversation(&self) -> Conversation {
        Conversation::from(self.0.conversation.clone())
    }

    /// The customer's page-scoped id.
    async fn psid(&self) -> ID {
        ID(self.0.conversation.psid.clone())
    }

    async fn name(&self) -> Option<&str> {
        self.0.conversation.customer_name.as_deref()
    }

    async fn picture_url(&self) -> Option<&str> {
        self.0.conversation.customer_picture.as_deref()
    }

    /// The first message, either way (RFC 3339, UTC); null before any.
    async fn first_contact_at(&self) -> Option<String> {
        self.0.first_contact.map(rfc3339)
    }

    /// The latest message, either way.
    async fn last_contact_at(&self) -> Option<String> {
        self.0.last_contact.map(rfc3339)
    }

    /// Messages the customer sent.
    async fn inbound_count(&self) -> i64 {
        self.0.inbound
    }

    /// Messages the Page sent (from here, Meta's tools or another app), failed ones too.
    async fn outbound_count(&self) -> i64 {
        self.0.outbound
    }

    /// The same PSID's other conversations of this Page, any status (resolved ones too),
    /// newest first, at most 20; never another Page's. A Page has one conversation per
    /// PSID today (as Facebook has one thread per person and Page), so this is empty
    /// until conversations are split (see the README).
    async fn other_conversations(&self) -> Vec<Conversation> {
        self.0
            .others
            .iter()
            .cloned()
            .map(Conversation::from)
            .collect()
    }

    /// How the customer came, newest first (at most 50), when Facebook said so.
    async fn referrals(&self) -> Vec<Referral> {
        self.0
            .referrals
            .iter()
            .cloned()
            .map(Referral::from)
            .collect()
    }
}

/// How a customer came to a conversation, from Facebook's `referral`: an ad (`ADS`, with
/// `adId` and `adTitle`), an m.me link (`SHORTLINK`, with its `ref`) or the chat plugin on a
/// website (`CUSTOMER_CHAT_PLUGIN`, with `refererUri`).
pub struct Referral {
    pub model: referral::Model,
    /// The event-log position that delivered it (subscriptions only).
    pub position: Option<i64>,
}

impl From<referral::Model> for Referral {
    fn from(model: referral::Model) -> Self {
        Self {
            model,
            position: None,
        }
    }
}

#[Object]
impl Referral {
    async fn id(&self) -> ID {
        ID(self.model.id.to_string())
    }

    async fn conversation_id(&self) -> ID {
        ID(self.model.conversation_id.to_string())
    }

    /// ADS, SHORTLINK, CUSTOMER_CHAT_PLUGIN, or another source Facebook names.
    async fn source(&self) -> &str {
        &self.model.source
    }

    /// Facebook's `type`: OPEN_THREAD.
    #[graphql(name = "type")]
    async fn kind(&self) -> Option<&str> {
        self.model.kind.as_deref()
    }

    /// The `ref` parameter of the m.me link, the ad or the plugin.
    #[graphql(name = "ref")]
    async fn ref_param(&self) -> Option<&str> {
        self.model.ref_param.as_deref()
    }

    async fn ad_id(&self) -> Option<&str> {
        self.model.ad_id.as_deref()
    }

    /// The ad's title (`ads_context_data.ad_title`).
    async fn ad_title(&self) -> Option<&str> {
        self.model.ad_title.as_deref()
    }

    /// The web page the chat plugin was on (http or https only).
    async fn referer_uri(&self) -> Option<&str> {
        self.model.referer_uri.as_deref()
    }

    /// When it happened, Facebook's time (RFC 3339, UTC).
    async fn at(&self) -> String {
        rfc3339(self.model.timestamp)
    }

    /// The event-log position that delivered it, through a subscription (null in queries).
    async fn position(&self) -> Option<String> {
        self.position.map(|p| p.to_string())
    }
}
