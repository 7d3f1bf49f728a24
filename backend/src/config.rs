//! `GET /v1/config`: what a client needs to assign and track, cached and revalidated cheaply.
//!
//! The body lists the running experiments (key, variants, current weights, coverage) and the
//! confirmed goals. Its ETag is a hash of the body, so `If-None-Match` answers 304 without a
//! body when nothing changed; `Cache-Control: max-age=30, stale-while-revalidate=60` lets
//! browsers and the edge reuse it.
//!
//! Refresh rule: a project's config is rebuilt when an experiment or goal changes through this
//! server (at once), and otherwise at most every [`CONFIG_TTL`] (which also picks up changes
//! made by other processes). Bandit weights (`top_two`, `thompson`) are recomputed from the
//! aggregates at a rebuild only when events changed the aggregates since the last computation;
//! so they move at most once a minute, which keeps assignment stable between refreshes.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use axum::body::Body;
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::Response;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};
use sqlx::{AnyConnection, Row as _};

use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::experiments::{self, Allocation, Experiment, Status};
use crate::state::AppState;

/// The longest a cached config is served before it is rebuilt.
pub const CONFIG_TTL: Duration = Duration::from_secs(60);

/// A project's config as last built.
#[derive(Debug, Clone)]
pub struct ClientConfigCache {
    body: Arc<str>,
    /// The running experiments with the weights in the body.
    pub experiments: Vec<ServedExperiment>,
    etag: String,
    built_at: Instant,
    /// Bandit weights by experiment id, kept between rebuilds.
    weights: HashMap<String, Vec<f64>>,
    /// Events changed the aggregates since the weights were computed.
    pub aggregates_changed: bool,
}

/// A running experiment as clients are told to assign it.
#[derive(Debug, Clone)]
pub struct ServedExperiment {
    /// Row id.
    pub id: String,
    /// Key used in code.
    pub key: String,
    /// Fraction of visitors included.
    pub coverage: f64,
    /// Variant names, in order.
    pub variants: Vec<String>,
    /// Current weights, in variant order, summing to 1.
    pub weights: Vec<f64>,
}

/// Per-variant counts on the primary goal, the input of bandit weights.
#[derive(Debug, Clone, Default)]
pub struct GoalCounts {
    /// Exposed visitors per variant, in variant order.
    pub visitors: Vec<u64>,
    /// Converted visitors per variant, in variant order.
    pub conversions: Vec<u64>,
}

/// Reads the primary-goal counts of an experiment from the aggregates (O(variants)).
pub async fn goal_counts(
    conn: &mut AnyConnection,
    experiment: &Experiment,
    goal_key: Option<&str>,
) -> ApiResult<GoalCounts> {
    let visitors: HashMap<String, i64> =
        sqlx::query("SELECT variant, visitors FROM variant_stats WHERE experiment_id = $1")
            .bind(&experiment.id)
            .fetch_all(&mut *conn)
            .await?
            .into_iter()
            .map(|row| (row.get(0), row.get(1)))
            .collect();
    let conversions: HashMap<String, i64> = match goal_key {
        Some(goal) => sqlx::query(
            "SELECT variant, conversions FROM goal_stats \
             WHERE experiment_id = $1 AND goal_key = $2",
        )
        .bind(&experiment.id)
        .bind(goal)
        .fetch_all(&mut *conn)
        .await?
        .into_iter()
        .map(|row| (row.get(0), row.get(1)))
        .collect(),
        None => HashMap::new(),
    };
    let count = |map: &HashMap<String, i64>, name: &str| {
        u64::try_from(map.get(name).copied().unwrap_or(0)).unwrap_or(0)
    };
    Ok(GoalCounts {
        visitors: experiment.variants.iter().map(|v| count(&visitors, &v.name)).collect(),
        conversions: experiment.variants.iter().map(|v| count(&conversions, &v.name)).collect(),
    })
}

/// The weights clients should assign with now.
async fn current_weights(
    conn: &mut AnyConnection,
    experiment: &Experiment,
    previous: Option<&Vec<f64>>,
    recompute: bool,
) -> ApiResult<Vec<f64>> {
    let configured: Vec<f64> = experiment.variants.iter().map(|variant| variant.weight).collect();
    if experiment.allocation == Allocation::Fixed {
        return Ok(configured);
    }
    if let Some(previous) = previous
        && !recompute
        && previous.len() == configured.len()
    {
        return Ok(previous.clone());
    }
    let counts = goal_counts(conn, experiment, experiment.primary_goal.as_deref()).await?;
    match crate::results::bandit_weights(experiment, &counts) {
        Ok(weights) => Ok(weights),
        Err(error) => {
            tracing::warn!(experiment = %experiment.key, %error, "bandit weights unavailable");
            Ok(configured)
        }
    }
}

async fn build(
    state: &AppState,
    project_id: &str,
    previous: Option<&ClientConfigCache>,
) -> ApiResult<ClientConfigCache> {
    let mut conn = state.store().pool().acquire().await?;
    let running = experiments::load_all(&mut conn, project_id, &[Status::Running]).await?;
    let recompute = previous.is_none_or(|cached| cached.aggregates_changed);
    let mut weights = HashMap::new();
    let mut listed = Vec::with_capacity(running.len());
    let mut served = Vec::with_capacity(running.len());
    for experiment in &running {
        let previous_weights = previous.and_then(|cached| cached.weights.get(&experiment.id));
        let current = current_weights(&mut conn, experiment, previous_weights, recompute).await?;
        listed.push(json!({
            "key": experiment.key,
            "allocation": experiment.allocation,
            "coverage": experiment.coverage,
            "primary_goal": experiment.primary_goal,
            "variants": experiment.variants.iter().zip(&current).map(|(variant, weight)| {
                json!({ "name": variant.name, "weight": weight })
            }).collect::<Vec<Value>>(),
        }));
        served.push(ServedExperiment {
            id: experiment.id.clone(),
            key: experiment.key.clone(),
            coverage: experiment.coverage,
            variants: experiment.variants.iter().map(|variant| variant.name.clone()).collect(),
            weights: current.clone(),
        });
        weights.insert(experiment.id.clone(), current);
    }
    let goals: Vec<Value> =
        sqlx::query("SELECT key, match_key FROM goals WHERE project_id = $1 ORDER BY key")
            .bind(project_id)
            .fetch_all(&mut *conn)
            .await?
            .iter()
            .map(|row| json!({ "key": row.get::<String, _>(0), "match": row.get::<String, _>(1) }))
            .collect();
    let body = json!({ "experiments": listed, "goals": goals }).to_string();
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(body.as_bytes()))[..32]);
    Ok(ClientConfigCache {
        body: body.into(),
        experiments: served,
        etag,
        built_at: Instant::now(),
        weights,
        aggregates_changed: false,
    })
}

/// The project's config, from the cache when it is fresh (see the refresh rule above).
pub async fn current(state: &AppState, project_id: &str) -> ApiResult<ClientConfigCache> {
    let cached = state
        .client_configs()
        .lock()
        .map_err(|_| anyhow::anyhow!("the config cache lock is poisoned"))?
        .get(project_id)
        .cloned();
    match cached {
        Some(cached) if cached.built_at.elapsed() < CONFIG_TTL => Ok(cached),
        previous => {
            let fresh = build(state, project_id, previous.as_ref()).await?;
            if let Ok(mut configs) = state.client_configs().lock() {
                configs.insert(project_id.to_owned(), fresh.clone());
            }
            Ok(fresh)
        }
    }
}

/// `GET /v1/config`.
pub async fn client_config(
    State(state): State<AppState>,
    access: ProjectAccess,
    headers: HeaderMap,
) -> ApiResult<Response> {
    let config = current(&state, &access.project_id).await?;
    let not_modified =
        headers.get(header::IF_NONE_MATCH).and_then(|value| value.to_str().ok()).is_some_and(
            |tags| tags.split(',').any(|tag| tag.trim() == config.etag || tag.trim() == "*"),
        );
    let status = if not_modified { StatusCode::NOT_MODIFIED } else { StatusCode::OK };
    let body = if not_modified { Body::empty() } else { Body::from(config.body.to_string()) };
    let etag = HeaderValue::from_str(&config.etag).map_err(|error| anyhow::anyhow!(error))?;
    Response::builder()
        .status(status)
        .header(header::CONTENT_TYPE, "application/json")
        .header(header::ETAG, etag)
        .header(header::CACHE_CONTROL, "max-age=30, stale-while-revalidate=60")
        .header(header::VARY, "Authorization")
        .body(body)
        .map_err(|error| ApiError::Internal(anyhow::anyhow!(error)))
}
