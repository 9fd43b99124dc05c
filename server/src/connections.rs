//! The local server's HTTP/1.1 connections, held to what hostile or broken clients must not be
//! able to do to it (CONTRACT §1):
//!
//! - a request whose head is not complete within 10 s of its first byte (or of the connection,
//!   for its first request) gets 408 `REQUEST_TIMEOUT`, and a body that stalls for 10 s too
//!   (the handler reading it answers 408, see [`shared::http::BodyStalled`]);
//! - a kept-alive connection idle for 60 s is closed;
//! - a head over [`MAX_HEAD_BYTES`] or [`MAX_HEAD_LINES`] gets 431 `HEADERS_TOO_LARGE` with the
//!   JSON body (hyper's own 431 has none);
//! - at most [`Limits::max_connections`] connections are open: when full, or out of file
//!   descriptors, the longest-idle connection is closed to make room, so idle sockets cannot
//!   keep others from being served.
//!
//! hyper serves each connection; a watchdog beside it sees the bytes arrive (through
//! [`Watched`]) and the requests end, and closes the connection when a limit is passed. No
//! well-kept crate answers these timeouts with a response (hyper's `header_read_timeout`
//! closes silently), hence this module.

use std::convert::Infallible;
use std::io;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard};
use std::task::{Context, Poll};
use std::time::Duration;

use axum::Router;
use axum::body::Body;
use bytes::Bytes;
use http_body::{Frame, SizeHint};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt, ReadBuf};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, watch};
use tokio::time::Instant;
use tower::ServiceExt;

/// The longest request head (request line and headers) accepted.
pub const MAX_HEAD_BYTES: usize = 32 * 1024;
/// The most lines a request head may have: the request line and 100 headers.
pub const MAX_HEAD_LINES: usize = 101;

#[derive(Clone, Debug)]
pub struct Limits {
    /// From the first byte of a request (or the opening of the connection) to its last header.
    pub head_timeout: Duration,
    /// The longest a request body may go without a byte.
    pub body_stall: Duration,
    /// How long a kept-alive connection may wait for its next request.
    pub idle_timeout: Duration,
    pub max_connections: usize,
    /// How long a shutdown waits for requests in flight.
    pub drain_timeout: Duration,
}

impl Limits {
    /// The contract's limits, with room for `max_connections` connections.
    pub fn new(max_connections: usize) -> Self {
        Self {
            head_timeout: Duration::from_secs(10),
            body_stall: Duration::from_secs(10),
            idle_timeout: Duration::from_secs(60),
            max_connections: max_connections.max(1),
            drain_timeout: Duration::from_secs(20),
        }
    }
}

/// Serves `app` on `listener` until `shutdown` resolves, then lets the requests in flight
/// finish (for at most [`Limits::drain_timeout`]).
pub async fn serve(
    listener: TcpListener,
    app: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()>,
) {
    let registry = Arc::new(Registry::default());
    let (stop, stopping) = watch::channel(false);
    tokio::pin!(shutdown);
    loop {
        // Room first: a full house closes its longest-idle connection, or waits for one to end.
        while registry.len() >= limits.max_connections {
            let closed = registry.closed.notified();
            registry.evict_longest_idle();
            tokio::select! {
                _ = closed => {}
                _ = tokio::time::sleep(Duration::from_millis(100)) => {}
                _ = &mut shutdown => return drain(&registry, stop, &limits).await,
            }
        }
        let accepted = tokio::select! {
            accepted = listener.accept() => accepted,
            _ = &mut shutdown => break,
        };
        let stream = match accepted {
            Ok((stream, _)) => stream,
            Err(err) => {
                // Out of file descriptors (EMFILE, ENFILE) or a connection reset before it was
                // taken: make room, breathe, go on.
                tracing::warn!(error = %err, "accepting a connection failed");
                registry.evict_longest_idle();
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        let _ = stream.set_nodelay(true);
        let conn = registry.open();
        let app = app.clone();
        let limits = limits.clone();
        let registry = registry.clone();
        let stopping = stopping.clone();
        tokio::spawn(async move {
            serve_connection(stream, app, &conn, &limits, stopping).await;
            registry.close(&conn);
        });
    }
    drain(&registry, stop, &limits).await;
}

async fn drain(registry: &Registry, stop: watch::Sender<bool>, limits: &Limits) {
    let _ = stop.send(true);
    let deadline = Instant::now() + limits.drain_timeout;
    while registry.len() > 0 {
        let closed = registry.closed.notified();
        if registry.len() == 0 {
            break;
        }
        tokio::select! {
            _ = closed => {}
            _ = tokio::time::sleep_until(deadline) => {
                tracing::warn!(open = registry.len(), "shutting down with requests still in flight");
                break;
            }
        }
    }
}

/// Why the watchdog ended a connection.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Verdict {
    /// A head or a first request that did not arrive in time: 408.
    TooSlow,
    /// A head over the limits: 431.
    TooLarge,
    /// Idle too long, or closed to make room: no answer is owed.
    Close,
}

async fn serve_connection(
    mut stream: TcpStream,
    app: Router,
    conn: &Arc<Connection>,
    limits: &Limits,
    mut stopping: watch::Receiver<bool>,
) {
    let verdict = {
        let io = TokioIo::new(Watched {
            stream: &mut stream,
            conn,
        });
        let service = hyper::service::service_fn(|request: hyper::Request<Incoming>| {
            let app = app.clone();
            let conn = conn.clone();
            let stall = limits.body_stall;
            async move {
                let request = request.map(|body| Body::new(RequestBody::new(body, &conn, stall)));
                let response = app
                    .oneshot(request)
                    .await
                    .unwrap_or_else(|never| match never {});
                Ok::<_, Infallible>(response.map(|body| Body::new(ResponseBody { body, conn })))
            }
        });
        let http = hyper::server::conn::http1::Builder::new()
            // Above this module's own limits, so that they answer first, with a body.
            .max_headers(2 * MAX_HEAD_LINES)
            .max_buf_size(4 * MAX_HEAD_BYTES)
            .serve_connection(io, service);
        tokio::pin!(http);
        let mut shutting_down = false;
        loop {
            tokio::select! {
                result = http.as_mut() => {
                    if let Err(err) = result {
                        tracing::debug!(error = %err, "a connection ended with an error");
                    }
                    break None;
                }
                verdict = conn.watchdog(limits) => break Some(verdict),
                _ = stopping.changed(), if !shutting_down => {
                    shutting_down = true;
                    http.as_mut().graceful_shutdown();
                }
            }
        }
    };
    let answer = match verdict {
        Some(Verdict::TooSlow) => Some(shared::Error::RequestTimeout),
        Some(Verdict::TooLarge) => Some(shared::Error::HeadersTooLarge),
        Some(Verdict::Close) | None => None,
    };
    if let Some(error) = answer {
        let _ = tokio::time::timeout(Duration::from_secs(1), async {
            stream.write_all(&raw_response(&error)).await?;
            stream.shutdown().await
        })
        .await;
    }
}

/// An error response written straight to the socket (hyper is no longer serving it), with the
/// contract's JSON body and `Connection: close`.
fn raw_response(error: &shared::Error) -> Vec<u8> {
    let status = error.status();
    let body = serde_json::to_vec(&error.body()).unwrap_or_default();
    let mut response = format!(
        "HTTP/1.1 {} {}\r\ncontent-type: application/json\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        status.as_u16(),
        status.canonical_reason().unwrap_or_default(),
        body.len()
    )
    .into_bytes();
    response.extend_from_slice(&body);
    response
}

/// Where a connection is in its current exchange.
#[derive(Clone, Copy, Debug)]
enum Phase {
    /// Waiting for a request: the first one (`fresh`), or the next on a kept-alive connection.
    Idle {
        since: Instant,
        fresh: bool,
    },
    /// Part of a request head has arrived. `tail` holds the last bytes seen, to find the blank
    /// line that ends the head across reads.
    Head {
        since: Instant,
        bytes: usize,
        lines: usize,
        tail: [u8; 3],
    },
    /// A request is being served, from the end of its head to the end of both bodies.
    Busy {
        response_done: bool,
        request_done: bool,
    },
    TooLarge,
}

/// One open connection, as its watchdog and the registry see it.
struct Connection {
    id: u64,
    phase: Mutex<Phase>,
    changed: Notify,
    evicted: AtomicBool,
}

impl Connection {
    fn phase(&self) -> MutexGuard<'_, Phase> {
        self.phase
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Follows the bytes of request heads (bodies are the handlers' and hyper's business).
    fn received(&self, bytes: &[u8]) {
        let mut phase = self.phase();
        let (since, mut seen, mut lines, mut tail) = match *phase {
            Phase::Idle { .. } if bytes.is_empty() => return,
            Phase::Idle { .. } => (Instant::now(), 0, 0, [0; 3]),
            Phase::Head {
                since,
                bytes,
                lines,
                tail,
            } => (since, bytes, lines, tail),
            // Bytes after a head belong to its body (or to a pipelined request).
            Phase::Busy { .. } | Phase::TooLarge => return,
        };
        let mut ended = false;
        for &byte in bytes {
            seen += 1;
            if byte == b'\n' && tail[2] == b'\r' {
                lines += 1;
                if tail[0] == b'\r' && tail[1] == b'\n' {
                    ended = true;
                    break;
                }
            }
            tail = [tail[1], tail[2], byte];
        }
        *phase = if seen > MAX_HEAD_BYTES || lines > MAX_HEAD_LINES {
            Phase::TooLarge
        } else if ended {
            Phase::Busy {
                response_done: false,
                request_done: false,
            }
        } else {
            Phase::Head {
                since,
                bytes: seen,
                lines,
                tail,
            }
        };
        self.changed.notify_one();
    }

    /// The end of a request's body (`request`) or of its response.
    fn finished(&self, request: bool) {
        let mut phase = self.phase();
        if let Phase::Busy {
            response_done,
            request_done,
        } = &mut *phase
        {
            if request {
                *request_done = true;
            } else {
                *response_done = true;
            }
            if *response_done && *request_done {
                *phase = Phase::Idle {
                    since: Instant::now(),
                    fresh: false,
                };
            }
        }
        self.changed.notify_one();
    }

    /// Since when the connection has been waiting on its client, unless it is serving.
    fn waiting_since(&self) -> Option<Instant> {
        match *self.phase() {
            Phase::Idle { since, .. } | Phase::Head { since, .. } => Some(since),
            Phase::Busy { .. } | Phase::TooLarge => None,
        }
    }

    fn evict(&self) {
        self.evicted.store(true, Ordering::SeqCst);
        self.changed.notify_one();
    }

    /// Resolves when a limit is passed.
    async fn watchdog(&self, limits: &Limits) -> Verdict {
        loop {
            let changed = self.changed.notified();
            let phase = *self.phase();
            let waiting = !matches!(phase, Phase::Busy { .. });
            if self.evicted.load(Ordering::SeqCst) && waiting {
                return match phase {
                    Phase::Head { .. } => Verdict::TooSlow,
                    _ => Verdict::Close,
                };
            }
            let deadline = match phase {
                Phase::TooLarge => return Verdict::TooLarge,
                Phase::Idle { since, fresh: true } => {
                    Some((since + limits.head_timeout, Verdict::TooSlow))
                }
                Phase::Idle {
                    since,
                    fresh: false,
                } => Some((since + limits.idle_timeout, Verdict::Close)),
                Phase::Head { since, .. } => Some((since + limits.head_timeout, Verdict::TooSlow)),
                Phase::Busy { .. } => None,
            };
            match deadline {
                Some((at, verdict)) => {
                    tokio::select! {
                        _ = changed => {}
                        _ = tokio::time::sleep_until(at) => {
                            // Unless something happened at the very last moment.
                            if matches!(*self.phase(), Phase::Idle { .. } | Phase::Head { .. }) {
                                return verdict;
                            }
                        }
                    }
                }
                None => changed.await,
            }
        }
    }
}

/// The open connections.
#[derive(Default)]
struct Registry {
    open: Mutex<Vec<Arc<Connection>>>,
    next_id: AtomicU64,
    closed: Notify,
}

impl Registry {
    fn connections(&self) -> MutexGuard<'_, Vec<Arc<Connection>>> {
        self.open
            .lock()
            .unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    fn len(&self) -> usize {
        self.connections().len()
    }

    fn open(&self) -> Arc<Connection> {
        let conn = Arc::new(Connection {
            id: self.next_id.fetch_add(1, Ordering::Relaxed),
            phase: Mutex::new(Phase::Idle {
                since: Instant::now(),
                fresh: true,
            }),
            changed: Notify::new(),
            evicted: AtomicBool::new(false),
        });
        self.connections().push(conn.clone());
        conn
    }

    fn close(&self, conn: &Connection) {
        self.connections().retain(|open| open.id != conn.id);
        self.closed.notify_waiters();
    }

    /// Closes the connection that has waited longest on its client, if one is waiting.
    fn evict_longest_idle(&self) {
        let longest = self
            .connections()
            .iter()
            .filter(|conn| !conn.evicted.load(Ordering::SeqCst))
            .filter_map(|conn| Some((conn.waiting_since()?, conn.clone())))
            .min_by_key(|(since, _)| *since);
        if let Some((_, conn)) = longest {
            tracing::debug!(
                connection = conn.id,
                "closing an idle connection to make room"
            );
            conn.evict();
        }
    }
}

/// The socket as hyper reads it, with the bytes shown to the connection's watchdog.
struct Watched<'a> {
    stream: &'a mut TcpStream,
    conn: &'a Connection,
}

impl AsyncRead for Watched<'_> {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let before = buf.filled().len();
        let polled = Pin::new(&mut *self.stream).poll_read(cx, buf);
        if let Poll::Ready(Ok(())) = polled {
            self.conn.received(&buf.filled()[before..]);
            // A head over the limits is never shown to hyper, which could otherwise parse it
            // and serve it before the watchdog answers 431. The watchdog has been woken; this
            // connection is closed without another read.
            if matches!(*self.conn.phase(), Phase::TooLarge) {
                buf.set_filled(before);
                return Poll::Pending;
            }
        }
        polled
    }
}

impl AsyncWrite for Watched<'_> {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.stream).poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut *self.stream).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream.is_write_vectored()
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.stream).poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut *self.stream).poll_shutdown(cx)
    }
}

/// A request body that tells its connection when it has ended, and fails with
/// [`shared::http::BodyStalled`] when no byte comes for `stall`.
struct RequestBody {
    body: Incoming,
    conn: Arc<Connection>,
    stall: Duration,
    timer: Option<Pin<Box<tokio::time::Sleep>>>,
    ended: bool,
}

impl RequestBody {
    fn new(body: Incoming, conn: &Arc<Connection>, stall: Duration) -> Self {
        Self {
            body,
            conn: conn.clone(),
            stall,
            timer: None,
            ended: false,
        }
    }

    fn end(&mut self) {
        if !self.ended {
            self.ended = true;
            self.conn.finished(true);
        }
    }
}

impl http_body::Body for RequestBody {
    type Data = Bytes;
    type Error = shared::error::BoxError;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = &mut *self;
        match Pin::new(&mut this.body).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.timer = None;
                if frame.is_none() {
                    this.end();
                }
                Poll::Ready(frame.map(|frame| frame.map_err(Into::into)))
            }
            Poll::Pending => {
                let stall = this.stall;
                let timer = this
                    .timer
                    .get_or_insert_with(|| Box::pin(tokio::time::sleep(stall)));
                match timer.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(shared::http::BodyStalled)))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for RequestBody {
    fn drop(&mut self) {
        // A body never read to its end (a GET's empty one, one refused unread) ends here.
        self.end();
    }
}

/// A response body that tells its connection when it has been sent (or dropped).
struct ResponseBody {
    body: Body,
    conn: Arc<Connection>,
}

impl http_body::Body for ResponseBody {
    type Data = Bytes;
    type Error = axum::Error;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        Pin::new(&mut self.body).poll_frame(cx)
    }

    fn is_end_stream(&self) -> bool {
        self.body.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.body.size_hint()
    }
}

impl Drop for ResponseBody {
    fn drop(&mut self) {
        self.conn.finished(false);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection() -> Connection {
        Connection {
            id: 0,
            phase: Mutex::new(Phase::Idle {
                since: Instant::now(),
                fresh: true,
            }),
            changed: Notify::new(),
            evicted: AtomicBool::new(false),
        }
    }

    #[tokio::test]
    async fn a_head_is_followed_across_reads() {
        let conn = connection();
        conn.received(b"GET / HTTP/1.1\r\nHost: x\r");
        assert!(matches!(*conn.phase(), Phase::Head { lines: 1, .. }));
        conn.received(b"\n\r");
        assert!(matches!(*conn.phase(), Phase::Head { lines: 2, .. }));
        conn.received(b"\nbody bytes that are not a head");
        assert!(matches!(*conn.phase(), Phase::Busy { .. }));
        conn.finished(false);
        conn.finished(true);
        assert!(matches!(*conn.phase(), Phase::Idle { fresh: false, .. }));
    }

    #[tokio::test]
    async fn heads_over_the_limits_are_too_large() {
        let conn = connection();
        conn.received(&vec![b'a'; MAX_HEAD_BYTES + 1]);
        assert!(matches!(*conn.phase(), Phase::TooLarge));
        let conn = connection();
        conn.received(b"GET / HTTP/1.1\r\n");
        for _ in 0..MAX_HEAD_LINES {
            conn.received(b"X-A: b\r\n");
        }
        assert!(matches!(*conn.phase(), Phase::TooLarge));
    }

    #[test]
    fn raw_responses_carry_the_json_body() {
        let text = String::from_utf8(raw_response(&shared::Error::RequestTimeout)).unwrap();
        assert!(
            text.starts_with("HTTP/1.1 408 Request Timeout\r\n"),
            "{text}"
        );
        let (head, body) = text.split_once("\r\n\r\n").unwrap();
        assert!(head.contains("connection: close"));
        let body: serde_json::Value = serde_json::from_str(body).unwrap();
        assert_eq!(body["code"], "REQUEST_TIMEOUT");
        assert!(head.contains(&format!("content-length: {}", text.len() - head.len() - 4)));
    }
}
