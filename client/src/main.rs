//! The MessengerFlow web inbox: a Dioxus app compiled to WebAssembly, talking to the
//! server only through its public GraphQL API (HTTP and `graphql-transport-ws`).
//!
//! On other targets the binary does nothing: the crate still builds there so that the
//! workspace's host commands check the GraphQL operations against the schema and run
//! the state tests in [`model`].
#![forbid(unsafe_code)]
#![cfg_attr(not(target_arch = "wasm32"), allow(dead_code, unused_imports))]

mod model;
mod ops;

#[cfg(target_arch = "wasm32")]
mod web;

#[cfg(target_arch = "wasm32")]
fn main() {
    web::launch();
}

#[cfg(not(target_arch = "wasm32"))]
fn main() {}
