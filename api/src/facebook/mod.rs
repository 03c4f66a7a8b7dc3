//! What Facebook sends and how to trust it. Knows nothing of ours but configuration.
pub mod events;
pub mod graph;
pub mod signature;
