//! What an unauthenticated WebSocket may make the server read: a byte budget on the raw
//! connection, lifted once `connection_init` is accepted.
//!
//! tungstenite fixes its message and frame limits when the socket is made, so the small
//! limit before `connection_init` is enforced below it, on the bytes themselves: frames,
//! fragments, pings and control frames all draw on the same budget, and what tungstenite
//! can hold for the connection never exceeds it.
use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};
use tokio::sync::Notify;

const UNLIMITED: usize = usize::MAX;
/// Bytes read at a time while the budget applies (it is a few KiB anyway).
const CHUNK: usize = 1024;

/// Shared between the IO wrapper and the connection that lifts it.
pub(super) struct Budget {
    left: AtomicUsize,
    exhausted: Notify,
}

impl Budget {
    pub(super) fn new(bytes: usize) -> Arc<Self> {
        Arc::new(Self {
            left: AtomicUsize::new(bytes),
            exhausted: Notify::new(),
        })
    }

    /// From now on the connection reads freely (tungstenite's own limits apply).
    pub(super) fn lift(&self) {
        self.left.store(UNLIMITED, Ordering::Release);
    }

    /// Resolves once the client sent more than its budget: close it (1009).
    pub(super) async fn exhausted(&self) {
        self.exhausted.notified().await;
    }
}

/// `inner`, reading at most the budget's bytes until it is lifted. Past the budget, reads
/// never complete (nothing more is buffered) and [`Budget::exhausted`] fires.
pub(super) struct Budgeted<S> {
    inner: S,
    budget: Arc<Budget>,
}

impl<S> Budgeted<S> {
    pub(super) fn new(inner: S, budget: Arc<Budget>) -> Self {
        Self { inner, budget }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Budgeted<S> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let left = self.budget.left.load(Ordering::Acquire);
        if left == UNLIMITED {
            return Pin::new(&mut self.inner).poll_read(cx, buf);
        }
        if left == 0 {
            // Not woken again: the connection is being closed.
            self.budget.exhausted.notify_one();
            return Poll::Pending;
        }
        let mut chunk = [0u8; CHUNK];
        let want = left.min(buf.remaining()).min(CHUNK);
        let mut limited = ReadBuf::new(&mut chunk[..want]);
        match Pin::new(&mut self.inner).poll_read(cx, &mut limited) {
            Poll::Ready(Ok(())) => {
                let read = limited.filled();
                buf.put_slice(read);
                // `lift` may have raced this read; then the budget stays lifted.
                let _ =
                    self.budget
                        .left
                        .fetch_update(Ordering::AcqRel, Ordering::Acquire, |left| {
                            (left != UNLIMITED).then(|| left.saturating_sub(read.len()))
                        });
                Poll::Ready(Ok(()))
            }
            other => other,
        }
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Budgeted<S> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write(cx, buf)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}
