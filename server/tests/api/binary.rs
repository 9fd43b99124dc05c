//! The real local server binary, over TCP: what `make run` and `make token` do.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

const BINARY: &str = env!("CARGO_BIN_EXE_user-service");

struct Server {
    child: Child,
    port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn free_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}

async fn start(data_dir: &std::path::Path) -> Server {
    let port = free_port();
    let child = Command::new(BINARY)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", data_dir)
        .env("PORT", port.to_string())
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("the server binary starts");
    let server = Server { child, port };
    let started = Instant::now();
    while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the server did not listen"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    server
}

fn token(data_dir: &std::path::Path, user_id: &str) -> String {
    let output = Command::new(BINARY)
        .arg("token")
        .env_clear()
        .env("DATA_DIR", data_dir)
        .env("USER_ID", user_id)
        .output()
        .expect("the token command runs");
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).unwrap().trim().to_owned()
}

#[tokio::test]
async fn the_local_server_serves_the_api_over_tcp_and_stops_on_ctrl_c() {
    let data_dir = tempfile::tempdir().unwrap();
    let mut server = start(data_dir.path()).await;
    let base = format!("http://127.0.0.1:{}", server.port);
    let client = reqwest::Client::new();

    // The embedded defaults: a SQLite file, an image folder with both buckets, a dev secret.
    let health = client.get(format!("{base}/health")).send().await.unwrap();
    assert_eq!(health.status(), 200);
    let body: serde_json::Value = health.json().await.unwrap();
    assert_eq!(body["status"], "healthy");
    assert!(data_dir.path().join("user-service.db").is_file());
    assert!(data_dir.path().join("images/profile-pictures").is_dir());
    assert!(data_dir.path().join("images/food-images").is_dir());

    let token = token(data_dir.path(), "newcomer");
    assert_eq!(token.split('.').count(), 3);
    let document = client
        .get(format!("{base}/openapi.json"))
        .bearer_auth(&token)
        .send()
        .await
        .unwrap();
    assert_eq!(document.status(), 200);

    let missing = client.get(format!("{base}/nope")).send().await.unwrap();
    assert_eq!(missing.status(), 404);

    // Ctrl-C: a clean stop.
    let interrupted = Command::new("kill")
        .args(["-INT", &server.child.id().to_string()])
        .status()
        .unwrap();
    assert!(interrupted.success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = server.child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "the server did not stop"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "exit status {status}");
}

#[test]
fn a_misconfiguration_stops_start_up_with_one_line_naming_the_variable() {
    let data_dir = tempfile::tempdir().unwrap();
    let output = Command::new(BINARY)
        .env_clear()
        .env("DATA_DIR", data_dir.path())
        .env("PORT", "not-a-port")
        .output()
        .unwrap();
    assert!(!output.status.success());
    let stderr = String::from_utf8(output.stderr).unwrap();
    assert_eq!(stderr.lines().count(), 1, "{stderr}");
    assert!(stderr.starts_with("configuration error: PORT"), "{stderr}");
    assert!(
        !data_dir.path().join("jwt_secret").exists(),
        "nothing is written on a bad setting"
    );
}

/// Commands that need no configuration run whatever it holds, and write nothing.
#[test]
fn help_openapi_and_completions_need_no_configuration() {
    let data_dir = tempfile::tempdir().unwrap();
    let run = |args: &[&str]| {
        Command::new(BINARY)
            .args(args)
            .env_clear()
            .env("DATA_DIR", data_dir.path())
            .env("PORT", "not-a-port")
            .env("DATABASE_URL", "mysql://nope")
            .output()
            .unwrap()
    };
    let openapi = run(&["openapi"]);
    assert!(
        openapi.status.success(),
        "{}",
        String::from_utf8_lossy(&openapi.stderr)
    );
    let document: serde_json::Value = serde_json::from_slice(&openapi.stdout).unwrap();
    assert_eq!(document["openapi"], "3.1.0");
    let help = run(&["--help"]);
    assert!(help.status.success());
    let help = String::from_utf8(help.stdout).unwrap();
    for command in [
        "serve",
        "migrate",
        "token",
        "openapi",
        "badge-recalc",
        "completions",
    ] {
        assert!(help.contains(command), "{help}");
    }
    let serve_help = String::from_utf8(run(&["serve", "--help"]).stdout).unwrap();
    assert!(serve_help.contains("Serve the whole API"), "{serve_help}");
    let completions = run(&["completions", "bash"]);
    assert!(completions.status.success());
    assert!(
        String::from_utf8(completions.stdout)
            .unwrap()
            .contains("user-service")
    );
    assert!(
        !data_dir.path().join("jwt_secret").exists(),
        "no secret written by a command that needs none"
    );
    let unknown = run(&["frobnicate"]);
    assert_eq!(unknown.status.code(), Some(2));
}

#[test]
fn a_token_lives_24_hours_unless_told_otherwise() {
    let data_dir = tempfile::tempdir().unwrap();
    let claims = |hours: Option<&str>| {
        let mut command = Command::new(BINARY);
        command
            .arg("token")
            .env_clear()
            .env("DATA_DIR", data_dir.path());
        if let Some(hours) = hours {
            command.env("TOKEN_HOURS", hours);
        }
        let output = command.output().unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        let token = String::from_utf8(output.stdout).unwrap();
        let payload = token.trim().split('.').nth(1).unwrap().to_owned();
        use base64::Engine as _;
        let json = base64::engine::general_purpose::URL_SAFE_NO_PAD
            .decode(payload)
            .unwrap();
        let claims: serde_json::Value = serde_json::from_slice(&json).unwrap();
        claims["exp"].as_i64().unwrap() - claims["iat"].as_i64().unwrap()
    };
    assert_eq!(claims(None), 24 * 3600);
    assert_eq!(claims(Some("2")), 2 * 3600);
}

/// `make run` as a newcomer sees it, then `scripts/first-session.sh` through it.
#[test]
fn the_first_session_walkthrough_runs_against_the_local_server() {
    use std::io::{BufRead as _, BufReader};

    let data_dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let mut child = Command::new(BINARY)
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env("DATA_DIR", data_dir.path())
        .env("PORT", port.to_string())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the server binary starts");
    // The start-up line, read as a pipe reads it: no colour codes.
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let listening = lines
        .by_ref()
        .map(Result::unwrap)
        .find(|line| line.contains("listening on"))
        .expect("the server says it listens");
    let server = Server { child, port };
    // Logged from here on, unread: a full pipe would block the server.
    std::thread::spawn(move || lines.for_each(drop));
    assert!(!listening.contains('\u{1b}'), "{listening:?}");
    assert!(
        listening.contains(&format!("listening on http://127.0.0.1:{port}")),
        "{listening}"
    );
    let images = data_dir.path().join("images");
    assert!(
        listening.contains(&format!(
            "images: folder {} (profile-pictures, food-images, ",
            images.display()
        )),
        "{listening}"
    );

    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..");
    let output = Command::new("bash")
        .arg(root.join("scripts/first-session.sh"))
        .env("BASE_URL", format!("http://127.0.0.1:{}", server.port))
        .env("TOKEN", token(data_dir.path(), "newcomer"))
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    for expected in [
        "## 11. Export",
        "\"id\":\"streak_3\"",
        "\"currentStreak\":3",
        "not multipart/form-data",
        "(70 bytes of image/png)",
        "\"badgesEarned\":[]",
    ] {
        assert!(stdout.contains(expected), "no {expected:?} in:\n{stdout}");
    }
}
