//! What the public-token check costs on the ingestion hot path, beside ingestion without it.
//!
//! Run: `cargo bench -p vibariant-backend --bench auth_token_check`. Prints nanoseconds per
//! operation for: SHA-256 of a token; the cached token lookup (`project_for_token` on a cache
//! hit: hash plus a map read); the uncached lookup (a database query); verifying a session
//! JWT (not on the ingestion path, for comparison); and one-event batches ingested through
//! the handler with the project already known (no auth) and through the whole router with the
//! token in the header (auth included, cache warm), on a SQLite file.

#![allow(clippy::print_stdout, reason = "a benchmark reports on standard output")]

use std::time::{Duration, Instant};

use axum::body::{Body, Bytes};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, Request, header};
use tower::ServiceExt as _;
use vibariant_backend::auth::{CredentialKind, ProjectAccess, jwt, project_for_token};
use vibariant_backend::first_run::create_project;
use vibariant_backend::secrets::{hash_secret, new_id};
use vibariant_backend::{AppState, Config, Store, app, ingest};

const LOOKUPS: u32 = 200_000;
const BATCHES: u32 = 1_000;

fn per_op(elapsed: Duration, count: u32) -> f64 {
    elapsed.as_secs_f64() * 1e9 / f64::from(count)
}

fn batch() -> String {
    let mut bytes = [0u8; 16];
    bytes.copy_from_slice(&hex::decode(new_id()).expect("hex"));
    let id = vibariant_core::event_id(&bytes);
    format!(
        r#"{{"events":[{{"id":"{id}","visitor_id":"v1","ts":1000,"path":"/","kind":"pageview"}}]}}"#
    )
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() -> anyhow::Result<()> {
    let dir = std::env::temp_dir().join(format!("vibariant-bench-{}", new_id()));
    std::fs::create_dir_all(&dir)?;
    let url = format!("sqlite://{}?mode=rwc", dir.join("bench.sqlite3").display());
    let store = Store::connect(&url).await?;
    let project = create_project(&store, "bench").await?;
    let secret = "a benchmark secret key of at least thirty-two bytes";
    let config = Config::from_lookup(|name| match name {
        "DATABASE_URL" => Some(url.clone()),
        "VIBARIANT_SECRET_KEY" => Some(secret.into()),
        _ => None,
    })?;
    let state = AppState::new(store, config);
    let token = project.project_token.clone();

    let started = Instant::now();
    for _ in 0..LOOKUPS {
        std::hint::black_box(hash_secret(std::hint::black_box(&token)));
    }
    let sha = per_op(started.elapsed(), LOOKUPS);

    project_for_token(&state, &token).await?;
    let started = Instant::now();
    for _ in 0..LOOKUPS {
        std::hint::black_box(project_for_token(&state, &token).await?);
    }
    let cached = per_op(started.elapsed(), LOOKUPS);

    let token_hash = hash_secret(&token);
    let uncached_runs = 5_000;
    let started = Instant::now();
    for _ in 0..uncached_runs {
        state.tokens().forget(&token_hash);
        std::hint::black_box(project_for_token(&state, &token).await?);
    }
    let uncached = per_op(started.elapsed(), uncached_runs);

    let now = vibariant_backend::secrets::now_ms() / 1000;
    let access = jwt::issue(secret.as_bytes(), "user", "session", now);
    let started = Instant::now();
    for _ in 0..LOOKUPS {
        std::hint::black_box(jwt::verify(secret.as_bytes(), &access).ok());
    }
    let jwt_verify = per_op(started.elapsed(), LOOKUPS);

    // Alternate the two ingestion paths so drift (WAL growth, cache warmth) hits both alike.
    let router = app(state.clone());
    let (mut without_auth, mut with_auth) = (Duration::ZERO, Duration::ZERO);
    let mut headers = HeaderMap::new();
    headers.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/json"));
    for _ in 0..BATCHES {
        let body = Bytes::from(batch());
        let access = ProjectAccess {
            project_id: project.project_id.clone(),
            via: CredentialKind::ProjectToken,
        };
        let started = Instant::now();
        let response =
            ingest::ingest(State(state.clone()), access, headers.clone(), Ok(body)).await?;
        without_auth += started.elapsed();
        assert!(response.status().is_success());

        let request = Request::post("/v1/events")
            .header(header::CONTENT_TYPE, "application/json")
            .header(header::AUTHORIZATION, format!("Bearer {token}"))
            .body(Body::from(batch()))?;
        let started = Instant::now();
        let response = router.clone().oneshot(request).await?;
        with_auth += started.elapsed();
        assert!(response.status().is_success());
    }
    state.store().close().await;
    let _ = std::fs::remove_dir_all(&dir);

    println!("auth on the ingestion path (ns per operation)");
    println!("  sha256(token)                          {sha:>12.0}");
    println!("  project_for_token, cached (hot path)   {cached:>12.0}");
    println!("  project_for_token, uncached (database) {uncached:>12.0}");
    println!("  session JWT verify (not on ingestion)  {jwt_verify:>12.0}");
    println!("  ingest 1-event batch, handler, no auth {:>12.0}", per_op(without_auth, BATCHES));
    println!("  ingest 1-event batch, router + token   {:>12.0}", per_op(with_auth, BATCHES));
    Ok(())
}
