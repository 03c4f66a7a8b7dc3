//! `cargo run -p migration -- up` (or `status`, `down`, `fresh`...): the migrations by hand.
//! `DATABASE_URL` names the database, as for the server.
use sea_orm_migration::prelude::*;

#[tokio::main]
async fn main() {
    cli::run_cli(migration::Migrator).await;
}
