//! Stock JavaScript clients, run by node: what integrations really use. `scripts/test`
//! installs them, pinned, into `target/test-node` (see `GRAPHQL_WS`).
//!
//! Missing node or the packages, a test is skipped with a message, except under
//! `CI=true` or `MF_REQUIRE_SERVICES=1`, where it fails (see `require`).
use std::path::PathBuf;
use std::process::Stdio;
use std::time::Duration;

use anyhow::{Context, anyhow};
use serde_json::Value;
use tokio::io::{AsyncBufReadExt, BufReader, Lines};
use tokio::process::{Child, ChildStdout, Command};

use crate::require::{self, Need};

/// The packages `scripts/test` installs (and their versions): keep the two in step.
pub const GRAPHQL_WS: &str = "graphql-ws@6.4.2 ws@8.23.0 graphql@16.15.0";

/// `target/test-node/node_modules`, or `MF_TEST_NODE_MODULES`.
fn node_modules() -> PathBuf {
    if let Ok(dir) = std::env::var("MF_TEST_NODE_MODULES") {
        return PathBuf::from(dir);
    }
    let exe = std::env::current_exe().expect("the test's path");
    exe.ancestors()
        .nth(3)
        .expect("target/<profile>/deps/<test>")
        .join("test-node/node_modules")
}

/// What is missing to run the stock clients, if anything.
fn missing() -> Option<String> {
    let node = std::process::Command::new("node")
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    if !node {
        return Some("node".to_owned());
    }
    let modules = node_modules();
    ["graphql-ws", "ws", "graphql"]
        .into_iter()
        .find(|package| !modules.join(package).join("package.json").exists())
        .map(|package| format!("the npm package {package} in {}", modules.display()))
}

/// A node script's process, its stdout read as JSON lines. Killed when dropped.
pub struct NodeScript {
    _child: Child,
    lines: Lines<BufReader<ChildStdout>>,
}

impl NodeScript {
    /// Runs `script` (CommonJS, with the stock packages on its `require` path) with
    /// `args`; `None` (after a loud message) when node or the packages are missing and
    /// not required.
    pub fn start(test: &str, script: &str, args: &[&str]) -> Option<Self> {
        if let Some(missing) = missing() {
            require::missing(
                Need::Service,
                &format!("{missing} (scripts/test installs {GRAPHQL_WS}), for {test}"),
            );
            return None;
        }
        let mut child = Command::new("node")
            .arg("-e")
            .arg(script)
            .arg("--")
            .args(args)
            .env("NODE_PATH", node_modules())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .kill_on_drop(true)
            .spawn()
            .expect("starting node");
        let stdout = child.stdout.take().expect("node's stdout");
        Some(Self {
            _child: child,
            lines: BufReader::new(stdout).lines(),
        })
    }

    /// The next JSON line the script printed, within `timeout`.
    pub async fn next(&mut self, timeout: Duration) -> anyhow::Result<Value> {
        let line = tokio::time::timeout(timeout, self.lines.next_line())
            .await
            .map_err(|_| anyhow!("the script printed nothing within {timeout:?}"))?
            .context("reading the script's output")?
            .ok_or_else(|| anyhow!("the script ended"))?;
        serde_json::from_str(&line).with_context(|| format!("not JSON: {line}"))
    }
}
