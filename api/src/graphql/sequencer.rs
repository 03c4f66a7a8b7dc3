//! One Page's events in log order, each once: the bus's live events, with any hole filled
//! from the event log, after a subscriber's `after` or from the moment it started listening.
use std::collections::VecDeque;
use std::sync::Arc;

use futures::StreamExt;
use futures::stream::{self, BoxStream};
use sea_orm::DatabaseConnection;

use crate::bus::BusEvent;
use crate::error::ApiError;
use crate::service::event_log;

pub(super) type Events = BoxStream<'static, Result<Arc<BusEvent>, ApiError>>;

/// One Page's events in log order from `last` on, each once, the holes filled from the
/// log; the other Pages' events dropped, the rest passed through.
///
/// Without `replay_first` (no `after`: the subscriber starts now), `last` is the head read
/// after `events` started listening, so an event committed in between has a position at
/// or below it and still arrives on the bus: the first event of the Page the bus brings
/// starts the stream, whatever its position, so that nothing committed after listening
/// is dropped.
pub(super) fn in_order(
    events: BoxStream<'static, Arc<BusEvent>>,
    db: DatabaseConnection,
    page_id: String,
    last: i64,
    replay_first: bool,
) -> Events {
    let sequencer = Sequencer {
        events,
        db,
        page_id,
        last,
        ready: VecDeque::new(),
        catch_up: replay_first.then_some(None),
        held: None,
        from_first_live: !replay_first,
    };
    stream::unfold(sequencer, |mut sequencer| async move {
        let next = sequencer.next().await?;
        Some((next, sequencer))
    })
    .boxed()
}

struct Sequencer {
    events: BoxStream<'static, Arc<BusEvent>>,
    db: DatabaseConnection,
    page_id: String,
    /// The last position delivered.
    last: i64,
    ready: VecDeque<Arc<BusEvent>>,
    /// Read the log after `last` (up to this position, or to its end) before the bus.
    catch_up: Option<Option<i64>>,
    /// The live event that revealed a hole, delivered once the hole is filled.
    held: Option<Arc<BusEvent>>,
    /// Until the first event of the Page: it starts the stream even at or below `last`.
    from_first_live: bool,
}

impl Sequencer {
    async fn next(&mut self) -> Option<Result<Arc<BusEvent>, ApiError>> {
        loop {
            if let Some(event) = self.ready.pop_front() {
                return Some(Ok(event));
            }
            if let Some(until) = self.catch_up {
                let chunk = match event_log::replay(&self.db, &self.page_id, self.last, until).await
                {
                    Ok(chunk) => chunk,
                    Err(err) => return Some(Err(err.into())),
                };
                for event in chunk.events {
                    self.last = self.last.max(event.position);
                    self.ready.push_back(Arc::new(BusEvent::Page(event)));
                }
                if let Some(through) = chunk.through {
                    self.last = self.last.max(through);
                }
                if chunk.complete {
                    self.catch_up = None;
                    if let Some(held) = self.held.take()
                        && let BusEvent::Page(event) = &*held
                        && event.position > self.last
                    {
                        self.last = event.position;
                        self.ready.push_back(held);
                    }
                }
                continue;
            }
            let event = self.events.next().await?;
            match &*event {
                BusEvent::Page(page_event) if page_event.page_id == self.page_id => {
                    if std::mem::take(&mut self.from_first_live) {
                        self.last = self.last.min(page_event.position - 1);
                    }
                    if page_event.position <= self.last {
                        continue;
                    }
                    if page_event.position > self.last + 1 {
                        // Something in between did not come (yet): the log has it.
                        self.catch_up = Some(Some(page_event.position - 1));
                        self.held = Some(event);
                        continue;
                    }
                    self.last = page_event.position;
                    return Some(Ok(event));
                }
                BusEvent::Page(_) => continue,
                BusEvent::Resync => {
                    self.from_first_live = false;
                    self.catch_up = Some(None);
                    continue;
                }
                _ => return Some(Ok(event)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::stream;

    use super::*;
    use crate::bus::{Change, PageEvent};

    fn removed(page_id: &str, position: i64) -> Arc<BusEvent> {
        Arc::new(BusEvent::Page(PageEvent {
            page_id: page_id.to_owned(),
            position,
            change: Change::MessageRemoved {
                page_id: page_id.to_owned(),
                id: position,
            },
        }))
    }

    async fn positions(live: Vec<Arc<BusEvent>>, last: i64, replay_first: bool) -> Vec<i64> {
        let db = sea_orm::Database::connect("sqlite::memory:")
            .await
            .expect("an in-memory database");
        in_order(
            stream::iter(live).boxed(),
            db,
            "p1".into(),
            last,
            replay_first,
        )
        .map(|event| match &*event.expect("no error") {
            BusEvent::Page(event) => event.position,
            _ => -1,
        })
        .collect()
        .await
    }

    #[tokio::test]
    async fn a_subscriber_without_after_gets_what_was_committed_while_it_read_the_head() {
        // Listening began, then positions 6 and 7 were committed, then the head (7) was read.
        let live = vec![
            removed("other", 9),
            removed("p1", 6),
            removed("p1", 7),
            removed("p1", 8),
        ];
        assert_eq!(positions(live, 7, false).await, vec![6, 7, 8]);
    }

    #[tokio::test]
    async fn repeats_and_older_events_after_the_first_are_dropped() {
        let live = vec![
            removed("p1", 6),
            removed("p1", 6),
            removed("p1", 5),
            removed("p1", 7),
        ];
        assert_eq!(positions(live, 7, false).await, vec![6, 7]);
    }
}
