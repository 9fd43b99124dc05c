//! Counts database round trips on the wire: a loopback proxy in front of PostgreSQL that reads
//! the frontend protocol and counts each `Sync` that ends an exchange (the client then waits for
//! the server) and each simple `Query`.
//!
//! A lone `Sync` is not counted: sqlx's pool sends one to test each connection it takes back,
//! from a task of its own after the request has been answered.
//!
//! It also counts the statements parsed that call one of the store's routines (the PostgreSQL
//! functions that stand in for its hottest statements when statements are not kept).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

/// Untyped messages a client may send before its startup message.
const SSL_REQUEST: u32 = 80_877_103;
const GSSENC_REQUEST: u32 = 80_877_104;
/// How the store calls a routine (`shared`'s `store::routines`).
const ROUTINE_CALL: &[u8] = b"SELECT * FROM us_stmt_";

pub struct RoundTripCounter {
    count: Arc<AtomicU64>,
    named: Arc<AtomicU64>,
    routines: Arc<AtomicU64>,
    port: u16,
    task: tokio::task::JoinHandle<()>,
}

impl RoundTripCounter {
    /// A proxy to the PostgreSQL server at `target` (`host:port`).
    pub async fn start(target: String) -> Self {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("a loopback port");
        let port = listener.local_addr().expect("a bound address").port();
        let (count, named, routines) = (
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
            Arc::new(AtomicU64::new(0)),
        );
        let counters = (count.clone(), named.clone(), routines.clone());
        let task = tokio::spawn(async move {
            while let Ok((client, _)) = listener.accept().await {
                let target = target.clone();
                let counters = counters.clone();
                tokio::spawn(async move {
                    if let Ok(server) = TcpStream::connect(&target).await {
                        proxy(client, server, counters).await;
                    }
                });
            }
        });
        Self {
            count,
            named,
            routines,
            port,
            task,
        }
    }

    /// `url` (a postgres URL of the proxied server) redirected through this proxy, without TLS
    /// so that the messages can be read.
    pub fn url(&self, url: &str) -> String {
        let mut url = crate::via_loopback(url, self.port);
        url.query_pairs_mut().append_pair("sslmode", "disable");
        url.to_string()
    }

    pub fn count(&self) -> u64 {
        self.count.load(Ordering::SeqCst)
    }

    /// Statements prepared under a name (kept by the session) so far.
    pub fn named_statements(&self) -> u64 {
        self.named.load(Ordering::SeqCst)
    }

    /// Statements parsed so far that call a routine.
    pub fn routine_calls(&self) -> u64 {
        self.routines.load(Ordering::SeqCst)
    }
}

impl Drop for RoundTripCounter {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn proxy(
    client: TcpStream,
    server: TcpStream,
    (count, named, routines): (Arc<AtomicU64>, Arc<AtomicU64>, Arc<AtomicU64>),
) {
    let (mut client_read, mut client_write) = client.into_split();
    let (mut server_read, mut server_write) = server.into_split();
    let upstream = async move {
        let mut parser = FrontendParser::default();
        let mut chunk = vec![0; 16 * 1024];
        loop {
            let n = match client_read.read(&mut chunk).await {
                Ok(0) | Err(_) => break,
                Ok(n) => n,
            };
            let seen = parser.feed(&chunk[..n]);
            count.fetch_add(seen.round_trips, Ordering::SeqCst);
            named.fetch_add(seen.named_statements, Ordering::SeqCst);
            routines.fetch_add(seen.routine_calls, Ordering::SeqCst);
            if server_write.write_all(&chunk[..n]).await.is_err() {
                break;
            }
        }
        let _ = server_write.shutdown().await;
    };
    let downstream = async move {
        let _ = tokio::io::copy(&mut server_read, &mut client_write).await;
        let _ = client_write.shutdown().await;
    };
    tokio::join!(upstream, downstream);
}

/// What a stretch of the client's messages held.
#[derive(Debug, Default, PartialEq, Eq)]
struct Seen {
    round_trips: u64,
    named_statements: u64,
    routine_calls: u64,
}

/// Splits the client's byte stream into protocol messages and counts the round trips in it.
#[derive(Default)]
struct FrontendParser {
    buffer: Vec<u8>,
    started: bool,
    /// Messages since the last `Sync`.
    pending: bool,
}

impl FrontendParser {
    fn feed(&mut self, bytes: &[u8]) -> Seen {
        self.buffer.extend_from_slice(bytes);
        let mut seen = Seen::default();
        loop {
            if !self.started {
                // Untyped: length (4 bytes, itself included), then a code.
                let Some(length) = read_u32(&self.buffer, 0) else {
                    break;
                };
                let length = length as usize;
                if self.buffer.len() < length.max(8) {
                    break;
                }
                let code = read_u32(&self.buffer, 4).unwrap_or_default();
                if code != SSL_REQUEST && code != GSSENC_REQUEST {
                    self.started = true;
                }
                self.buffer.drain(..length);
            } else {
                // Typed: one type byte, then a length that includes itself.
                let Some(length) = read_u32(&self.buffer, 1) else {
                    break;
                };
                let total = 1 + length as usize;
                if self.buffer.len() < total {
                    break;
                }
                match self.buffer[0] {
                    b'Q' => seen.round_trips += 1,
                    b'S' if self.pending => {
                        seen.round_trips += 1;
                        self.pending = false;
                    }
                    b'S' => {}
                    kind => {
                        if kind == b'P' {
                            // The statement's name (empty: unnamed), then its text.
                            let body = &self.buffer[5..total];
                            let name_end = body.iter().position(|byte| *byte == 0);
                            if name_end.is_some_and(|end| end > 0) {
                                seen.named_statements += 1;
                            }
                            let text = name_end.map_or(&[][..], |end| &body[end + 1..]);
                            if text.starts_with(ROUTINE_CALL) {
                                seen.routine_calls += 1;
                            }
                        }
                        self.pending = true;
                    }
                }
                self.buffer.drain(..total);
            }
        }
        seen
    }
}

fn read_u32(buffer: &[u8], at: usize) -> Option<u32> {
    let bytes = buffer.get(at..at + 4)?;
    Some(u32::from_be_bytes(bytes.try_into().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn typed(kind: u8, body: &[u8]) -> Vec<u8> {
        let mut message = vec![kind];
        message.extend_from_slice(&((body.len() + 4) as u32).to_be_bytes());
        message.extend_from_slice(body);
        message
    }

    #[test]
    fn counts_exchanges_and_simple_queries_across_split_reads() {
        let mut stream = Vec::new();
        stream.extend_from_slice(&8u32.to_be_bytes());
        stream.extend_from_slice(&SSL_REQUEST.to_be_bytes());
        stream.extend_from_slice(&9u32.to_be_bytes());
        stream.extend_from_slice(&196_608u32.to_be_bytes());
        stream.push(0);
        for message in [
            typed(b'P', b"stmt\0SELECT 1\0\0\0"),
            typed(b'B', b"\0stmt\0\0\0\0\0"),
            typed(b'E', b"\0\0\0\0\0"),
            typed(b'S', b""),
            typed(b'P', b"\0SELECT * FROM us_stmt_0123($1)\0\0\0"),
            typed(b'S', b""),
            typed(b'Q', b"BEGIN\0"),
            typed(b'S', b""),
            typed(b'B', b"\0stmt\0\0\0\0\0"),
            typed(b'E', b"\0\0\0\0\0"),
            typed(b'S', b""),
        ] {
            stream.extend(message);
        }
        let mut parser = FrontendParser::default();
        let (round_trips, named, routines) =
            stream
                .chunks(3)
                .map(|chunk| parser.feed(chunk))
                .fold((0, 0, 0), |(r, n, c), seen| {
                    (
                        r + seen.round_trips,
                        n + seen.named_statements,
                        c + seen.routine_calls,
                    )
                });
        // Three exchanges ending in Sync and one simple query; the lone Sync (a ping) is not
        // one. One statement was named, one (unnamed) called a routine.
        assert_eq!(round_trips, 4);
        assert_eq!(named, 1);
        assert_eq!(routines, 1);
    }
}
