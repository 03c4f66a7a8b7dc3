//! Keeps `api/src` easy to read (issue 13): no file over [`MAX_FILE_LINES`] lines, and
//! every long-lived task started into a `tasks::Tasks` group, never with a bare
//! `tokio::spawn` that nothing joins. (Functions over 80 lines are clippy's
//! `too_many_lines`, denied through `-D warnings`: see `lib.rs`.)
use std::path::{Path, PathBuf};

/// The most lines a source file may have.
const MAX_FILE_LINES: usize = 400;

/// Files still over the limit, with their length when the check came: they may shrink,
/// never grow, and leave this list once within the limit.
const KNOWN_LONG: &[(&str, usize)] = &[];

/// Where a bare `tokio::spawn` is right: the WebSocket connections (tracked by
/// `AppState::connections`) and the data loaders' per-request batches.
const SPAWN_ALLOWED: &[&str] = &["http/ws.rs", "graphql/loaders.rs"];

/// Every `.rs` file under `dir`, relative to it, with its text.
fn sources(dir: &Path) -> Vec<(String, String)> {
    let mut found = Vec::new();
    let mut todo: Vec<PathBuf> = vec![dir.to_path_buf()];
    while let Some(next) = todo.pop() {
        for entry in std::fs::read_dir(&next).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                todo.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let name = path.strip_prefix(dir).unwrap().to_string_lossy();
                let name = name.replace('\\', "/");
                found.push((name, std::fs::read_to_string(&path).unwrap()));
            }
        }
    }
    found.sort();
    found
}

/// What breaks the limits among `files` (name, text), one sentence each.
fn too_long(files: &[(String, String)], known: &[(&str, usize)]) -> Vec<String> {
    let mut problems = Vec::new();
    for (name, text) in files {
        let lines = text.lines().count();
        match known.iter().find(|(known, _)| known == name) {
            None if lines > MAX_FILE_LINES => problems.push(format!(
                "{name} has {lines} lines, over {MAX_FILE_LINES}: split it by concern"
            )),
            Some((_, was)) if lines > *was => problems.push(format!(
                "{name} grew to {lines} lines (it had {was}, already over {MAX_FILE_LINES})"
            )),
            Some(_) if lines <= MAX_FILE_LINES => problems.push(format!(
                "{name} is within {MAX_FILE_LINES} lines now: take it off KNOWN_LONG"
            )),
            _ => {}
        }
    }
    problems
}

/// Files with a bare `tokio::spawn` outside [`SPAWN_ALLOWED`] and outside tests.
fn bare_spawns(files: &[(String, String)]) -> Vec<String> {
    files
        .iter()
        .filter(|(name, _)| !SPAWN_ALLOWED.contains(&name.as_str()))
        .filter(|(name, _)| !name.ends_with("tests.rs"))
        .filter(|(_, text)| {
            // Unit tests at the end of a file may spawn what they like.
            let code = text.split("#[cfg(test)]").next().unwrap_or_default();
            code.contains("tokio::spawn(")
        })
        .map(|(name, _)| format!("{name} uses tokio::spawn: start it in a tasks::Tasks group"))
        .collect()
}

fn api_sources() -> Vec<(String, String)> {
    sources(&Path::new(env!("CARGO_MANIFEST_DIR")).join("src"))
}

#[test]
fn no_source_file_is_over_400_lines() {
    let problems = too_long(&api_sources(), KNOWN_LONG);
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn long_lived_tasks_are_started_in_a_tasks_group() {
    let problems = bare_spawns(&api_sources());
    assert!(problems.is_empty(), "{problems:#?}");
}

#[test]
fn the_checks_catch_a_long_file_a_grown_one_and_a_bare_spawn() {
    let file = |name: &str, lines: usize, extra: &str| {
        (name.to_owned(), format!("{}{extra}", "x\n".repeat(lines)))
    };
    let files = [
        file("fine.rs", 400, ""),
        file("long.rs", 401, ""),
        file("known.rs", 450, ""),
        file("grown.rs", 451, ""),
        file("spawns.rs", 10, "tokio::spawn(async {});"),
        file(
            "spawns_in_tests.rs",
            10,
            "#[cfg(test)]\ntokio::spawn(async {});",
        ),
    ];

    let long = too_long(&files, &[("known.rs", 450), ("grown.rs", 450)]);
    let spawns = bare_spawns(&files);

    assert_eq!(long.len(), 2, "{long:#?}");
    assert!(long[0].starts_with("long.rs has 401 lines"), "{long:#?}");
    assert!(long[1].starts_with("grown.rs grew to 451"), "{long:#?}");
    assert_eq!(spawns.len(), 1, "{spawns:#?}");
    assert!(spawns[0].starts_with("spawns.rs"), "{spawns:#?}");
}
