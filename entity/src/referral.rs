//! How a customer came to a conversation, when Facebook says so: an ad, an m.me link or the
//! chat plugin (`messaging_referrals`, or the `referral` of a postback or a message).
use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel, serde::Serialize, serde::Deserialize)]
#[sea_orm(table_name = "referrals")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    pub page_id: String,
    pub conversation_id: i64,
    /// The event it came from, unique per Page: `referral:<psid>:<time>` for a standalone
    /// referral, `mid:<mid>` for one inside a postback or a message.
    pub dedup_key: String,
    /// ADS, SHORTLINK, CUSTOMER_CHAT_PLUGIN (or another source Facebook adds).
    pub source: String,
    /// Facebook's `type`: OPEN_THREAD.
    pub kind: Option<String>,
    /// The `ref` of the m.me link, the ad or the plugin.
    pub ref_param: Option<String>,
    pub ad_id: Option<String>,
    /// `ads_context_data.ad_title`.
    pub ad_title: Option<String>,
    /// The chat plugin's web page.
    pub referer_uri: Option<String>,
    /// Facebook's time of the event, ms.
    pub timestamp: i64,
    pub created_at: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
