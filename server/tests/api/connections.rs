//! The local server's connections under clients that misbehave (CONTRACT §1), over real TCP
//! with raw sockets: early refusals answered to clients that send their whole body first,
//! slow heads and stalled bodies answered 408, idle connections closed, a bounded number of
//! connections, 431 with its body. The limits are shortened here; their contract values are
//! checked on their own.

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::{Duration, Instant};

use serde_json::Value;
use server::connections::{Limits, serve};
use testkit::{Backend, TestApp};

const MIB: usize = 1024 * 1024;

fn short_limits() -> Limits {
    Limits {
        head_timeout: Duration::from_millis(800),
        body_stall: Duration::from_millis(800),
        idle_timeout: Duration::from_millis(1500),
        max_connections: 16,
        drain_timeout: Duration::from_secs(1),
    }
}

/// The app behind the local server's connection handling, on a loopback port.
async fn listening(app: &TestApp, limits: Limits) -> u16 {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = listener.local_addr().unwrap().port();
    tokio::spawn(serve(
        listener,
        app.router(),
        limits,
        std::future::pending(),
    ));
    port
}

/// What a raw client read: the status and the JSON body (when there is one).
#[derive(Debug)]
struct Answer {
    status: u16,
    head: String,
    body: Option<Value>,
}

fn read_answer(stream: &mut TcpStream) -> Answer {
    stream
        .set_read_timeout(Some(Duration::from_secs(10)))
        .unwrap();
    let mut bytes = Vec::new();
    let mut chunk = [0; 4096];
    loop {
        match stream.read(&mut chunk) {
            Ok(0) => break,
            Ok(n) => bytes.extend_from_slice(&chunk[..n]),
            Err(err) => panic!(
                "reading the answer failed after {} bytes: {err}",
                bytes.len()
            ),
        }
        let text = String::from_utf8_lossy(&bytes);
        if let Some((head, body)) = text.split_once("\r\n\r\n") {
            let length = head
                .lines()
                .find_map(|line| {
                    line.to_ascii_lowercase()
                        .strip_prefix("content-length: ")
                        .map(str::to_owned)
                })
                .and_then(|length| length.trim().parse::<usize>().ok());
            if length.is_some_and(|length| body.len() >= length) {
                break;
            }
        }
    }
    let text = String::from_utf8_lossy(&bytes).into_owned();
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    let status = head
        .split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status in {head:?}"));
    Answer {
        status,
        head: head.to_owned(),
        body: serde_json::from_str(body).ok(),
    }
}

/// Writes `head` and `body` entirely before reading anything, as Python's `http.client` and
/// Java's `HttpURLConnection` do.
async fn send_all_then_read(port: u16, head: String, body: Vec<u8>) -> Answer {
    tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .set_write_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        stream.write_all(head.as_bytes()).unwrap();
        stream
            .write_all(&body)
            .expect("the server takes the whole body");
        read_answer(&mut stream)
    })
    .await
    .unwrap()
}

fn request_head(method: &str, path: &str, headers: &[(&str, String)], length: usize) -> String {
    let mut head = format!("{method} {path} HTTP/1.1\r\nHost: localhost\r\n");
    for (name, value) in headers {
        head.push_str(&format!("{name}: {value}\r\n"));
    }
    head.push_str(&format!("Content-Length: {length}\r\n\r\n"));
    head
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn early_refusals_reach_clients_that_send_their_whole_body_first() {
    let app = TestApp::start(Backend::Sqlite).await;
    let port = listening(&app, Limits::new(64)).await;
    let bucket = app.state.buckets().food_images.clone();
    let token = format!("Bearer {}", app.token("ann"));
    let upload = vec![0x89; 6 * MIB];

    let cases = [
        // No token: refused before the body is read.
        (
            vec![("Content-Type", "image/png".to_owned())],
            format!("/images/{bucket}"),
            401,
            "UNAUTHORIZED",
        ),
        // Over 5 MiB by its declared length.
        (
            vec![
                ("Content-Type", "image/png".to_owned()),
                ("Authorization", token.clone()),
            ],
            format!("/images/{bucket}"),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
        // Not an image type.
        (
            vec![
                ("Content-Type", "multipart/form-data; boundary=x".to_owned()),
                ("Authorization", token.clone()),
            ],
            format!("/images/{bucket}"),
            415,
            "UNSUPPORTED_MEDIA_TYPE",
        ),
        // A JSON body over 64 KiB.
        (
            vec![
                ("Content-Type", "application/json".to_owned()),
                ("Authorization", token.clone()),
            ],
            "/food-entries".to_owned(),
            413,
            "PAYLOAD_TOO_LARGE",
        ),
    ];
    for (headers, path, status, code) in cases {
        let head = request_head("POST", &path, &headers, upload.len());
        let answer = send_all_then_read(port, head, upload.clone()).await;
        assert_eq!(answer.status, status, "{path}: {answer:?}");
        assert_eq!(answer.body.unwrap()["code"], code);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_head_not_complete_in_time_is_408() {
    let app = TestApp::start(Backend::Sqlite).await;
    let port = listening(&app, short_limits()).await;
    let answers = tokio::task::spawn_blocking(move || {
        // Half a head, then nothing.
        let mut half = TcpStream::connect(("127.0.0.1", port)).unwrap();
        half.write_all(b"GET /health HTTP/1.1\r\nHost: loc")
            .unwrap();
        // Nothing at all.
        let mut silent = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let started = Instant::now();
        let answers = [read_answer(&mut half), read_answer(&mut silent)];
        (answers, started.elapsed())
    })
    .await
    .unwrap();
    let (answers, took) = answers;
    for answer in answers {
        assert_eq!(answer.status, 408, "{answer:?}");
        assert_eq!(answer.body.unwrap()["code"], "REQUEST_TIMEOUT");
        assert!(
            answer
                .head
                .to_ascii_lowercase()
                .contains("connection: close")
        );
    }
    assert!(took < Duration::from_secs(3), "took {took:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stalled_body_is_408() {
    let app = TestApp::start(Backend::Sqlite).await;
    let port = listening(&app, short_limits()).await;
    let token = format!("Bearer {}", app.token("ann"));
    let answer = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        let head = request_head(
            "POST",
            "/food-entries",
            &[
                ("Content-Type", "application/json".to_owned()),
                ("Authorization", token),
            ],
            100,
        );
        stream.write_all(head.as_bytes()).unwrap();
        stream.write_all(b"{\"name\": \"App").unwrap();
        read_answer(&mut stream)
    })
    .await
    .unwrap();
    assert_eq!(answer.status, 408, "{answer:?}");
    assert_eq!(answer.body.unwrap()["code"], "REQUEST_TIMEOUT");
    assert_eq!(
        testkit::with_pool!(app.db, |pool| {
            testkit::sqlx::query_scalar::<_, i64>("SELECT COUNT(*) FROM food_entries")
                .fetch_one(&pool)
                .await
                .unwrap()
        }),
        0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_idle_kept_alive_connection_is_closed() {
    let app = TestApp::start(Backend::Sqlite).await;
    let port = listening(&app, short_limits()).await;
    let (answer, closed_after) = tokio::task::spawn_blocking(move || {
        let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
        stream
            .write_all(b"GET /openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let answer = read_answer(&mut stream);
        let idle = Instant::now();
        let mut rest = Vec::new();
        let read = stream.read_to_end(&mut rest);
        assert!(
            read.is_ok() && rest.is_empty(),
            "{read:?}, {} bytes",
            rest.len()
        );
        (answer, idle.elapsed())
    })
    .await
    .unwrap();
    assert_eq!(answer.status, 200);
    assert!(
        (Duration::from_millis(1200)..Duration::from_secs(4)).contains(&closed_after),
        "closed after {closed_after:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_sockets_cannot_keep_others_from_being_served() {
    let app = TestApp::start(Backend::Sqlite).await;
    let limits = Limits {
        head_timeout: Duration::from_secs(30),
        idle_timeout: Duration::from_secs(30),
        ..short_limits()
    };
    let port = listening(&app, limits).await;
    let (took, idle) = tokio::task::spawn_blocking(move || {
        // Ten times more idle sockets than the server holds, half of them half-sent.
        let idle: Vec<TcpStream> = (0..160)
            .map(|i| {
                let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
                if i % 2 == 0 {
                    stream.write_all(b"GET /health HTTP/1.1\r\n").unwrap();
                }
                stream
            })
            .collect();
        std::thread::sleep(Duration::from_millis(300));
        let started = Instant::now();
        let mut client = TcpStream::connect(("127.0.0.1", port)).unwrap();
        client
            .write_all(b"GET /openapi.json HTTP/1.1\r\nHost: localhost\r\n\r\n")
            .unwrap();
        let answer = read_answer(&mut client);
        assert_eq!(answer.status, 200);
        (started.elapsed(), idle)
    })
    .await
    .unwrap();
    assert!(took < Duration::from_secs(3), "served after {took:?}");
    drop(idle);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn headers_too_large_are_431_with_the_json_body() {
    let app = TestApp::start(Backend::Sqlite).await;
    let port = listening(&app, short_limits()).await;
    let answers = tokio::task::spawn_blocking(move || {
        let huge = format!(
            "GET /health HTTP/1.1\r\nHost: localhost\r\nCookie: {}\r\n\r\n",
            "a".repeat(40 * 1024)
        );
        let many = format!(
            "GET /health HTTP/1.1\r\nHost: localhost\r\n{}\r\n",
            (0..120)
                .map(|i| format!("X-H{i}: v\r\n"))
                .collect::<String>()
        );
        [huge, many].map(|head| {
            let mut stream = TcpStream::connect(("127.0.0.1", port)).unwrap();
            // A client may still be writing when the answer comes: ignore a reset then.
            let _ = stream.write_all(head.as_bytes());
            read_answer(&mut stream)
        })
    })
    .await
    .unwrap();
    for answer in answers {
        assert_eq!(answer.status, 431, "{answer:?}");
        assert_eq!(answer.body.unwrap()["code"], "HEADERS_TOO_LARGE");
    }
}

#[test]
fn the_contract_limits() {
    let limits = Limits::new(100);
    assert_eq!(limits.head_timeout, Duration::from_secs(10));
    assert_eq!(limits.body_stall, Duration::from_secs(10));
    assert_eq!(limits.idle_timeout, Duration::from_secs(60));
    assert_eq!(limits.max_connections, 100);
}
