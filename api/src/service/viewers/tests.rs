//! The viewers' table, without a bus: entries set, refreshed, expired and limited.
use super::{State, ViewerChange, Viewers};

fn set(conversation_id: i64, agent_id: i64, state: State, ttl_ms: u64) -> ViewerChange {
    ViewerChange {
        page_id: "p".to_owned(),
        conversation_id,
        agent_id,
        state,
        ttl_ms,
        origin: 0,
    }
}

#[tokio::test(start_paused = true)]
async fn typing_falls_back_to_viewing_then_expires() {
    let viewers = Viewers::default();
    viewers.apply(&set(1, 7, State::Typing, 4000));
    assert_eq!(viewers.of_conversation(1), [(7, State::Typing)]);
    tokio::time::advance(std::time::Duration::from_millis(1001)).await;
    assert_eq!(viewers.of_conversation(1), [(7, State::Viewing)]);
    tokio::time::advance(std::time::Duration::from_millis(3000)).await;
    viewers.sweep();
    assert!(viewers.of_conversation(1).is_empty());
    assert!(viewers.watch_page("p").0.is_empty());
}

#[tokio::test(start_paused = true)]
async fn an_instances_own_sets_coming_back_on_the_bus_do_not_undo_later_ones() {
    use futures::StreamExt;
    use std::sync::Arc;
    let bus: Arc<dyn crate::bus::EventBus> = Arc::new(crate::bus::memory::MemoryBus::new());
    let viewers = Arc::new(Viewers::default());
    let mut changes = viewers.subscribe();
    let stop = tokio_util::sync::CancellationToken::new();
    let task = tokio::spawn(super::run(viewers.clone(), bus.clone(), stop.clone()));
    tokio::task::yield_now().await;
    let mine = |state| ViewerChange {
        origin: viewers.origin,
        ..set(1, 7, state, 4000)
    };

    // Both sets before the bus reader gets to the first one's echo.
    super::announce(&viewers, bus.as_ref(), mine(State::Viewing))
        .await
        .unwrap();
    super::announce(&viewers, bus.as_ref(), mine(State::Typing))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(100)).await;

    assert_eq!(viewers.of_conversation(1), [(7, State::Typing)]);
    let mut seen = Vec::new();
    while let Ok(Some(event)) =
        tokio::time::timeout(std::time::Duration::from_millis(10), changes.next()).await
    {
        if let crate::bus::BusEvent::ConversationPresence(change) = &*event {
            seen.push(change.state);
        }
    }
    assert_eq!(seen, [State::Viewing, State::Typing]);
    stop.cancel();
    task.await.unwrap();
}

#[tokio::test(start_paused = true)]
async fn subscribers_hear_each_change_once() {
    use futures::StreamExt;
    let viewers = Viewers::default();
    let mut changes = viewers.subscribe();
    viewers.apply(&set(1, 7, State::Viewing, 4000));
    viewers.apply(&set(1, 7, State::Viewing, 4000));
    viewers.apply(&set(1, 7, State::None, 4000));
    let mut seen = Vec::new();
    for _ in 0..2 {
        if let Some(event) = changes.next().await
            && let crate::bus::BusEvent::ConversationPresence(change) = &*event
        {
            seen.push(change.state);
        }
    }
    assert_eq!(seen, [State::Viewing, State::None]);
}
