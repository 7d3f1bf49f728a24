//! The integration-test harness: a fresh database per test (a SQLite file, or a PostgreSQL
//! database with a random name when `VIBARIANT_TEST_POSTGRES` names a server), a project with
//! its token and API key, and helpers to call the router in process or over a real socket.
//!
//! `both_databases!(name)` turns `async fn name(server: TestServer)` into two tests,
//! `name::sqlite` and `name::postgres`; the PostgreSQL one says it is skipped and passes when
//! the variable is unset.

#![allow(dead_code, reason = "each test file uses a different part of the harness")]

use std::net::SocketAddr;

use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, Method, Request, StatusCode};
use http_body_util::BodyExt as _;
use serde_json::{Value, json};
use tower::ServiceExt as _;
use vibariant_backend::first_run::{CreatedProject, create_project};
use vibariant_backend::{AppState, Config, Store, app};

/// Which database a test runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file in a temporary directory.
    Sqlite,
    /// A fresh database on the server in `VIBARIANT_TEST_POSTGRES`.
    Postgres,
}

/// A database made for one test and removed after it.
#[derive(Debug)]
pub struct TestDb {
    /// The URL the server connects with.
    pub url: String,
    cleanup: Cleanup,
}

#[derive(Debug)]
enum Cleanup {
    Directory(std::path::PathBuf),
    Postgres { admin_url: String, name: String },
}

impl TestDb {
    /// Makes a database, or `None` (after saying so) when PostgreSQL is not configured.
    pub async fn create(backend: Backend) -> Option<Self> {
        let suffix = vibariant_backend::secrets::new_id();
        match backend {
            Backend::Sqlite => {
                let dir = std::env::temp_dir().join(format!("vibariant-test-{suffix}"));
                std::fs::create_dir_all(&dir).expect("create a temporary directory");
                let url = format!("sqlite://{}?mode=rwc", dir.join("test.sqlite3").display());
                Some(TestDb { url, cleanup: Cleanup::Directory(dir) })
            }
            Backend::Postgres => {
                let Ok(admin_url) = std::env::var("VIBARIANT_TEST_POSTGRES") else {
                    eprintln!("skipped: VIBARIANT_TEST_POSTGRES not set");
                    return None;
                };
                let name = format!("vv_test_{}", &suffix[..16]);
                sqlx::any::install_default_drivers();
                let mut admin = <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url)
                    .await
                    .expect("connect to VIBARIANT_TEST_POSTGRES");
                sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                    .execute(&mut admin)
                    .await
                    .expect("create a test database");
                let _ = sqlx::Connection::close(admin).await;
                let url = replace_database(&admin_url, &name);
                Some(TestDb { url, cleanup: Cleanup::Postgres { admin_url, name } })
            }
        }
    }
}

/// The same server URL with another database name.
fn replace_database(url: &str, name: &str) -> String {
    let (base, query) = url.split_once('?').map_or((url, None), |(b, q)| (b, Some(q)));
    let authority_end = base.find("://").map_or(0, |i| i + 3);
    let path_start = base[authority_end..].find('/').map_or(base.len(), |i| authority_end + i);
    let mut result = format!("{}/{name}", &base[..path_start]);
    if let Some(query) = query {
        result.push('?');
        result.push_str(query);
    }
    result
}

impl Drop for TestDb {
    fn drop(&mut self) {
        match &self.cleanup {
            Cleanup::Directory(dir) => {
                let _ = std::fs::remove_dir_all(dir);
            }
            Cleanup::Postgres { admin_url, name } => {
                // Drop runs inside the test's runtime; a thread with its own runtime can block.
                let (admin_url, name) = (admin_url.clone(), name.clone());
                let _ = std::thread::spawn(move || {
                    let runtime = tokio::runtime::Builder::new_current_thread()
                        .enable_all()
                        .build()
                        .expect("a runtime for cleanup");
                    runtime.block_on(async move {
                        if let Ok(mut admin) =
                            <sqlx::AnyConnection as sqlx::Connection>::connect(&admin_url).await
                        {
                            let sql = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
                            let _ = sqlx::raw_sql(&sql).execute(&mut admin).await;
                        }
                    });
                })
                .join();
            }
        }
    }
}

/// A migrated database with one project, and the router over it.
#[derive(Debug)]
pub struct TestServer {
    /// Which database.
    pub backend: Backend,
    /// Shared state (the store is `state.store()`).
    pub state: AppState,
    /// The project made for the test, with its secrets.
    pub project: CreatedProject,
    /// Keeps the database until the test ends; declared last so it is dropped last.
    pub db: TestDb,
}

/// A response, read whole.
#[derive(Debug)]
pub struct Reply {
    /// Status code.
    pub status: StatusCode,
    /// Headers.
    pub headers: HeaderMap,
    /// The body as JSON (`Value::Null` when empty or not JSON).
    pub json: Value,
    /// The raw body.
    pub text: String,
}

impl Reply {
    /// Reads a router's response whole.
    pub async fn read(response: axum::response::Response) -> Self {
        let status = response.status();
        let headers = response.headers().clone();
        let bytes = response.into_body().collect().await.expect("read the body").to_bytes();
        let text = String::from_utf8_lossy(&bytes).into_owned();
        let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
        Reply { status, headers, json, text }
    }
}

impl TestServer {
    /// Starts a test server on `backend`; `None` when that backend is not configured.
    pub async fn start(backend: Backend) -> Option<Self> {
        let db = TestDb::create(backend).await?;
        let store = Store::connect(&db.url).await.expect("open the test database");
        let project = create_project(&store, "test").await.expect("create a test project");
        let config = Config::from_lookup(|name| match name {
            "DATABASE_URL" => Some(db.url.clone()),
            "VIBARIANT_ADDR" => Some("127.0.0.1:0".into()),
            _ => None,
        })
        .expect("a test config");
        let state = AppState::new(store, config);
        Some(TestServer { backend, state, project, db })
    }

    /// The router over this server's state.
    pub fn router(&self) -> Router {
        app(self.state.clone())
    }

    /// Sends a request through the router in process.
    pub async fn send(&self, request: Request<Body>) -> Reply {
        Reply::read(self.router().oneshot(request).await.expect("the router answers")).await
    }

    /// A JSON request with an optional bearer credential.
    pub async fn call(
        &self,
        method: Method,
        path: &str,
        credential: Option<&str>,
        body: Option<Value>,
    ) -> Reply {
        let mut builder = Request::builder().method(method).uri(path);
        if let Some(credential) = credential {
            builder = builder.header("authorization", format!("Bearer {credential}"));
        }
        let body = match body {
            Some(body) => {
                builder = builder.header("content-type", "application/json");
                Body::from(body.to_string())
            }
            None => Body::empty(),
        };
        self.send(builder.body(body).expect("a request")).await
    }

    /// A call with the project's API key.
    pub async fn admin(&self, method: Method, path: &str, body: Option<Value>) -> Reply {
        self.call(method, path, Some(&self.project.api_key.clone()), body).await
    }

    /// Posts events with the project token.
    pub async fn post_events(&self, events: Vec<Value>) -> Reply {
        let token = self.project.project_token.clone();
        self.call(Method::POST, "/v1/events", Some(&token), Some(json!({ "events": events }))).await
    }

    /// Creates and starts an experiment; returns its id.
    pub async fn running_experiment(&self, body: Value) -> String {
        let created = self.admin(Method::POST, "/v1/experiments", Some(body)).await;
        assert_eq!(created.status, StatusCode::CREATED, "{}", created.text);
        let id = created.json["id"].as_str().expect("an experiment id").to_owned();
        let started = self.admin(Method::POST, &format!("/v1/experiments/{id}/start"), None).await;
        assert_eq!(started.status, StatusCode::OK, "{}", started.text);
        id
    }

    /// Serves the router on a loopback port; the server stops when the sender is dropped or
    /// sent to.
    pub async fn listen(&self) -> (SocketAddr, tokio::sync::oneshot::Sender<()>) {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let addr = listener.local_addr().expect("a local address");
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let state = self.state.clone();
        tokio::spawn(async move {
            let router = app(state);
            let _ = axum::serve(listener, router)
                .with_graceful_shutdown(async move {
                    let _ = stopped.await;
                })
                .await;
        });
        (addr, stop)
    }

    /// A single aggregate value from SQL, as an integer.
    pub async fn scalar(&self, sql: &str, binds: &[&str]) -> i64 {
        let mut query = sqlx::query_scalar::<_, i64>(sql);
        for bind in binds {
            query = query.bind(*bind);
        }
        query.fetch_one(self.state.store().pool()).await.expect("a scalar query")
    }
}

/// A valid event id made from a number (distinct numbers give distinct ids).
pub fn event_id(n: u64) -> String {
    let mut bytes = [0u8; 16];
    bytes[..8].copy_from_slice(&n.to_be_bytes());
    bytes[8..].copy_from_slice(&0x5eed_u64.to_be_bytes());
    vibariant_core::event_id(&bytes)
}

/// An event of `kind` with `fields` merged in.
pub fn event(n: u64, visitor: &str, ts: i64, kind: &str, fields: Value) -> Value {
    let mut event = json!({ "id": event_id(n), "visitor_id": visitor, "ts": ts, "path": "/",
                            "kind": kind });
    if let (Some(target), Value::Object(extra)) = (event.as_object_mut(), fields) {
        target.extend(extra);
    }
    event
}

/// Runs `test` on `backend` when it is available.
pub async fn run_on<F, Fut>(backend: Backend, test: F)
where
    F: FnOnce(TestServer) -> Fut,
    Fut: std::future::Future<Output = ()>,
{
    if let Some(server) = TestServer::start(backend).await {
        test(server).await;
    }
}

/// Declares `name::sqlite` and `name::postgres` tests for `async fn name(TestServer)`.
#[macro_export]
macro_rules! both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn sqlite() {
                $crate::common::run_on($crate::common::Backend::Sqlite, super::$name).await;
            }

            #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
            async fn postgres() {
                $crate::common::run_on($crate::common::Backend::Postgres, super::$name).await;
            }
        }
    )*};
}
