//! PgBouncer in transaction pooling mode, the nearest engine to RDS Proxy that runs here: a
//! server connection belongs to a client for one transaction only, and no prepared statement
//! outlives it. Debian's `pgbouncer` (installed by `scripts/with-test-services.sh` and
//! `scripts/bench.sh`), started on a free loopback port with a configuration of its own,
//! stopped when dropped.

use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Where Debian installs it (not on a non-root `PATH`).
const DEBIAN_BINARY: &str = "/usr/sbin/pgbouncer";

pub struct PgBouncer {
    child: Child,
    port: u16,
    _folder: tempfile::TempDir,
}

impl PgBouncer {
    /// A pooler in front of the PostgreSQL server of `server_url` (trust authentication, as
    /// the test server has it) keeping at most `server_connections` per database.
    pub async fn start(server_url: &str, server_connections: u32) -> Self {
        let server = url::Url::parse(server_url).expect("a postgres URL");
        let folder = tempfile::tempdir().expect("a temporary folder");
        let port = crate::closed_port();
        let users = folder.path().join("users.txt");
        std::fs::write(&users, format!("\"{}\" \"\"\n", server.username())).expect("writable");
        let config = folder.path().join("pgbouncer.ini");
        std::fs::write(
            &config,
            format!(
                "[databases]\n\
                 * = host={host} port={server_port} user={user}\n\
                 [pgbouncer]\n\
                 listen_addr = 127.0.0.1\n\
                 listen_port = {port}\n\
                 unix_socket_dir =\n\
                 auth_type = trust\n\
                 auth_file = {users}\n\
                 pool_mode = transaction\n\
                 default_pool_size = {server_connections}\n\
                 max_client_conn = 2000\n\
                 ignore_startup_parameters = extra_float_digits\n\
                 server_login_retry = 1\n",
                host = server.host_str().unwrap_or("127.0.0.1"),
                server_port = server.port().unwrap_or(5432),
                user = server.username(),
                users = users.display(),
            ),
        )
        .expect("writable");
        let child = runnable(folder.path())
            .arg(&config)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("pgbouncer starts (scripts/with-test-services.sh installs it)");
        let pooler = Self {
            child,
            port,
            _folder: folder,
        };
        pooler.wait_until_listening().await;
        pooler
    }

    /// `url` (a postgres URL of the pooled server) redirected through the pooler.
    pub fn url(&self, url: &str) -> String {
        crate::via_loopback(url, self.port).to_string()
    }

    async fn wait_until_listening(&self) {
        let started = Instant::now();
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                started.elapsed() < Duration::from_secs(10),
                "pgbouncer did not listen on 127.0.0.1:{}",
                self.port
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }
}

impl Drop for PgBouncer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The command that runs pgbouncer: as the `postgres` user when this runs as root, which
/// pgbouncer refuses to run as (the folder is handed over for its files). The user is switched
/// in the child itself, so that the process to stop is pgbouncer's own.
fn runnable(folder: &std::path::Path) -> Command {
    use std::os::unix::process::CommandExt;

    let mut command = Command::new(which_pgbouncer());
    if let Some((uid, gid)) = is_root().then(postgres_ids).flatten() {
        let _ = std::os::unix::fs::chown(folder, Some(uid), Some(gid));
        for file in std::fs::read_dir(folder).into_iter().flatten().flatten() {
            let _ = std::os::unix::fs::chown(file.path(), Some(uid), Some(gid));
        }
        command.uid(uid).gid(gid);
    }
    command
}

/// The uid and gid of `postgres`, from /etc/passwd.
fn postgres_ids() -> Option<(u32, u32)> {
    let passwd = std::fs::read_to_string("/etc/passwd").ok()?;
    let fields: Vec<&str> = passwd
        .lines()
        .find(|line| line.starts_with("postgres:"))?
        .split(':')
        .collect();
    Some((fields.get(2)?.parse().ok()?, fields.get(3)?.parse().ok()?))
}

fn which_pgbouncer() -> PathBuf {
    std::env::var_os("PATH")
        .into_iter()
        .flat_map(|path| std::env::split_paths(&path).collect::<Vec<_>>())
        .map(|dir| dir.join("pgbouncer"))
        .find(|candidate| candidate.is_file())
        .unwrap_or_else(|| PathBuf::from(DEBIAN_BINARY))
}

fn is_root() -> bool {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|status| {
            let line = status.lines().find(|line| line.starts_with("Uid:"))?;
            line.split_whitespace().nth(1).map(|uid| uid == "0")
        })
        .unwrap_or(false)
}
