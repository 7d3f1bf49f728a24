//! Experiments: create, read, update, delete, and the lifecycle
//! draft -> running <-> paused -> completed (recording the shipped variant).
//!
//! Variants are named and weighted; weights are relative and stored normalised to sum to 1,
//! the form the core's assignment takes. Variants can change only while the experiment is a
//! draft: once visitors are counted per variant name, renaming or re-weighting would corrupt
//! the aggregates and move sticky visitors.

use std::collections::HashSet;

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use sqlx::any::AnyRow;
use sqlx::{AnyConnection, Row as _};

use crate::auth::ApiKey;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::ingest::PROXY_METRICS;
use crate::secrets::{new_id, now_ms};
use crate::state::AppState;

/// Most variants an experiment may have: as many as the stats engine analyses exactly.
pub const MAX_VARIANTS: usize = vibariant_stats::MAX_VARIANTS;

/// Where an experiment is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Status {
    /// Being set up; not served, nothing counted.
    Draft,
    /// Served and counted.
    Running,
    /// Not served; visitors already exposed still count conversions.
    Paused,
    /// Finished, with the shipped variant recorded; nothing counted any more.
    Completed,
}

impl Status {
    fn as_str(self) -> &'static str {
        match self {
            Status::Draft => "draft",
            Status::Running => "running",
            Status::Paused => "paused",
            Status::Completed => "completed",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Status::Draft, Status::Running, Status::Paused, Status::Completed]
            .into_iter()
            .find(|status| status.as_str() == text)
    }
}

/// How traffic is split between variants.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Allocation {
    /// The configured weights, unchanged.
    Fixed,
    /// Top-two Thompson sampling weights from the posterior (with a floor per variant).
    TopTwo,
    /// Plain Thompson sampling weights: more traffic to the likely winner sooner.
    Thompson,
}

impl Allocation {
    fn as_str(self) -> &'static str {
        match self {
            Allocation::Fixed => "fixed",
            Allocation::TopTwo => "top_two",
            Allocation::Thompson => "thompson",
        }
    }

    fn parse(text: &str) -> Option<Self> {
        [Allocation::Fixed, Allocation::TopTwo, Allocation::Thompson]
            .into_iter()
            .find(|allocation| allocation.as_str() == text)
    }
}

/// A variant and its share of traffic.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Variant {
    /// The name code uses (`useVariant("hero-cta", ["control", "bold"])`).
    pub name: String,
    /// Share of traffic, normalised so the variants sum to 1.
    pub weight: f64,
}

/// An experiment as stored.
#[derive(Debug, Clone, Serialize)]
pub struct Experiment {
    /// Row id.
    pub id: String,
    /// Owning project.
    #[serde(skip)]
    pub project_id: String,
    /// The key code uses; unique in the project.
    pub key: String,
    /// Display name.
    pub name: String,
    /// Free text.
    pub description: String,
    /// Lifecycle state.
    pub status: Status,
    /// Traffic allocation mode.
    pub allocation: Allocation,
    /// Fraction of visitors in the experiment.
    pub coverage: f64,
    /// The goal key that decides the winner.
    pub primary_goal: Option<String>,
    /// Engagement metrics reported beside the goal.
    pub proxy_metrics: Vec<String>,
    /// The variant shipped at completion.
    pub shipped_variant: Option<String>,
    /// Variants in order (assignment depends on the order).
    pub variants: Vec<Variant>,
    /// Creation time (ms).
    pub created_at: i64,
    /// Last change (ms).
    pub updated_at: i64,
    /// First start (ms).
    pub started_at: Option<i64>,
    /// Completion (ms).
    pub completed_at: Option<i64>,
}

/// A variant in a request; the weight defaults to an equal share.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct VariantInput {
    /// The variant's name.
    pub name: String,
    /// A relative weight (any positive number).
    #[serde(default)]
    pub weight: Option<f64>,
}

/// The body of `POST /v1/experiments`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewExperiment {
    /// Key used in code.
    pub key: String,
    /// Display name (defaults to the key).
    #[serde(default)]
    pub name: Option<String>,
    /// Free text.
    #[serde(default)]
    pub description: Option<String>,
    /// At least two variants; the first is the control.
    pub variants: Vec<VariantInput>,
    /// The deciding goal; created (matching `goal` events of that key) when it does not exist.
    #[serde(default)]
    pub primary_goal: Option<String>,
    /// Proxy metrics, from [`PROXY_METRICS`] (default: `engagement_score`).
    #[serde(default)]
    pub proxy_metrics: Option<Vec<String>>,
    /// Allocation mode (default `fixed`).
    #[serde(default)]
    pub allocation: Option<Allocation>,
    /// Fraction of visitors included, in (0, 1] (default 1).
    #[serde(default)]
    pub coverage: Option<f64>,
}

/// The body of `PATCH /v1/experiments/{id}`: every field optional.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExperimentPatch {
    /// New key (draft only).
    #[serde(default)]
    pub key: Option<String>,
    /// New display name.
    #[serde(default)]
    pub name: Option<String>,
    /// New description.
    #[serde(default)]
    pub description: Option<String>,
    /// New variants (draft only).
    #[serde(default)]
    pub variants: Option<Vec<VariantInput>>,
    /// New deciding goal.
    #[serde(default)]
    pub primary_goal: Option<String>,
    /// New proxy metrics.
    #[serde(default)]
    pub proxy_metrics: Option<Vec<String>>,
    /// New allocation mode.
    #[serde(default)]
    pub allocation: Option<Allocation>,
    /// New coverage. Lowering it drops visitors but never moves one to another variant.
    #[serde(default)]
    pub coverage: Option<f64>,
}

/// The body of `POST /v1/experiments/{id}/complete`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Completion {
    /// The variant that was shipped.
    pub shipped_variant: String,
}

/// Checks a key (experiment or goal): 1 to 64 of `a-z A-Z 0-9 - _ .`.
pub fn validate_key(what: &str, key: &str) -> ApiResult<()> {
    let ok = (1..=64).contains(&key.len())
        && key.bytes().all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'));
    if ok {
        Ok(())
    } else {
        Err(ApiError::Unprocessable(format!(
            "{what} {key:?} must be 1 to 64 characters of letters, digits, '-', '_' or '.'"
        )))
    }
}

fn validate_text(what: &str, text: &str, max: usize) -> ApiResult<()> {
    if text.len() > max || text.chars().any(|c| c.is_control() && c != '\n') {
        return Err(ApiError::Unprocessable(format!(
            "{what} must be at most {max} bytes without control characters"
        )));
    }
    Ok(())
}

/// Checks variants and returns them with normalised weights.
fn normalise_variants(inputs: &[VariantInput]) -> ApiResult<Vec<Variant>> {
    if inputs.len() < 2 || inputs.len() > MAX_VARIANTS {
        return Err(ApiError::Unprocessable(format!(
            "an experiment needs 2 to {MAX_VARIANTS} variants, got {}",
            inputs.len()
        )));
    }
    let mut names = HashSet::new();
    for input in inputs {
        validate_key("variant name", &input.name)?;
        if !names.insert(input.name.as_str()) {
            return Err(ApiError::Unprocessable(format!(
                "variant name {:?} appears twice",
                input.name
            )));
        }
        if let Some(weight) = input.weight
            && (!weight.is_finite() || weight <= 0.0)
        {
            return Err(ApiError::Unprocessable(format!(
                "variant {:?} has weight {weight}; weights must be positive numbers",
                input.name
            )));
        }
    }
    let given = inputs.iter().filter(|input| input.weight.is_some()).count();
    if given != 0 && given != inputs.len() {
        return Err(ApiError::Unprocessable(
            "give a weight to every variant or to none (equal split)".into(),
        ));
    }
    let raw: Vec<f64> = inputs.iter().map(|input| input.weight.unwrap_or(1.0)).collect();
    let total: f64 = raw.iter().sum();
    if !total.is_finite() {
        return Err(ApiError::Unprocessable("the weights are too large to add up".into()));
    }
    Ok(inputs
        .iter()
        .zip(raw)
        .map(|(input, weight)| Variant { name: input.name.clone(), weight: weight / total })
        .collect())
}

fn validate_coverage(coverage: f64) -> ApiResult<()> {
    if coverage.is_finite() && coverage > 0.0 && coverage <= 1.0 {
        Ok(())
    } else {
        Err(ApiError::Unprocessable(format!("coverage {coverage} must be in (0, 1]")))
    }
}

fn validate_proxy_metrics(metrics: &[String]) -> ApiResult<()> {
    let mut seen = HashSet::new();
    for metric in metrics {
        if !PROXY_METRICS.contains(&metric.as_str()) {
            return Err(ApiError::Unprocessable(format!(
                "unknown proxy metric {metric:?}; known: {}",
                PROXY_METRICS.join(", ")
            )));
        }
        if !seen.insert(metric) {
            return Err(ApiError::Unprocessable(format!("proxy metric {metric:?} twice")));
        }
    }
    Ok(())
}

fn experiment_from_row(row: &AnyRow, variants: Vec<Variant>) -> ApiResult<Experiment> {
    let status: String = row.get("status");
    let allocation: String = row.get("allocation");
    let proxy: String = row.get("proxy_metrics");
    Ok(Experiment {
        id: row.get("id"),
        project_id: row.get("project_id"),
        key: row.get("key"),
        name: row.get("name"),
        description: row.get("description"),
        status: Status::parse(&status)
            .ok_or_else(|| anyhow::anyhow!("stored experiment status {status:?} is unknown"))?,
        allocation: Allocation::parse(&allocation)
            .ok_or_else(|| anyhow::anyhow!("stored allocation {allocation:?} is unknown"))?,
        coverage: row.get("coverage"),
        primary_goal: row.get("primary_goal"),
        proxy_metrics: serde_json::from_str(&proxy)
            .map_err(|error| anyhow::anyhow!("stored proxy metrics are not JSON: {error}"))?,
        shipped_variant: row.get("shipped_variant"),
        variants,
        created_at: row.get("created_at"),
        updated_at: row.get("updated_at"),
        started_at: row.get("started_at"),
        completed_at: row.get("completed_at"),
    })
}

const EXPERIMENT_COLUMNS: &str = "id, project_id, key, name, description, status, allocation, \
    coverage, primary_goal, proxy_metrics, shipped_variant, created_at, updated_at, started_at, \
    completed_at";

async fn load_variants(conn: &mut AnyConnection, experiment_id: &str) -> ApiResult<Vec<Variant>> {
    let rows =
        sqlx::query("SELECT name, weight FROM variants WHERE experiment_id = $1 ORDER BY position")
            .bind(experiment_id)
            .fetch_all(&mut *conn)
            .await?;
    Ok(rows.iter().map(|row| Variant { name: row.get(0), weight: row.get(1) }).collect())
}

/// Loads one experiment of a project; another project's experiment is "not found".
pub async fn load(conn: &mut AnyConnection, project_id: &str, id: &str) -> ApiResult<Experiment> {
    let sql =
        format!("SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE id = $1 AND project_id = $2");
    let row = sqlx::query(&sql)
        .bind(id)
        .bind(project_id)
        .fetch_optional(&mut *conn)
        .await?
        .ok_or_else(|| ApiError::not_found("experiment"))?;
    let variants = load_variants(conn, id).await?;
    experiment_from_row(&row, variants)
}

/// Loads a project's experiments, optionally only those with the given statuses.
pub async fn load_all(
    conn: &mut AnyConnection,
    project_id: &str,
    statuses: &[Status],
) -> ApiResult<Vec<Experiment>> {
    let sql = format!(
        "SELECT {EXPERIMENT_COLUMNS} FROM experiments WHERE project_id = $1 ORDER BY created_at, id"
    );
    let rows = sqlx::query(&sql).bind(project_id).fetch_all(&mut *conn).await?;
    let mut experiments = Vec::with_capacity(rows.len());
    for row in &rows {
        let variants = load_variants(conn, &row.get::<String, _>("id")).await?;
        let experiment = experiment_from_row(row, variants)?;
        if statuses.is_empty() || statuses.contains(&experiment.status) {
            experiments.push(experiment);
        }
    }
    Ok(experiments)
}

/// Makes sure a goal with `key` exists; a new one matches `goal` events of that key.
async fn ensure_goal(conn: &mut AnyConnection, project_id: &str, key: &str) -> ApiResult<()> {
    validate_key("primary_goal", key)?;
    sqlx::query(
        "INSERT INTO goals (id, project_id, key, name, match_key, created_at) \
         VALUES ($1, $2, $3, $3, $4, $5) ON CONFLICT DO NOTHING",
    )
    .bind(new_id())
    .bind(project_id)
    .bind(key)
    .bind(format!("goal:{key}"))
    .bind(now_ms())
    .execute(&mut *conn)
    .await?;
    Ok(())
}

async fn write_variants(
    conn: &mut AnyConnection,
    experiment_id: &str,
    variants: &[Variant],
) -> ApiResult<()> {
    sqlx::query("DELETE FROM variants WHERE experiment_id = $1")
        .bind(experiment_id)
        .execute(&mut *conn)
        .await?;
    sqlx::query("DELETE FROM variant_stats WHERE experiment_id = $1")
        .bind(experiment_id)
        .execute(&mut *conn)
        .await?;
    for (position, variant) in variants.iter().enumerate() {
        sqlx::query(
            "INSERT INTO variants (experiment_id, position, name, weight) VALUES ($1, $2, $3, $4)",
        )
        .bind(experiment_id)
        .bind(position as i64)
        .bind(&variant.name)
        .bind(variant.weight)
        .execute(&mut *conn)
        .await?;
        sqlx::query(
            "INSERT INTO variant_stats (experiment_id, variant, visitors) VALUES ($1, $2, 0)",
        )
        .bind(experiment_id)
        .bind(&variant.name)
        .execute(&mut *conn)
        .await?;
    }
    Ok(())
}

/// True when a database error is a unique-constraint violation.
fn is_unique_violation(error: &sqlx::Error) -> bool {
    matches!(error, sqlx::Error::Database(db) if db.is_unique_violation())
}

/// `GET /v1/experiments`.
pub async fn list(State(state): State<AppState>, key: ApiKey) -> ApiResult<Json<Value>> {
    let mut conn = state.store().pool().acquire().await?;
    let experiments = load_all(&mut conn, &key.project_id, &[]).await?;
    Ok(Json(json!({ "experiments": experiments })))
}

/// `POST /v1/experiments`: creates a draft.
pub async fn create(
    State(state): State<AppState>,
    key: ApiKey,
    ApiJson(body): ApiJson<NewExperiment>,
) -> ApiResult<(StatusCode, Json<Experiment>)> {
    validate_key("experiment key", &body.key)?;
    let name = body.name.unwrap_or_else(|| body.key.clone());
    validate_text("name", &name, 200)?;
    let description = body.description.unwrap_or_default();
    validate_text("description", &description, 5_000)?;
    let variants = normalise_variants(&body.variants)?;
    let proxy_metrics =
        body.proxy_metrics.unwrap_or_else(|| vec![crate::ingest::ENGAGEMENT_SCORE.to_owned()]);
    validate_proxy_metrics(&proxy_metrics)?;
    let coverage = body.coverage.unwrap_or(1.0);
    validate_coverage(coverage)?;
    let allocation = body.allocation.unwrap_or(Allocation::Fixed);

    let id = new_id();
    let now = now_ms();
    let mut tx = state.store().write().await?;
    if let Some(goal) = &body.primary_goal {
        ensure_goal(&mut tx, &key.project_id, goal).await?;
    }
    let inserted = sqlx::query(
        "INSERT INTO experiments (id, project_id, key, name, description, status, allocation, \
         coverage, primary_goal, proxy_metrics, created_at, updated_at) \
         VALUES ($1, $2, $3, $4, $5, 'draft', $6, $7, $8, $9, $10, $10)",
    )
    .bind(&id)
    .bind(&key.project_id)
    .bind(&body.key)
    .bind(&name)
    .bind(&description)
    .bind(allocation.as_str())
    .bind(coverage)
    .bind(&body.primary_goal)
    .bind(serde_json::to_string(&proxy_metrics).map_err(anyhow::Error::from)?)
    .bind(now)
    .execute(&mut **tx)
    .await;
    match inserted {
        Err(error) if is_unique_violation(&error) => {
            return Err(ApiError::Conflict(format!(
                "an experiment with key {:?} already exists in this project",
                body.key
            )));
        }
        other => {
            other?;
        }
    }
    write_variants(&mut tx, &id, &variants).await?;
    let experiment = load(&mut tx, &key.project_id, &id).await?;
    tx.commit().await?;
    state.invalidate_client_config(&key.project_id);
    tracing::info!(experiment = %experiment.key, "created experiment");
    Ok((StatusCode::CREATED, Json(experiment)))
}

/// `GET /v1/experiments/{id}`.
pub async fn show(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Experiment>> {
    let mut conn = state.store().pool().acquire().await?;
    Ok(Json(load(&mut conn, &key.project_id, &id).await?))
}

/// `PATCH /v1/experiments/{id}`.
pub async fn update(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<String>,
    ApiJson(patch): ApiJson<ExperimentPatch>,
) -> ApiResult<Json<Experiment>> {
    let mut tx = state.store().write().await?;
    let mut experiment = load(&mut tx, &key.project_id, &id).await?;
    if experiment.status == Status::Completed {
        return Err(ApiError::Conflict("a completed experiment cannot be changed".into()));
    }
    let draft = experiment.status == Status::Draft;
    if let Some(new_key) = patch.key {
        if !draft && new_key != experiment.key {
            return Err(ApiError::Conflict(
                "the key of an experiment that has started cannot change".into(),
            ));
        }
        validate_key("experiment key", &new_key)?;
        experiment.key = new_key;
    }
    if let Some(name) = patch.name {
        validate_text("name", &name, 200)?;
        experiment.name = name;
    }
    if let Some(description) = patch.description {
        validate_text("description", &description, 5_000)?;
        experiment.description = description;
    }
    if let Some(goal) = patch.primary_goal {
        ensure_goal(&mut tx, &key.project_id, &goal).await?;
        experiment.primary_goal = Some(goal);
    }
    if let Some(metrics) = patch.proxy_metrics {
        validate_proxy_metrics(&metrics)?;
        experiment.proxy_metrics = metrics;
    }
    if let Some(allocation) = patch.allocation {
        experiment.allocation = allocation;
    }
    if let Some(coverage) = patch.coverage {
        validate_coverage(coverage)?;
        experiment.coverage = coverage;
    }
    if let Some(inputs) = patch.variants {
        if !draft {
            return Err(ApiError::Conflict(format!(
                "the variants of a {} experiment cannot change; counts are kept per variant",
                experiment.status.as_str()
            )));
        }
        experiment.variants = normalise_variants(&inputs)?;
        write_variants(&mut tx, &id, &experiment.variants).await?;
    }
    let updated = sqlx::query(
        "UPDATE experiments SET key = $1, name = $2, description = $3, primary_goal = $4, \
         proxy_metrics = $5, allocation = $6, coverage = $7, updated_at = $8 WHERE id = $9",
    )
    .bind(&experiment.key)
    .bind(&experiment.name)
    .bind(&experiment.description)
    .bind(&experiment.primary_goal)
    .bind(serde_json::to_string(&experiment.proxy_metrics).map_err(anyhow::Error::from)?)
    .bind(experiment.allocation.as_str())
    .bind(experiment.coverage)
    .bind(now_ms())
    .bind(&id)
    .execute(&mut **tx)
    .await;
    match updated {
        Err(error) if is_unique_violation(&error) => {
            return Err(ApiError::Conflict(format!(
                "an experiment with key {:?} already exists in this project",
                experiment.key
            )));
        }
        other => {
            other?;
        }
    }
    let experiment = load(&mut tx, &key.project_id, &id).await?;
    tx.commit().await?;
    state.invalidate_client_config(&key.project_id);
    Ok(Json(experiment))
}

/// `DELETE /v1/experiments/{id}`: deletes an experiment that is not running, with its counts.
pub async fn remove(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store().write().await?;
    let experiment = load(&mut tx, &key.project_id, &id).await?;
    if experiment.status == Status::Running {
        return Err(ApiError::Conflict("pause or complete a running experiment first".into()));
    }
    // Children first: SQLite enforces foreign keys only when the pragma is on, PostgreSQL
    // always, and explicit deletes behave the same on both.
    for table in [
        "metric_stats",
        "goal_stats",
        "variant_stats",
        "visitor_engagement",
        "conversions",
        "exposures",
        "assignments",
        "variants",
    ] {
        sqlx::query(&format!("DELETE FROM {table} WHERE experiment_id = $1"))
            .bind(&id)
            .execute(&mut **tx)
            .await?;
    }
    sqlx::query("DELETE FROM experiments WHERE id = $1").bind(&id).execute(&mut **tx).await?;
    tx.commit().await?;
    state.invalidate_client_config(&key.project_id);
    tracing::info!(experiment = %experiment.key, "deleted experiment");
    Ok(Json(json!({ "id": id, "deleted": true })))
}

/// Moves an experiment from one of `from` to `to`, recording the shipped variant on completion.
async fn transition(
    state: &AppState,
    project_id: &str,
    id: &str,
    from: &[Status],
    to: Status,
    shipped_variant: Option<String>,
) -> ApiResult<Json<Experiment>> {
    let mut tx = state.store().write().await?;
    let experiment = load(&mut tx, project_id, id).await?;
    if !from.contains(&experiment.status) {
        return Err(ApiError::Conflict(format!(
            "a {} experiment cannot become {}",
            experiment.status.as_str(),
            to.as_str()
        )));
    }
    if let Some(shipped) = &shipped_variant
        && !experiment.variants.iter().any(|variant| &variant.name == shipped)
    {
        return Err(ApiError::Unprocessable(format!(
            "shipped_variant {shipped:?} is not a variant of this experiment"
        )));
    }
    let now = now_ms();
    sqlx::query(
        "UPDATE experiments SET status = $1, updated_at = $2, \
         started_at = CASE WHEN $3 = 'running' AND started_at IS NULL THEN $2 ELSE started_at END, \
         completed_at = CASE WHEN $3 = 'completed' THEN $2 ELSE completed_at END, \
         shipped_variant = COALESCE($4, shipped_variant) WHERE id = $5",
    )
    .bind(to.as_str())
    .bind(now)
    .bind(to.as_str())
    .bind(&shipped_variant)
    .bind(id)
    .execute(&mut **tx)
    .await?;
    let experiment = load(&mut tx, project_id, id).await?;
    tx.commit().await?;
    state.invalidate_client_config(project_id);
    tracing::info!(experiment = %experiment.key, status = to.as_str(), "experiment status changed");
    Ok(Json(experiment))
}

/// `POST /v1/experiments/{id}/start`: draft or paused -> running.
pub async fn start(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Experiment>> {
    transition(
        &state,
        &key.project_id,
        &id,
        &[Status::Draft, Status::Paused],
        Status::Running,
        None,
    )
    .await
}

/// `POST /v1/experiments/{id}/pause`: running -> paused.
pub async fn pause(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<String>,
) -> ApiResult<Json<Experiment>> {
    transition(&state, &key.project_id, &id, &[Status::Running], Status::Paused, None).await
}

/// `POST /v1/experiments/{id}/complete`: running or paused -> completed, with the shipped
/// variant.
pub async fn complete(
    State(state): State<AppState>,
    key: ApiKey,
    Path(id): Path<String>,
    ApiJson(body): ApiJson<Completion>,
) -> ApiResult<Json<Experiment>> {
    let from = [Status::Running, Status::Paused];
    transition(&state, &key.project_id, &id, &from, Status::Completed, Some(body.shipped_variant))
        .await
}
