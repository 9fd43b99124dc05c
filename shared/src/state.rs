//! The application state every router is built from.
//!
//! Building it does no I/O: the database pool connects on its first query, and the Auth
//! Service and object store clients are made on first use. A Lambda function therefore pays at
//! cold start only for what its requests actually touch.

use std::sync::{Arc, OnceLock};

use tokio::sync::OnceCell;

use crate::auth::{AuthService, JwtVerifier};
use crate::config::{Buckets, Config};
use crate::domain::cursor::CursorKey;
use crate::domain::signed::UrlKey;
use crate::error::Result;
use crate::objects::ObjectStore;
use crate::store::Store;

#[derive(Clone, Debug)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    config: Config,
    store: Store,
    jwt: JwtVerifier,
    cursors: CursorKey,
    urls: UrlKey,
    auth_service: OnceLock<AuthService>,
    objects: OnceCell<ObjectStore>,
}

impl AppState {
    pub fn new(config: Config) -> Result<Self> {
        let store = Store::connect_lazy(&config.database)?;
        Ok(Self::with_store(config, store))
    }

    /// A state around an existing store (tests share one store between states).
    pub fn with_store(config: Config, store: Store) -> Self {
        Self {
            inner: Arc::new(Inner {
                jwt: JwtVerifier::new(&config.jwt),
                cursors: CursorKey::derive(&config.jwt.secret),
                urls: UrlKey::derive(&config.jwt.secret),
                config,
                store,
                auth_service: OnceLock::new(),
                objects: OnceCell::new(),
            }),
        }
    }

    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn jwt(&self) -> &JwtVerifier {
        &self.inner.jwt
    }

    /// The key of the paging cursors this deployment hands out.
    pub fn cursors(&self) -> &CursorKey {
        &self.inner.cursors
    }

    /// The key the local object store's URLs are signed with.
    pub fn urls(&self) -> &UrlKey {
        &self.inner.urls
    }

    pub fn buckets(&self) -> &Buckets {
        &self.inner.config.buckets
    }

    /// The Auth Service client, or `None` when `AUTH_SERVICE_URL` is not configured.
    pub fn auth_service(&self) -> Result<Option<&AuthService>> {
        let Some(url) = &self.inner.config.auth_service_url else {
            return Ok(None);
        };
        if let Some(client) = self.inner.auth_service.get() {
            return Ok(Some(client));
        }
        let client = AuthService::new(url)?;
        Ok(Some(self.inner.auth_service.get_or_init(|| client)))
    }

    /// The object store, built on first use.
    pub async fn objects(&self) -> Result<&ObjectStore> {
        self.inner
            .objects
            .get_or_try_init(|| {
                ObjectStore::from_config(&self.inner.config.object_store, &self.inner.urls)
            })
            .await
    }
}
