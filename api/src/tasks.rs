//! The server's background tasks, owned: every long-lived task (the outbox relay, the
//! ingest writers, the snooze waker, a history sync...) is started into a [`Tasks`] group
//! by name, and stopped with it. Stopping cancels the group's token, which each task
//! watches, and waits (bounded) for all of them to return; a task still running after the
//! bound is named in the log.
//!
//! `Server::build` makes two groups, stopped in order after the HTTP requests have
//! drained: the tasks that write (which may still hand committed events to the outbox),
//! then the outbox's own relay, which publishes what they handed it last.
use std::collections::BTreeMap;
use std::future::Future;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

/// A group of named background tasks. Cheap to clone: clones are the same group.
#[derive(Clone, Default)]
pub struct Tasks {
    inner: Arc<Inner>,
}

#[derive(Default)]
struct Inner {
    tracker: TaskTracker,
    stop: CancellationToken,
    running: Mutex<Running>,
}

/// The tasks not yet finished, by the order they started in.
#[derive(Default)]
struct Running {
    next: u64,
    names: BTreeMap<u64, &'static str>,
}

/// How stopping a group went.
#[derive(Debug, PartialEq, Eq)]
pub struct Stopped {
    /// Tasks that were running when the stop began and have returned.
    pub finished: usize,
    /// Tasks still running when the bound ran out, by name.
    pub unfinished: Vec<&'static str>,
}

impl Tasks {
    pub fn new() -> Self {
        Self::default()
    }

    /// Cancelled when the group is asked to stop: every task of the group watches it.
    pub fn stopping(&self) -> CancellationToken {
        self.inner.stop.clone()
    }

    /// Runs `task` in the group under `name` (which the log uses). A task started after
    /// the group was asked to stop sees its token already cancelled.
    pub fn spawn<F>(&self, name: &'static str, task: F)
    where
        F: Future<Output = ()> + Send + 'static,
    {
        let id = {
            let mut running = self.lock();
            running.next += 1;
            let id = running.next;
            running.names.insert(id, name);
            id
        };
        let done = Done {
            inner: self.inner.clone(),
            id,
            name,
        };
        self.inner.tracker.spawn(async move {
            // Dropped when the task returns, or when it panics.
            let _done = done;
            task.await;
        });
    }

    /// Tasks started and not yet finished.
    pub fn running(&self) -> usize {
        self.lock().names.len()
    }

    /// Cancels the group's token and waits up to `bound` for its tasks to return.
    pub async fn stop(&self, bound: Duration) -> Stopped {
        let before = self.running();
        self.inner.stop.cancel();
        self.inner.tracker.close();
        let _ = tokio::time::timeout(bound, self.inner.tracker.wait()).await;
        let unfinished: Vec<&'static str> = self.lock().names.values().copied().collect();
        Stopped {
            finished: before.saturating_sub(unfinished.len()),
            unfinished,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Running> {
        // The map stays consistent whatever panicked while holding it.
        self.inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// Unregisters a task when it ends, however it ends.
struct Done {
    inner: Arc<Inner>,
    id: u64,
    name: &'static str,
}

impl Drop for Done {
    fn drop(&mut self) {
        self.inner
            .running
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .names
            .remove(&self.id);
        tracing::debug!(task = self.name, "background task finished");
    }
}

/// The server's three groups, stopped in this order (see the module's documentation).
/// Dropped, it asks them all to stop (without waiting).
#[derive(Default)]
pub struct Background {
    /// Tasks that write: the ingest writers, history syncs, the snooze waker, the profile
    /// fetcher, the pruner, and the watchers of credentials and viewers.
    pub work: Tasks,
    /// The outbox's relay and sweeper, which publish what `work` committed.
    pub outbox: Tasks,
    /// The bus's own reader (Redis), which the relay's publishes wait on.
    pub bus: Tasks,
}

impl Drop for Background {
    fn drop(&mut self) {
        for group in [&self.work, &self.outbox, &self.bus] {
            group.inner.stop.cancel();
        }
    }
}

impl Background {
    /// Stops the groups one after the other, each within `bound`, and logs the outcome:
    /// at info `all N background tasks finished`, or a warning naming those that did not.
    pub async fn stop(&self, bound: Duration) -> Stopped {
        let mut all = Stopped {
            finished: 0,
            unfinished: Vec::new(),
        };
        for group in [&self.work, &self.outbox, &self.bus] {
            let stopped = group.stop(bound).await;
            all.finished += stopped.finished;
            all.unfinished.extend(stopped.unfinished);
        }
        if all.unfinished.is_empty() {
            tracing::info!(
                count = all.finished,
                "all {} background tasks finished",
                all.finished
            );
        } else {
            tracing::warn!(
                unfinished = ?all.unfinished,
                ?bound,
                "{} background tasks did not finish in time; leaving them",
                all.unfinished.len()
            );
        }
        all
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn stop_waits_for_tasks_that_watch_the_token_and_names_those_that_do_not() {
        let tasks = Tasks::new();
        let stopping = tasks.stopping();
        tasks.spawn("polite", async move { stopping.cancelled().await });
        tasks.spawn("deaf", std::future::pending());
        assert_eq!(tasks.running(), 2);

        let stopped = tasks.stop(Duration::from_millis(50)).await;

        assert_eq!(
            stopped,
            Stopped {
                finished: 1,
                unfinished: vec!["deaf"]
            }
        );
    }

    #[tokio::test]
    async fn a_task_that_panics_counts_as_finished() {
        let tasks = Tasks::new();
        tasks.spawn("panics", async { panic!("on purpose") });

        let stopped = tasks.stop(Duration::from_secs(5)).await;

        assert_eq!(stopped.unfinished, Vec::<&str>::new());
        assert_eq!(tasks.running(), 0);
    }
}
