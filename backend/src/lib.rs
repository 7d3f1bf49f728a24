//! vibariant-backend: the HTTP API of Vibariant over SQLite or PostgreSQL.
//!
//! Layout: [`app`] builds the router from the resource modules ([`experiments`], [`ingest`],
//! [`config`], [`assign`], [`goals`], [`results`], [`projects`], [`health`]), each of which
//! keeps its handlers thin over SQL in the same module; [`auth`] holds the credential
//! extractors, [`routes`] the route table and the OpenAPI document, [`store`] the pool and
//! migrations, [`serve`] the listener and graceful shutdown. The binary `vibariant-server`
//! (src/main.rs) only parses arguments and calls into here.

pub mod assign;
pub mod auth;
pub mod config;
pub mod error;
pub mod experiments;
pub mod extract;
pub mod first_run;
pub mod goals;
pub mod health;
pub mod ingest;
#[cfg(feature = "lambda")]
pub mod lambda;
pub mod projects;
pub mod results;
pub mod routes;
pub mod secrets;
pub mod settings;
pub mod state;
pub mod store;

use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{DefaultBodyLimit, MatchedPath};
use axum::http::{HeaderName, Method, Request};
use axum::routing::{delete, get, patch, post};
use tower_http::cors::{Any as AnyOrigin, CorsLayer};
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::trace::{DefaultOnFailure, DefaultOnResponse, TraceLayer};

pub use settings::Config;
pub use state::AppState;
pub use store::Store;

use crate::error::ApiError;
use crate::routes::Routes;

/// The largest event batch, as the browser's `sendBeacon` and `keepalive` allow.
pub const MAX_BATCH_BYTES: usize = 64_000;
/// The body limit of the ingestion route: a batch plus slack for a client's rounding.
pub const INGEST_BODY_LIMIT: usize = 64 * 1024 + 1024;
/// The body limit of every other route.
pub const DEFAULT_BODY_LIMIT: usize = 256 * 1024;

const REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");

/// CORS for the routes browsers call from any site: any origin, no cookies, only the headers
/// a client needs. Every other route sends no CORS headers, so browsers refuse cross-site use.
fn public_cors() -> CorsLayer {
    CorsLayer::new()
        .allow_origin(AnyOrigin)
        .allow_methods([Method::GET, Method::POST])
        .allow_headers([
            axum::http::header::AUTHORIZATION,
            axum::http::header::CONTENT_TYPE,
            axum::http::header::IF_NONE_MATCH,
        ])
        .expose_headers([axum::http::header::ETAG, REQUEST_ID])
        .max_age(Duration::from_secs(86_400))
}

/// Gives axum's bare 405 a JSON error body like every other error. (A router-wide
/// method-not-allowed fallback would replace the CORS layer's answer to preflight requests.)
/// Answers 404 for a path holding an encoded NUL. No resource has one in its name, and
/// PostgreSQL cannot compare text holding U+0000 at all, so the lookup would fail as a 500.
async fn refuse_nul_in_path(
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if request.uri().path().as_bytes().windows(3).any(|w| w.eq_ignore_ascii_case(b"%00")) {
        return ApiError::not_found("resource").into_response();
    }
    next.run(request).await
}

async fn json_method_not_allowed(response: axum::response::Response) -> axum::response::Response {
    use axum::response::IntoResponse as _;
    if response.status() != axum::http::StatusCode::METHOD_NOT_ALLOWED {
        return response;
    }
    let allow = response.headers().get(axum::http::header::ALLOW).cloned();
    let mut replaced = (
        axum::http::StatusCode::METHOD_NOT_ALLOWED,
        axum::Json(serde_json::json!({ "error": {
            "code": "method_not_allowed",
            "message": "this method is not allowed on this path",
        } })),
    )
        .into_response();
    if let Some(allow) = allow {
        replaced.headers_mut().insert(axum::http::header::ALLOW, allow);
    }
    replaced
}

/// Mounts every route of [`routes::ROUTES`] on a router that still needs its state.
pub fn routes() -> Routes {
    let cors = public_cors;
    let routes = Routes::default()
        .add(Method::GET, "/healthz", get(health::healthz))
        .add(Method::GET, "/readyz", get(health::readyz))
        .add(Method::GET, "/v1/openapi.json", get(health::openapi))
        .add(
            Method::POST,
            "/v1/events",
            post(ingest::ingest)
                .layer::<_, std::convert::Infallible>(DefaultBodyLimit::max(INGEST_BODY_LIMIT))
                .layer(cors()),
        )
        .add(Method::GET, "/v1/config", get(config::client_config).layer(cors()))
        .add(Method::POST, "/v1/assign", post(assign::assign).layer(cors()))
        .add(Method::GET, "/v1/project", get(projects::show))
        .add(Method::GET, "/v1/project/tokens", get(projects::list_tokens))
        .add(Method::POST, "/v1/project/tokens", post(projects::create_token))
        .add(Method::DELETE, "/v1/project/tokens/{token_id}", delete(projects::revoke_token))
        .add(Method::GET, "/v1/project/api-keys", get(projects::list_api_keys))
        .add(Method::POST, "/v1/project/api-keys", post(projects::create_api_key))
        .add(Method::DELETE, "/v1/project/api-keys/{key_id}", delete(projects::revoke_api_key))
        .add(Method::GET, "/v1/experiments", get(experiments::list))
        .add(Method::POST, "/v1/experiments", post(experiments::create))
        .add(Method::GET, "/v1/experiments/{id}", get(experiments::show))
        .add(Method::PATCH, "/v1/experiments/{id}", patch(experiments::update))
        .add(Method::DELETE, "/v1/experiments/{id}", delete(experiments::remove))
        .add(Method::POST, "/v1/experiments/{id}/start", post(experiments::start))
        .add(Method::POST, "/v1/experiments/{id}/pause", post(experiments::pause))
        .add(Method::POST, "/v1/experiments/{id}/complete", post(experiments::complete))
        .add(Method::GET, "/v1/experiments/{id}/results", get(results::results))
        .add(Method::GET, "/v1/goals", get(goals::list_goals))
        .add(Method::POST, "/v1/goals", post(goals::create_goal))
        .add(Method::DELETE, "/v1/goals/{key}", delete(goals::delete_goal))
        .add(Method::GET, "/v1/goal-candidates", get(goals::list_candidates))
        .add(
            Method::POST,
            "/v1/goal-candidates/{candidate_key}/confirm",
            post(goals::confirm_candidate),
        );
    auth::mount(routes)
}

/// The whole HTTP application over `state`; tests drive it without a socket.
pub fn app(state: AppState) -> Router {
    routes()
        .into_router()
        .fallback(|| async { ApiError::not_found("route") })
        .layer(axum::middleware::map_response(json_method_not_allowed))
        .layer(axum::middleware::from_fn(refuse_nul_in_path))
        .layer(DefaultBodyLimit::max(DEFAULT_BODY_LIMIT))
        .layer(
            TraceLayer::new_for_http()
                .make_span_with(|request: &Request<_>| {
                    let route = request
                        .extensions()
                        .get::<MatchedPath>()
                        .map_or_else(|| request.uri().path().to_owned(), |p| p.as_str().to_owned());
                    let request_id = request
                        .headers()
                        .get(REQUEST_ID)
                        .and_then(|value| value.to_str().ok())
                        .unwrap_or_default();
                    tracing::info_span!("request", method = %request.method(), route, request_id)
                })
                // One line per request at info: status and latency inside the request's span.
                .on_response(DefaultOnResponse::new().level(tracing::Level::INFO))
                .on_failure(DefaultOnFailure::new().level(tracing::Level::WARN)),
        )
        .layer(PropagateRequestIdLayer::new(REQUEST_ID))
        .layer(SetRequestIdLayer::new(REQUEST_ID, MakeRequestUuid))
        .with_state(state)
}

/// Opens the store and builds the state, creating the first project on an empty database.
pub async fn prepare(config: Config) -> anyhow::Result<AppState> {
    tracing::info!(database = %settings::redact_url(&config.database_url), "opening database");
    let store = Store::connect(&config.database_url).await?;
    if let Some(created) = first_run::create_if_empty(&store).await? {
        first_run::print_welcome(&created, &config);
    }
    Ok(AppState::new(store, config))
}

/// Serves the application on `config.addr` until SIGTERM or Ctrl-C, then stops accepting,
/// lets in-flight requests (batches included) finish, and closes the database.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let addr = config.addr;
    let state = prepare(config).await?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("cannot listen on {addr}"))?;
    tracing::info!(addr = %listener.local_addr()?, "listening");
    serve_on(listener, state, shutdown_signal()).await
}

/// Serves `state` on an open listener until `shutdown` resolves (tests pass their own signal).
pub async fn serve_on(
    listener: tokio::net::TcpListener,
    state: AppState,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> anyhow::Result<()> {
    let draining = state.clone();
    let router = app(state.clone());
    // The peer address feeds the per-IP rate limits of sign-in.
    let service = router.into_make_service_with_connect_info::<std::net::SocketAddr>();
    axum::serve(listener, service)
        .with_graceful_shutdown(async move {
            shutdown.await;
            draining.set_draining();
            tracing::info!("shutting down: finishing in-flight requests");
        })
        .await
        .context("the server failed")?;
    state.store().close().await;
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on SIGTERM or Ctrl-C.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut signal) => {
                signal.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        () = ctrl_c => {},
        () = terminate => {},
    }
}

/// Installs the log subscriber: `RUST_LOG` filters (default `info`), `VIBARIANT_LOG_FORMAT=json`
/// switches to one JSON object per line.
pub fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let filter = EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,tower_http=info"));
    let json = std::env::var("VIBARIANT_LOG_FORMAT").is_ok_and(|format| format == "json");
    let builder = tracing_subscriber::fmt().with_env_filter(filter).with_writer(std::io::stderr);
    let _ = if json { builder.json().try_init() } else { builder.try_init() };
}
