//! A fresh database per test.

use std::time::Duration;

use shared::config::{DatabaseBackend, DatabaseConfig};
use shared::secret::Secret;
use shared::store::Store;
use sqlx::{Connection, PgConnection};

use crate::Backend;

const DEFAULT_TEST_DATABASE_URL: &str = "postgres://postgres@127.0.0.1:5432/postgres";

/// A database that exists for one test: a new PostgreSQL database (dropped when this is
/// dropped) or a SQLite file in a temporary folder.
pub struct TestDb {
    backend: Backend,
    url: String,
    postgres_name: Option<String>,
    _folder: Option<tempfile::TempDir>,
}

impl TestDb {
    /// An empty database (no migrations applied).
    pub async fn empty(backend: Backend) -> Self {
        match backend {
            Backend::Postgres => Self::postgres().await,
            Backend::Sqlite => Self::sqlite(),
        }
    }

    /// A migrated database and a store on it.
    pub async fn migrated(backend: Backend) -> (Self, Store) {
        let db = Self::empty(backend).await;
        let store = db.store();
        store
            .migrate()
            .await
            .expect("migrations apply to a fresh database");
        (db, store)
    }

    pub fn backend(&self) -> Backend {
        self.backend
    }

    /// The `DATABASE_URL` of this database.
    pub fn url(&self) -> &str {
        &self.url
    }

    pub fn config(&self) -> DatabaseConfig {
        DatabaseConfig {
            backend: match self.backend {
                Backend::Postgres => DatabaseBackend::Postgres {
                    url: Secret::new(self.url.clone()),
                },
                Backend::Sqlite => DatabaseBackend::Sqlite {
                    path: self.url.trim_start_matches("sqlite://").into(),
                },
            },
            max_connections: 5,
            statement_cache_capacity: 100,
            deadline: Duration::from_millis(4500),
        }
    }

    /// A new store (pool) on this database.
    pub fn store(&self) -> Store {
        Store::connect_lazy(&self.config()).expect("test database config is valid")
    }

    /// `host:port` of the PostgreSQL server.
    pub fn server_address(&self) -> String {
        let url = url::Url::parse(&self.url).expect("a postgres URL");
        format!(
            "{}:{}",
            url.host_str().unwrap_or("127.0.0.1"),
            url.port().unwrap_or(5432)
        )
    }

    /// The server URL of PostgreSQL tests (`TEST_DATABASE_URL`).
    pub fn admin_url() -> String {
        std::env::var("TEST_DATABASE_URL").unwrap_or_else(|_| DEFAULT_TEST_DATABASE_URL.to_owned())
    }

    async fn postgres() -> Self {
        let admin_url = Self::admin_url();
        let mut admin = PgConnection::connect(&admin_url)
            .await
            .unwrap_or_else(|err| {
                panic!(
                    "PostgreSQL is not reachable at TEST_DATABASE_URL={admin_url} ({err}); \
                 run `make test`, which starts one, or point TEST_DATABASE_URL at a server"
                )
            });
        let name = format!("user_service_test_{}", uuid::Uuid::new_v4().simple());
        // The name is ours (a UUID), never input.
        sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
            .execute(&mut admin)
            .await
            .expect("the test user may create databases");
        admin.close().await.ok();
        let url =
            url_with_database(&admin_url, &name).expect("TEST_DATABASE_URL is a postgres:// URL");
        Self {
            backend: Backend::Postgres,
            url,
            postgres_name: Some(name),
            _folder: None,
        }
    }

    fn sqlite() -> Self {
        let folder = tempfile::tempdir().expect("a temporary folder");
        let url = format!("sqlite://{}", folder.path().join("test.db").display());
        Self {
            backend: Backend::Sqlite,
            url,
            postgres_name: None,
            _folder: Some(folder),
        }
    }
}

fn url_with_database(server_url: &str, database: &str) -> Option<String> {
    let (base, query) = match server_url.split_once('?') {
        Some((base, query)) => (base, Some(query)),
        None => (server_url, None),
    };
    let scheme_end = base.find("://")?;
    let host_start = scheme_end + 3;
    let path_start = base[host_start..]
        .find('/')
        .map_or(base.len(), |i| host_start + i);
    let mut url = format!("{}/{}", &base[..path_start], database);
    if let Some(query) = query {
        url.push('?');
        url.push_str(query);
    }
    Some(url)
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        let admin_url = Self::admin_url();
        // Drop runs inside the test's runtime, which cannot block on itself: use a thread
        // with a runtime of its own. FORCE ends the connections the test's pools still hold.
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()?;
            runtime.block_on(async {
                let mut admin = PgConnection::connect(&admin_url).await?;
                let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                sqlx::query(sqlx::AssertSqlSafe(drop))
                    .execute(&mut admin)
                    .await?;
                admin.close().await
            })?;
            Ok::<_, Box<dyn std::error::Error + Send + Sync>>(())
        })
        .join();
        if !matches!(dropped, Ok(Ok(()))) {
            eprintln!("warning: a test database could not be dropped");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::url_with_database;

    #[test]
    fn replaces_the_database_of_a_server_url() {
        assert_eq!(
            url_with_database("postgres://postgres@127.0.0.1:5432/postgres", "t1").unwrap(),
            "postgres://postgres@127.0.0.1:5432/t1"
        );
        assert_eq!(
            url_with_database("postgres://u:p@h:5/db?sslmode=disable", "t1").unwrap(),
            "postgres://u:p@h:5/t1?sslmode=disable"
        );
        assert_eq!(
            url_with_database("postgres://h", "t1").unwrap(),
            "postgres://h/t1"
        );
        assert_eq!(url_with_database("h:5432", "t1"), None);
    }
}
