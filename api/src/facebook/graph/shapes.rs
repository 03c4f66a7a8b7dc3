//! What the Graph API answers (and what we send it), as typed shapes.
use serde::Deserialize;
use serde_json::Value;

/// Send API success.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct SendResult {
    pub recipient_id: String,
    pub message_id: String,
}

/// `/me` for a Page token.
#[derive(Clone, Debug, Deserialize, PartialEq, Eq)]
pub struct PageIdentity {
    pub id: String,
    pub name: Option<String>,
}

/// One page of a Graph list.
#[derive(Clone, Debug, Deserialize)]
pub struct GraphPage<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub paging: Option<Paging>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Paging {
    pub next: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Participant {
    pub id: String,
    pub name: Option<String>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct Participants {
    pub data: Vec<Participant>,
}

/// A conversation as the Conversations API lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct GraphConversation {
    pub id: String,
    pub updated_time: Option<String>,
    pub participants: Option<Participants>,
    /// The newest messages, when asked for by field expansion.
    pub messages: Option<GraphPage<GraphMessage>>,
}

#[derive(Clone, Debug, Deserialize)]
pub struct GraphAttachmentData {
    pub data: Vec<Value>,
}

/// A message as the Conversations API lists it.
#[derive(Clone, Debug, Deserialize)]
pub struct GraphMessage {
    pub id: String,
    pub created_time: String,
    pub from: Option<Participant>,
    pub message: Option<String>,
    pub attachments: Option<GraphAttachmentData>,
}

/// A customer's public profile.
#[derive(Clone, Debug, Deserialize, Default)]
pub struct Profile {
    pub first_name: Option<String>,
    pub last_name: Option<String>,
    pub profile_pic: Option<String>,
}

/// What to send.
#[derive(Clone, Debug)]
pub enum Outgoing {
    Text(String),
    /// `image`, `audio`, `video` or `file`, by URL.
    Attachment {
        kind: String,
        url: String,
    },
    /// An asset the Page saved before (Attachment Upload API), by its `attachment_id`.
    Saved {
        kind: String,
        attachment_id: String,
    },
    /// A file from the agent's computer, uploaded with the message (multipart `filedata`).
    File(FileData),
}

/// A checked file (`service::send::files`), sent as the Send API's `filedata`.
#[derive(Clone, Debug)]
pub struct FileData {
    /// `image`, `video`, `audio` or `file`: the attachment type.
    pub kind: &'static str,
    /// The content's type, found in its bytes: the part's `Content-Type`.
    pub mime: &'static str,
    /// The file name Facebook is given (no path, no control characters).
    pub name: String,
    pub bytes: bytes::Bytes,
}
