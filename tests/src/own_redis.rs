//! A `redis-server` of one test's own, which the test can stop and start again on the
//! same port (`scripts/test` installs it). Without the binary, `start` answers `None` and
//! the test is skipped, unless the suite runs on Redis, under `CI=true` or with
//! `MF_REQUIRE_SERVICES=1`, where that is a failure (see `require`).
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use crate::require::{self, Need};

/// A Redis server of the test's own.
pub struct OwnRedis {
    port: u16,
    child: Option<Child>,
    _dir: tempfile::TempDir,
}

impl OwnRedis {
    /// Starts one on a free port; `None` (skip) when there is no `redis-server`.
    pub fn start() -> Option<Self> {
        let found = Command::new("redis-server")
            .arg("--version")
            .stdout(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !found {
            assert!(
                std::env::var("MF_TEST_REDIS_URL").is_err(),
                "redis-server is missing, but the suite runs on Redis"
            );
            require::missing(
                Need::Service,
                "redis-server on PATH (scripts/test installs it)",
            );
            return None;
        }
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let mut redis = Self {
            port,
            child: None,
            _dir: tempfile::tempdir().expect("a directory for Redis"),
        };
        redis.run();
        Some(redis)
    }

    /// `redis://127.0.0.1:PORT`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// Starts the server (again) on its port and waits until it accepts connections.
    pub fn run(&mut self) {
        let child = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .arg("--dir")
            .arg(self._dir.path())
            .stdout(Stdio::null())
            .spawn()
            .expect("starting redis-server");
        self.child = Some(child);
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "redis-server did not start"
            );
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    /// Kills the server, as an outage does.
    pub fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

impl Drop for OwnRedis {
    fn drop(&mut self) {
        self.stop();
    }
}
