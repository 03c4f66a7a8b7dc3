//! The end-to-end tests, one module per concern, in one test binary: each starts the real
//! server (and, where it needs them, the simulator, PostgreSQL, Redis or Chromium) and talks
//! to it as a client would. One binary links `api` once instead of once per file (the layout
//! of zero-to-production's `tests/api/main.rs`). Run one module with
//! `cargo test -p mf-tests --test e2e browser::`.
//!
//! `secrets_in_logs` stays its own binary: it installs a process-wide TRACE log capture,
//! which would slow down and capture every other test here.

mod access_matrix;
mod api_tokens;
mod attachments;
mod audit_log;
mod browser;
mod customer_story;
mod database_outage;
mod follow_ups;
mod graph_api;
mod graph_faults;
mod graphiql;
mod health;
mod hostile_clients;
mod hostile_inputs;
mod instances;
mod introspection;
mod labels;
mod media;
mod metrics;
mod notes;
mod outbox;
mod page_tokens;
mod presence;
mod process_signals;
mod queries;
mod query_cost;
mod receipts;
mod resume;
mod revocation;
mod saved_replies;
mod schema;
mod search;
mod security_headers;
mod sign_in_limits;
mod slow_subscribers;
mod subscriptions;
mod sync_jobs;
mod teammates;
mod test_databases;
mod voices;
mod watermarks;
mod web_docs;
mod web_static;
mod webhook_duplicates;
mod webhook_fields;
mod webhook_ingest;
mod webhook_signature;
mod webhook_verification;
