//! What a reply must be to go out: its text or attachment, its idempotency key, and the
//! messaging window it is sent in.
use crate::error::ApiError;
use crate::facebook::graph::Outgoing;
use crate::service::access::VisibleConversation;

/// Facebook's limit on a text message.
pub const MAX_TEXT_CHARS: usize = 2000;
pub(super) const HOUR_MS: i64 = 3600 * 1000;
/// Free messaging after the customer's last message.
pub const STANDARD_WINDOW_MS: i64 = 24 * HOUR_MS;
/// With the HUMAN_AGENT tag.
pub const HUMAN_AGENT_WINDOW_MS: i64 = 7 * 24 * HOUR_MS;
/// The message tag of a reply in the human agent window, as Facebook is sent it and as
/// `Message.tag` says.
pub const HUMAN_AGENT_TAG: &str = "HUMAN_AGENT";

/// What an agent asked to send.
pub struct SendRequest {
    /// Where to, as `access` found it.
    pub conversation: VisibleConversation,
    /// A text, or an attachment by URL: one of the two.
    pub content: Outgoing,
    pub client_mutation_id: Option<String>,
}

/// Attachment types the Send API takes by URL.
pub const ATTACHMENT_KINDS: [&str; 4] = ["image", "audio", "video", "file"];

/// Refuses an attachment Facebook could not fetch.
pub fn validate_attachment(kind: &str, url: &str) -> Result<(), ApiError> {
    if !ATTACHMENT_KINDS.contains(&kind) {
        return Err(ApiError::bad_input(
            "attachment type must be IMAGE, AUDIO, VIDEO or FILE",
        ));
    }
    let ok = url.len() <= 2000
        && (url.starts_with("https://") || url.starts_with("http://"))
        && url.len() > "https://".len()
        && !url.chars().any(|c| c.is_whitespace() || c.is_control());
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_input(
            "attachment `url` must be an http(s) URL of at most 2000 characters",
        ))
    }
}

/// Refuses an `attachmentId` that cannot be one of Facebook's (digits, at most 32); whether
/// the Page saved it, only Facebook knows (it refuses with code 100: FAILED, below).
pub fn validate_attachment_id(kind: &str, id: &str) -> Result<(), ApiError> {
    if !ATTACHMENT_KINDS.contains(&kind) {
        return Err(ApiError::bad_input(
            "attachment type must be IMAGE, AUDIO, VIDEO or FILE",
        ));
    }
    if id.is_empty() || id.len() > 32 || !id.bytes().all(|b| b.is_ascii_digit()) {
        return Err(ApiError::bad_input(
            "attachment `attachmentId` must be Facebook's attachment id: 1 to 32 digits",
        ));
    }
    Ok(())
}

/// Refuses what Facebook would refuse, before anything is stored or sent.
pub fn validate_text(text: &str) -> Result<(), ApiError> {
    let chars = text.chars().count();
    if text.trim().is_empty() {
        return Err(ApiError::bad_input("`text` must not be empty"));
    }
    if chars > MAX_TEXT_CHARS {
        return Err(ApiError::bad_input(format!(
            "`text` has {chars} characters; Messenger allows at most {MAX_TEXT_CHARS}"
        )));
    }
    if text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::bad_input(
            "`text` must not contain control characters",
        ));
    }
    Ok(())
}

pub(super) fn validate_key(key: &str) -> Result<(), ApiError> {
    let ok = !key.is_empty() && key.len() <= 128 && key.chars().all(|c| c.is_ascii_graphic());
    if ok {
        Ok(())
    } else {
        Err(ApiError::bad_input(
            "`clientMutationId` must be 1 to 128 visible ASCII characters",
        ))
    }
}

/// Which window a reply falls in, from the customer's last message.
#[derive(Debug, PartialEq, Eq)]
pub enum Window {
    Standard,
    HumanAgent,
    Closed,
}

/// Overflow-safe for any stored time; a last message "from the future" (beyond the clock
/// skew we allow) opens no window.
pub fn window(last_inbound: Option<i64>, now: i64) -> Window {
    match last_inbound.map(|t| now.saturating_sub(t)) {
        Some(age) if age < -crate::time::MAX_FUTURE_SKEW_MS => Window::Closed,
        Some(age) if age <= STANDARD_WINDOW_MS => Window::Standard,
        Some(age) if age <= HUMAN_AGENT_WINDOW_MS => Window::HumanAgent,
        _ => Window::Closed,
    }
}
