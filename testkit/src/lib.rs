//! The test harness of the User Service.
//!
//! Everything here is real: each test gets a fresh PostgreSQL database (dropped afterwards) or
//! its own SQLite file, the S3 tests talk to the S3-compatible server that `make test` starts on
//! loopback (`TEST_S3_ENDPOINT`), and the Auth Service is a wiremock server on loopback. HTTP
//! goes through the merged router in-process (`tower::ServiceExt::oneshot`).

mod app;
mod db;
mod faulty_proxy;
mod faulty_s3;
pub mod lambda;
pub mod logs;
mod pgbouncer;
mod round_trips;
mod s3;
pub mod seed;
pub mod stack;

pub use app::{TestApp, TestAppBuilder, TestRequest, TestResponse, access_token, sign};
pub use db::TestDb;
pub use faulty_proxy::FaultyProxy;
pub use faulty_s3::FaultyS3;
pub use pgbouncer::PgBouncer;
pub use round_trips::RoundTripCounter;
pub use s3::{ObjectBackend, s3_endpoint, test_object_store};

/// A loopback port on which nothing listens (a dependency that refuses connections).
pub fn closed_port() -> u16 {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("a loopback port");
    listener.local_addr().expect("a bound address").port()
}

/// `url` (a postgres URL) pointed at a loopback `port` in front of its server.
fn via_loopback(url: &str, port: u16) -> url::Url {
    let mut url = url::Url::parse(url).expect("a postgres URL");
    url.set_host(Some("127.0.0.1")).expect("a host");
    url.set_port(Some(port)).expect("a port");
    url
}

/// `http://` on a [`closed_port`].
pub fn closed_port_url() -> String {
    format!("http://127.0.0.1:{}", closed_port())
}

/// The HS256 secret of every test app.
pub const JWT_SECRET: &str = "test-jwt-secret-with-enough-entropy-0123456789";

/// A database backend: every storage behaviour is tested on both.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Postgres,
    Sqlite,
}

/// Runs each named `async fn(Backend)` once on PostgreSQL and once on SQLite, as the tests
/// `<name>::postgres` and `<name>::sqlite`.
#[macro_export]
macro_rules! backend_tests {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                super::$test($crate::Backend::Postgres).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                super::$test($crate::Backend::Sqlite).await
            }
        }
    )+};
}

/// Runs each named `async fn(ObjectBackend)` once on the S3 server and once on a local folder,
/// as the tests `<name>::s3` and `<name>::local`.
#[macro_export]
macro_rules! object_store_tests {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn s3() {
                super::$test($crate::ObjectBackend::S3).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn local() {
                super::$test($crate::ObjectBackend::Local).await
            }
        }
    )+};
}

/// Runs each named `async fn(Backend, ObjectBackend)` on every pairing of a database backend
/// and an object store, as the tests `<name>::{postgres_s3, postgres_local, sqlite_s3,
/// sqlite_local}`.
#[macro_export]
macro_rules! backend_and_store_tests {
    ($($test:ident),+ $(,)?) => {$(
        mod $test {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_s3() {
                super::$test($crate::Backend::Postgres, $crate::ObjectBackend::S3).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres_local() {
                super::$test($crate::Backend::Postgres, $crate::ObjectBackend::Local).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_s3() {
                super::$test($crate::Backend::Sqlite, $crate::ObjectBackend::S3).await
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite_local() {
                super::$test($crate::Backend::Sqlite, $crate::ObjectBackend::Local).await
            }
        }
    )+};
}

/// The HTTP client of the harness, for requests to signed URLs.
pub use reqwest;
/// The sqlx of the harness, for the raw SQL of [`with_pool!`] bodies.
pub use sqlx;

/// Runs `$body` with `$pool` bound to a new pool of `$db` (a [`TestDb`]) in the backend's own
/// type: raw SQL for a test's setup and assertions.
#[macro_export]
macro_rules! with_pool {
    ($db:expr, |$pool:ident| $body:expr) => {
        match $db.backend() {
            $crate::Backend::Postgres => {
                let $pool = $crate::sqlx::PgPool::connect($db.url())
                    .await
                    .expect("the test database accepts connections");
                let output = $body;
                $pool.close().await;
                output
            }
            $crate::Backend::Sqlite => {
                let $pool = $crate::sqlx::SqlitePool::connect($db.url())
                    .await
                    .expect("the test database opens");
                let output = $body;
                $pool.close().await;
                output
            }
        }
    };
}
