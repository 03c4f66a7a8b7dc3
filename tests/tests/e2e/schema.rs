use std::path::Path;

/// The checked-in SDL, which the client builds its typed queries from.
const SCHEMA_FILE: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../schema.graphql");

fn normalised(sdl: &str) -> String {
    sdl.replace("\r\n", "\n").trim_end().to_owned()
}

#[test]
fn checked_in_schema_matches_the_servers_schema() {
    // Arrange
    let checked_in = std::fs::read_to_string(Path::new(SCHEMA_FILE)).unwrap_or_else(|error| {
        panic!(
            "cannot read {SCHEMA_FILE} ({error}); create it with \
             `cargo run -p api -- print-schema > schema.graphql`"
        )
    });

    // Act
    let served = api::graphql::schema_sdl();

    // Assert
    assert!(
        normalised(&checked_in) == normalised(&served),
        "schema.graphql is out of date: run `cargo run -p api -- print-schema > schema.graphql` \
         and commit it.\n--- schema.graphql\n{checked_in}\n--- server\n{served}"
    );
}
