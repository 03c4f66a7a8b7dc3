//! The GraphQL enums of stored states, and their one mapping to the entity's enums
//! (the stored values live in `entity`; GraphQL shows the same names).
use async_graphql::Enum;

use entity::{conversation, message, sync_job};

/// `From` both ways between a GraphQL enum and the entity enum with the same variants.
macro_rules! same_states {
    ($graphql:ident <=> $stored:ty { $($variant:ident),+ $(,)? }) => {
        impl From<$stored> for $graphql {
            fn from(stored: $stored) -> Self {
                match stored {
                    $(<$stored>::$variant => Self::$variant,)+
                }
            }
        }

        impl From<$graphql> for $stored {
            fn from(shown: $graphql) -> Self {
                match shown {
                    $($graphql::$variant => Self::$variant,)+
                }
            }
        }
    };
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum ConversationStatus {
    Open,
    Pending,
    Resolved,
    Snoozed,
}

same_states!(ConversationStatus <=> conversation::Status { Open, Pending, Resolved, Snoozed });

/// Whose conversations `conversations` lists.
#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum AssigneeFilter {
    /// Assigned to the caller (for an API token: the agent who created it).
    Me,
    /// Assigned to nobody.
    Unassigned,
    /// Assigned to any agent.
    Assigned,
}

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MessageDirection {
    /// From the customer to the Page.
    Inbound,
    /// From the Page to the customer (our sends and echoes of other tools').
    Outbound,
}

same_states!(MessageDirection <=> message::Direction { Inbound, Outbound });

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum MessageStatus {
    Pending,
    Sent,
    Delivered,
    Read,
    Failed,
}

same_states!(MessageStatus <=> message::Status { Pending, Sent, Delivered, Read, Failed });

#[derive(Enum, Copy, Clone, Debug, PartialEq, Eq)]
pub enum SyncStatus {
    Running,
    Done,
    Failed,
}

same_states!(SyncStatus <=> sync_job::Status { Running, Done, Failed });
