//! The state every handler shares: the store, the configuration and the in-memory caches.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, RwLock};

use crate::auth::TokenCache;
use crate::auth::sign_in::SignIn;
use crate::config::ClientConfigCache;
use crate::settings::Config;
use crate::store::Store;

/// Cheap to clone: everything lives behind one `Arc`.
#[derive(Debug, Clone)]
pub struct AppState {
    inner: Arc<Inner>,
}

#[derive(Debug)]
struct Inner {
    store: Store,
    config: Config,
    tokens: TokenCache,
    sign_in: SignIn,
    client_configs: Mutex<HashMap<String, ClientConfigCache>>,
    ready: RwLock<bool>,
}

impl AppState {
    /// State over an open store.
    pub fn new(store: Store, config: Config) -> Self {
        AppState {
            inner: Arc::new(Inner {
                sign_in: SignIn::new(&config),
                store,
                config,
                tokens: TokenCache::default(),
                client_configs: Mutex::new(HashMap::new()),
                ready: RwLock::new(true),
            }),
        }
    }

    /// The database.
    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    /// The configuration the server started with.
    pub fn config(&self) -> &Config {
        &self.inner.config
    }

    /// The public-token cache of the ingestion path.
    pub fn tokens(&self) -> &TokenCache {
        &self.inner.tokens
    }

    /// Sign-in: signing key, mailer, GitHub client, rate limits.
    pub fn sign_in(&self) -> &SignIn {
        &self.inner.sign_in
    }

    /// Per-project cached client configs (`GET /v1/config`).
    pub fn client_configs(&self) -> &Mutex<HashMap<String, ClientConfigCache>> {
        &self.inner.client_configs
    }

    /// Drops a project's cached client config after its experiments or goals changed here.
    pub fn invalidate_client_config(&self, project_id: &str) {
        if let Ok(mut configs) = self.inner.client_configs.lock() {
            configs.remove(project_id);
        }
    }

    /// Marks a project's bandit weights as due for recomputation at the next refresh.
    pub fn note_aggregates_changed(&self, project_id: &str) {
        if let Ok(mut configs) = self.inner.client_configs.lock()
            && let Some(cached) = configs.get_mut(project_id)
        {
            cached.aggregates_changed = true;
        }
    }

    /// False once shutdown has begun, so load balancers stop sending new traffic.
    pub fn is_ready(&self) -> bool {
        self.inner.ready.read().map(|ready| *ready).unwrap_or(false)
    }

    /// Marks the server as draining.
    pub fn set_draining(&self) {
        if let Ok(mut ready) = self.inner.ready.write() {
            *ready = false;
        }
    }
}
