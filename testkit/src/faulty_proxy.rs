//! A network that fails the way real ones do: a loopback TCP proxy in front of a server (the
//! test PostgreSQL) that can
//!
//! - **pause** every connection, new ones included: sockets stay open, no byte is forwarded
//!   (a silent partition: packets dropped, nothing closed);
//! - **fail over**: the connections open now are paused forever, new ones pass (a database
//!   failover as a client sees it: the old address goes silent, a new connection works);
//! - **cut**: every connection is closed and new ones are refused until restored (the server
//!   is down);
//! - **drop the connections**: every connection is closed, new ones pass (a restart).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;

/// What the proxy does with the bytes of a connection born as the `n`th.
#[derive(Clone, Copy, Debug, Default)]
struct Rules {
    paused: bool,
    /// Connections born before this one are paused for good.
    frozen_before: u64,
    /// Connections born before this one are closed.
    closed_before: u64,
    /// New connections are closed at once.
    refusing: bool,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Flow {
    Pass,
    Hold,
    Close,
}

impl Rules {
    fn flow(&self, born: u64) -> Flow {
        if born < self.closed_before {
            Flow::Close
        } else if self.paused || born < self.frozen_before {
            Flow::Hold
        } else {
            Flow::Pass
        }
    }
}

pub struct FaultyProxy {
    port: u16,
    rules: watch::Sender<Rules>,
    born: Arc<AtomicU64>,
    task: tokio::task::JoinHandle<()>,
}

impl FaultyProxy {
    /// A proxy to `target` (`host:port`) that forwards everything.
    pub async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let (rules, watching) = watch::channel(Rules::default());
        let born = Arc::new(AtomicU64::new(0));
        let counter = born.clone();
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let this = counter.fetch_add(1, Ordering::SeqCst);
                if watching.borrow().refusing {
                    continue;
                }
                let target = target.clone();
                let rules = watching.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&target).await {
                        let _ = client.set_nodelay(true);
                        let _ = server.set_nodelay(true);
                        connect(client, server, this, rules).await;
                    }
                });
            }
        });
        Self {
            port,
            rules,
            born,
            task,
        }
    }

    /// `url` (a postgres URL of the proxied server) redirected through this proxy.
    pub fn url(&self, url: &str) -> String {
        crate::via_loopback(url, self.port).to_string()
    }

    /// Stops forwarding on every connection, and on new ones.
    pub fn pause(&self) {
        self.rules.send_modify(|rules| rules.paused = true);
    }

    /// Forwards again everything that is not frozen or closed.
    pub fn resume(&self) {
        self.rules.send_modify(|rules| rules.paused = false);
    }

    /// The connections open now go silent forever; new ones pass.
    pub fn fail_over(&self) {
        let now = self.born.load(Ordering::SeqCst);
        self.rules.send_modify(|rules| {
            rules.paused = false;
            rules.frozen_before = now;
        });
    }

    /// Closes every connection and refuses new ones until [`FaultyProxy::restore`].
    pub fn cut(&self) {
        let now = self.born.load(Ordering::SeqCst);
        self.rules.send_modify(|rules| {
            rules.closed_before = now;
            rules.refusing = true;
        });
    }

    /// Closes every connection; new ones pass (the server restarted).
    pub fn drop_connections(&self) {
        let now = self.born.load(Ordering::SeqCst);
        self.rules.send_modify(|rules| rules.closed_before = now);
    }

    /// Accepts and forwards new connections again, and unpauses.
    pub fn restore(&self) {
        self.rules.send_modify(|rules| {
            rules.refusing = false;
            rules.paused = false;
        });
    }
}

impl Drop for FaultyProxy {
    fn drop(&mut self) {
        self.task.abort();
    }
}

/// Both directions of one connection, until either ends or the rules close it.
async fn connect(client: TcpStream, server: TcpStream, born: u64, rules: watch::Receiver<Rules>) {
    let (client_read, client_write) = client.into_split();
    let (server_read, server_write) = server.into_split();
    tokio::select! {
        _ = pipe(client_read, server_write, born, rules.clone()) => {}
        _ = pipe(server_read, client_write, born, rules) => {}
    }
}

async fn pipe(
    mut from: impl AsyncRead + Unpin,
    mut to: impl AsyncWrite + Unpin,
    born: u64,
    mut rules: watch::Receiver<Rules>,
) {
    let mut chunk = vec![0; 16 * 1024];
    loop {
        let read = tokio::select! {
            read = from.read(&mut chunk) => read,
            () = until(&mut rules, born, |flow| flow == Flow::Close) => return,
        };
        let n = match read {
            Ok(0) | Err(_) => return,
            Ok(n) => n,
        };
        until(&mut rules, born, |flow| flow != Flow::Hold).await;
        if rules.borrow().flow(born) == Flow::Close || to.write_all(&chunk[..n]).await.is_err() {
            return;
        }
    }
}

/// Resolves once the flow of a connection born `born` satisfies `wanted`.
async fn until(rules: &mut watch::Receiver<Rules>, born: u64, wanted: impl Fn(Flow) -> bool) {
    let _ = rules.wait_for(|current| wanted(current.flow(born))).await;
}
