//! Operations endpoints: liveness, readiness and the OpenAPI document.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde_json::{Value, json};

use crate::error::ApiResult;
use crate::state::AppState;

/// `GET /healthz`: the process answers.
pub async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// `GET /readyz`: 200 when the database answers and the server is not shutting down.
pub async fn readyz(State(state): State<AppState>) -> ApiResult<(StatusCode, Json<Value>)> {
    if !state.is_ready() {
        return Ok((StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "draining" }))));
    }
    match sqlx::query("SELECT 1").execute(state.store().pool()).await {
        Ok(_) => Ok((StatusCode::OK, Json(json!({ "status": "ready" })))),
        Err(error) => {
            tracing::warn!(%error, "readiness check: the database does not answer");
            Ok((StatusCode::SERVICE_UNAVAILABLE, Json(json!({ "status": "database_down" }))))
        }
    }
}

/// `GET /v1/openapi.json`: the API description, generated from the route table.
pub async fn openapi() -> Json<Value> {
    Json(crate::routes::openapi())
}
