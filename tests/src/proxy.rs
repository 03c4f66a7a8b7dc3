//! A TCP proxy a test puts between the server and PostgreSQL, to take the database away
//! and give it back without touching the cluster the other tests share.
//!
//! - [`TcpProxy::sever`]: every connection through it is cut and new ones are refused, as
//!   when PostgreSQL is stopped (its port closed).
//! - [`TcpProxy::hang`]: connections are accepted and open ones kept, but no byte goes
//!   through, as when the database or the network stalls.
//! - [`TcpProxy::restore`]: connections go through again (those that hung are cut first,
//!   as a stalled server's clients would eventually see).
use std::net::SocketAddr;
use std::time::Duration;

use tokio::io::AsyncWriteExt;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Mode {
    Up,
    Severed,
    Hung,
}

/// A running proxy; dropping it cuts every connection and stops listening.
pub struct TcpProxy {
    addr: SocketAddr,
    mode: watch::Sender<Mode>,
    task: tokio::task::JoinHandle<()>,
}

impl TcpProxy {
    /// Listens on a free loopback port and forwards to `upstream`.
    pub async fn start(upstream: SocketAddr) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("binding the proxy");
        let addr = listener.local_addr().expect("the proxy's address");
        let (mode, watching) = watch::channel(Mode::Up);
        let task = tokio::spawn(serve(listener, addr, upstream, watching));
        Self { addr, mode, task }
    }

    /// Where clients connect.
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Cuts every connection and refuses new ones.
    pub fn sever(&self) {
        self.mode.send_replace(Mode::Severed);
    }

    /// Accepts connections but lets nothing through.
    pub fn hang(&self) {
        self.mode.send_replace(Mode::Hung);
    }

    /// Lets connections through again.
    pub fn restore(&self) {
        self.mode.send_replace(Mode::Up);
    }
}

impl Drop for TcpProxy {
    fn drop(&mut self) {
        self.mode.send_replace(Mode::Severed);
        self.task.abort();
    }
}

async fn serve(
    listener: TcpListener,
    addr: SocketAddr,
    upstream: SocketAddr,
    mut mode: watch::Receiver<Mode>,
) {
    let mut listener = Some(listener);
    loop {
        let current = *mode.borrow_and_update();
        if current == Mode::Severed {
            // Closed port: connecting is refused, as with a stopped server.
            listener = None;
        } else if listener.is_none() {
            listener = Some(rebind(addr).await);
        }
        let Some(accepting) = &listener else {
            if mode.changed().await.is_err() {
                return;
            }
            continue;
        };
        tokio::select! {
            accepted = accepting.accept() => {
                if let Ok((client, _)) = accepted {
                    tokio::spawn(forward(client, upstream, mode.clone()));
                }
            }
            changed = mode.changed() => {
                if changed.is_err() {
                    return;
                }
            }
        }
    }
}

/// The same port again (SO_REUSEADDR is set by tokio on Unix, so TIME_WAIT does not block it).
async fn rebind(addr: SocketAddr) -> TcpListener {
    for _ in 0..100 {
        if let Ok(listener) = TcpListener::bind(addr).await {
            return listener;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    panic!("the proxy could not listen on {addr} again");
}

/// One client connection: forwarded while the mode stays `Up`; in `Hung` it is held
/// open without a byte going through; cut when the mode changes.
async fn forward(mut client: TcpStream, upstream: SocketAddr, mut mode: watch::Receiver<Mode>) {
    let started = *mode.borrow_and_update();
    if started == Mode::Up
        && let Ok(mut server) = TcpStream::connect(upstream).await
    {
        let _ = client.set_nodelay(true);
        let _ = server.set_nodelay(true);
        tokio::select! {
            _ = tokio::io::copy_bidirectional(&mut client, &mut server) => {}
            _ = mode.wait_for(|m| *m != Mode::Up) => {}
        }
        if *mode.borrow() == Mode::Hung {
            // Stall: keep both ends open, silent, until the mode changes again.
            let _ = mode.changed().await;
        }
        let _ = server.shutdown().await;
    } else if started == Mode::Hung {
        let _ = mode.changed().await;
    }
    let _ = client.shutdown().await;
}
