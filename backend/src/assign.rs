//! `POST /v1/assign`: server-side assignment with the core, the same answer the SDK and the
//! edge compute, recorded so the visitor keeps it.
//!
//! The first answer for a visitor and experiment is stored; later calls return it even when
//! the bandit has since moved the weights (sticky, as in the SDK and the edge cookie).

use std::collections::BTreeMap;

use axum::Json;
use axum::extract::State;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::auth::ProjectAccess;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::secrets::now_ms;
use crate::state::AppState;

/// The body of `POST /v1/assign`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AssignRequest {
    /// The visitor (the `vv_vid` cookie).
    pub visitor_id: String,
    /// Only these experiment keys; all running experiments when absent.
    #[serde(default)]
    pub experiments: Option<Vec<String>>,
}

/// `POST /v1/assign`: `{"assignments": {"hero-cta": "bold", "pricing": null}}`, where null
/// means the visitor is outside the experiment's coverage.
pub async fn assign(
    State(state): State<AppState>,
    access: ProjectAccess,
    ApiJson(request): ApiJson<AssignRequest>,
) -> ApiResult<Json<Value>> {
    if !vibariant_core::event::is_valid_visitor_id(&request.visitor_id) {
        return Err(ApiError::Unprocessable(
            "visitor_id must be 1 to 128 bytes without control characters".into(),
        ));
    }
    let config = crate::config::current(&state, &access.project_id).await?;
    let wanted = request.experiments.as_deref();
    if let Some(keys) = wanted
        && keys.len() > 100
    {
        return Err(ApiError::Unprocessable("ask for at most 100 experiments at once".into()));
    }

    let mut assignments = BTreeMap::new();
    let mut tx = state.store().write().await?;
    for experiment in &config.experiments {
        if wanted.is_some_and(|keys| !keys.contains(&experiment.key)) {
            continue;
        }
        let index = vibariant_core::assign(
            &request.visitor_id,
            &experiment.key,
            &experiment.weights,
            experiment.coverage,
        )
        .map_err(|error| anyhow::anyhow!("assignment of {} failed: {error}", experiment.key))?;
        let computed = index.map(|index| experiment.variants[index].clone());
        let Some(variant) = computed else {
            assignments.insert(experiment.key.clone(), Value::Null);
            continue;
        };
        sqlx::query(
            "INSERT INTO assignments (experiment_id, visitor_id, variant, assigned_at) \
             VALUES ($1, $2, $3, $4) ON CONFLICT DO NOTHING",
        )
        .bind(&experiment.id)
        .bind(&request.visitor_id)
        .bind(&variant)
        .bind(now_ms())
        .execute(&mut **tx)
        .await?;
        let sticky: String = sqlx::query(
            "SELECT variant FROM assignments WHERE experiment_id = $1 AND visitor_id = $2",
        )
        .bind(&experiment.id)
        .bind(&request.visitor_id)
        .fetch_one(&mut **tx)
        .await?
        .get(0);
        assignments.insert(experiment.key.clone(), Value::String(sticky));
    }
    tx.commit().await?;
    Ok(Json(json!({ "visitor_id": request.visitor_id, "assignments": assignments })))
}
