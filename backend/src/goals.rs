//! Goals and goal candidates.
//!
//! A goal is a named conversion matched against events by a match key: `goal:<key>` (explicit
//! `goal` events), `custom:<name>` (custom `track` events) or `candidate:<key>` (clicks and
//! submits the core's heuristics grouped into a candidate). Ingestion gathers candidates with
//! counts; confirming one, or creating a goal, counts it retroactively from the stored events
//! (the one place raw events are scanned: once, at confirmation, never when reading results)
//! and from then on as events arrive.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::{AnyConnection, Row as _};

use crate::auth::ApiKey;
use crate::error::{ApiError, ApiResult};
use crate::experiments::validate_key;
use crate::extract::ApiJson;
use crate::secrets::{new_id, now_ms};
use crate::state::AppState;
use crate::store::DbKind;

/// The body of `POST /v1/goals`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewGoal {
    /// The goal key experiments refer to.
    pub key: String,
    /// Display name (defaults to the key).
    #[serde(default)]
    pub name: Option<String>,
    /// Count custom events of this name; without it the goal counts `goal` events of `key`.
    #[serde(default)]
    pub custom_event: Option<String>,
}

/// The body of `POST /v1/goal-candidates/{candidate_key}/confirm` (optional).
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Confirmation {
    /// The goal key to create (defaults to the candidate's category).
    #[serde(default)]
    pub key: Option<String>,
    /// Display name (defaults to the candidate's label).
    #[serde(default)]
    pub name: Option<String>,
}

fn goal_json(row: &sqlx::any::AnyRow) -> Value {
    json!({
        "key": row.get::<String, _>(0),
        "name": row.get::<String, _>(1),
        "match": row.get::<String, _>(2),
        "created_at": row.get::<i64, _>(3),
    })
}

/// `GET /v1/goals`.
pub async fn list_goals(State(state): State<AppState>, key: ApiKey) -> ApiResult<Json<Value>> {
    let rows = sqlx::query(
        "SELECT key, name, match_key, created_at FROM goals WHERE project_id = $1 ORDER BY key",
    )
    .bind(&key.project_id)
    .fetch_all(state.store().pool())
    .await?;
    Ok(Json(json!({ "goals": rows.iter().map(goal_json).collect::<Vec<_>>() })))
}

/// `POST /v1/goals`: a goal on explicit `goal` events or on custom events, counted
/// retroactively.
pub async fn create_goal(
    State(state): State<AppState>,
    key: ApiKey,
    ApiJson(body): ApiJson<NewGoal>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    validate_key("goal key", &body.key)?;
    let match_key = match &body.custom_event {
        Some(name) if name.is_empty() || name.len() > 128 => {
            return Err(ApiError::Unprocessable("custom_event must be 1 to 128 bytes".into()));
        }
        Some(name) => format!("custom:{name}"),
        None => format!("goal:{}", body.key),
    };
    let name = body.name.unwrap_or_else(|| body.key.clone());
    let goal = confirm(&state, &key.project_id, &body.key, &name, &match_key).await?;
    Ok((StatusCode::CREATED, Json(goal)))
}

/// `DELETE /v1/goals/{key}`: removes a goal and its counts.
pub async fn delete_goal(
    State(state): State<AppState>,
    key: ApiKey,
    Path(goal_key): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store().write().await?;
    let deleted = sqlx::query("DELETE FROM goals WHERE project_id = $1 AND key = $2")
        .bind(&key.project_id)
        .bind(&goal_key)
        .execute(&mut **tx)
        .await?
        .rows_affected();
    if deleted == 0 {
        return Err(ApiError::not_found("goal"));
    }
    for table in ["goal_stats", "conversions"] {
        sqlx::query(&format!(
            "DELETE FROM {table} WHERE goal_key = $1 \
             AND experiment_id IN (SELECT id FROM experiments WHERE project_id = $2)"
        ))
        .bind(&goal_key)
        .bind(&key.project_id)
        .execute(&mut **tx)
        .await?;
    }
    tx.commit().await?;
    state.invalidate_client_config(&key.project_id);
    Ok(Json(json!({ "key": goal_key, "deleted": true })))
}

/// `GET /v1/goal-candidates`: candidates by how often they were seen, with the goal each was
/// confirmed as.
pub async fn list_candidates(State(state): State<AppState>, key: ApiKey) -> ApiResult<Json<Value>> {
    let rows = sqlx::query(
        "SELECT c.candidate_key, c.category, c.event_kind, c.label, c.confidence, \
         c.occurrences, c.first_seen, c.last_seen, g.key FROM goal_candidates c \
         LEFT JOIN goals g ON g.project_id = c.project_id \
             AND g.match_key = 'candidate:' || c.candidate_key \
         WHERE c.project_id = $1 ORDER BY c.occurrences DESC, c.candidate_key LIMIT 500",
    )
    .bind(&key.project_id)
    .fetch_all(state.store().pool())
    .await?;
    let candidates: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({
                "key": row.get::<String, _>(0),
                "category": row.get::<String, _>(1),
                "event_kind": row.get::<String, _>(2),
                "label": row.get::<String, _>(3),
                "confidence": row.get::<f64, _>(4),
                "occurrences": row.get::<i64, _>(5),
                "first_seen": row.get::<i64, _>(6),
                "last_seen": row.get::<i64, _>(7),
                "confirmed_as": row.get::<Option<String>, _>(8),
            })
        })
        .collect();
    Ok(Json(json!({ "candidates": candidates })))
}

/// `POST /v1/goal-candidates/{candidate_key}/confirm`.
pub async fn confirm_candidate(
    State(state): State<AppState>,
    key: ApiKey,
    Path(candidate_key): Path<String>,
    body: axum::body::Bytes,
) -> ApiResult<(StatusCode, Json<Value>)> {
    // The body is optional: an empty one confirms with the defaults.
    let body: Confirmation = if body.iter().all(u8::is_ascii_whitespace) {
        Confirmation::default()
    } else {
        serde_json::from_slice(&body)
            .map_err(|error| ApiError::Unprocessable(format!("invalid confirmation: {error}")))?
    };
    let row = sqlx::query(
        "SELECT category, label FROM goal_candidates WHERE project_id = $1 AND candidate_key = $2",
    )
    .bind(&key.project_id)
    .bind(&candidate_key)
    .fetch_optional(state.store().pool())
    .await?
    .ok_or_else(|| ApiError::not_found("goal candidate"))?;
    let goal_key = body.key.unwrap_or_else(|| row.get::<String, _>(0));
    validate_key("goal key", &goal_key)?;
    let name = body.name.unwrap_or_else(|| row.get::<String, _>(1));
    let goal =
        confirm(&state, &key.project_id, &goal_key, &name, &format!("candidate:{candidate_key}"))
            .await?;
    Ok((StatusCode::CREATED, Json(goal)))
}

/// Creates a goal and counts it from the stored events, in one transaction.
async fn confirm(
    state: &AppState,
    project_id: &str,
    goal_key: &str,
    name: &str,
    match_key: &str,
) -> ApiResult<Value> {
    if name.is_empty() || name.len() > 200 {
        return Err(ApiError::Unprocessable("a goal name is 1 to 200 bytes".into()));
    }
    let mut tx = state.store().write().await?;
    if state.store().kind() == DbKind::Postgres {
        // Waits for batches in flight and holds new ones until this commits: a batch then
        // either is in the backfill below or sees the new goal (it reads goals after storing
        // its events), never neither.
        sqlx::query("LOCK TABLE events IN SHARE MODE").execute(&mut **tx).await?;
    }
    let inserted = sqlx::query(
        "INSERT INTO goals (id, project_id, key, name, match_key, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT DO NOTHING RETURNING key",
    )
    .bind(new_id())
    .bind(project_id)
    .bind(goal_key)
    .bind(name)
    .bind(match_key)
    .bind(now_ms())
    .fetch_optional(&mut **tx)
    .await?;
    if inserted.is_none() {
        return Err(ApiError::Conflict(format!(
            "goal {goal_key:?} exists, or these events already count as another goal"
        )));
    }
    backfill(&mut tx, project_id, goal_key, match_key).await?;
    let row = sqlx::query(
        "SELECT key, name, match_key, created_at FROM goals WHERE project_id = $1 AND key = $2",
    )
    .bind(project_id)
    .bind(goal_key)
    .fetch_one(&mut **tx)
    .await?;
    tx.commit().await?;
    state.invalidate_client_config(project_id);
    tracing::info!(goal = goal_key, match_key, "goal confirmed and counted retroactively");
    Ok(goal_json(&row))
}

/// Counts a new goal over the stored events of visitors exposed to live experiments, with the
/// same rule as ingestion (the event at or after the first exposure), then rebuilds its
/// aggregates from the conversions.
async fn backfill(
    conn: &mut AnyConnection,
    project_id: &str,
    goal_key: &str,
    match_key: &str,
) -> ApiResult<()> {
    sqlx::query(
        "INSERT INTO conversions (experiment_id, goal_key, visitor_id, variant, converted_ts, \
         value) \
         SELECT x.experiment_id, $2, x.visitor_id, x.variant, MIN(ev.ts), MAX(ev.value) \
         FROM exposures x \
         JOIN experiments e ON e.id = x.experiment_id \
         JOIN events ev ON ev.project_id = x.project_id AND ev.visitor_id = x.visitor_id \
         WHERE x.project_id = $1 AND e.status IN ('running', 'paused') \
             AND ev.match_key = $3 AND ev.ts >= x.exposed_ts \
         GROUP BY x.experiment_id, x.visitor_id, x.variant \
         ON CONFLICT DO NOTHING",
    )
    .bind(project_id)
    .bind(goal_key)
    .bind(match_key)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "DELETE FROM goal_stats WHERE goal_key = $1 \
         AND experiment_id IN (SELECT id FROM experiments WHERE project_id = $2)",
    )
    .bind(goal_key)
    .bind(project_id)
    .execute(&mut *conn)
    .await?;
    sqlx::query(
        "INSERT INTO goal_stats (experiment_id, variant, goal_key, conversions, value_sum) \
         SELECT experiment_id, variant, goal_key, COUNT(*), COALESCE(SUM(value), 0) \
         FROM conversions WHERE goal_key = $1 \
             AND experiment_id IN (SELECT id FROM experiments WHERE project_id = $2) \
         GROUP BY experiment_id, variant, goal_key",
    )
    .bind(goal_key)
    .bind(project_id)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
