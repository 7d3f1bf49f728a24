//! The project of an API key, its public tokens and its API keys: create, list, revoke.
//!
//! A new token or key is returned in clear once, in the response that creates it; afterwards
//! only its display prefix is shown.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row as _;

use crate::auth::ApiKey;
use crate::error::{ApiError, ApiResult};
use crate::extract::ApiJson;
use crate::secrets::{display_prefix, hash_secret, new_api_key, new_id, new_project_token, now_ms};
use crate::state::AppState;

/// `GET /v1/project`.
pub async fn show(State(state): State<AppState>, key: ApiKey) -> ApiResult<Json<Value>> {
    let row = sqlx::query("SELECT id, name, created_at FROM projects WHERE id = $1")
        .bind(&key.project_id)
        .fetch_optional(state.store().pool())
        .await?
        .ok_or_else(|| ApiError::not_found("project"))?;
    Ok(Json(json!({
        "id": row.get::<String, _>(0),
        "name": row.get::<String, _>(1),
        "created_at": row.get::<i64, _>(2),
    })))
}

/// `GET /v1/project/tokens`.
pub async fn list_tokens(State(state): State<AppState>, key: ApiKey) -> ApiResult<Json<Value>> {
    let rows = sqlx::query(
        "SELECT id, prefix, created_at, revoked_at FROM project_tokens \
         WHERE project_id = $1 ORDER BY created_at, id",
    )
    .bind(&key.project_id)
    .fetch_all(state.store().pool())
    .await?;
    let tokens: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({
                "id": row.get::<String, _>(0),
                "prefix": row.get::<String, _>(1),
                "created_at": row.get::<i64, _>(2),
                "revoked_at": row.get::<Option<i64>, _>(3),
            })
        })
        .collect();
    Ok(Json(json!({ "tokens": tokens })))
}

/// `POST /v1/project/tokens`: a new public token, shown once.
pub async fn create_token(
    State(state): State<AppState>,
    key: ApiKey,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let token = new_project_token();
    let id = new_id();
    let now = now_ms();
    let mut tx = state.store().write().await?;
    sqlx::query(
        "INSERT INTO project_tokens (id, project_id, token_hash, prefix, created_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(&id)
    .bind(&key.project_id)
    .bind(hash_secret(&token))
    .bind(display_prefix(&token))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "token": token, "prefix": display_prefix(&token),
                     "created_at": now })),
    ))
}

/// `DELETE /v1/project/tokens/{token_id}`: revokes a token; it stops working at once here
/// and within the token cache's lifetime on other instances.
pub async fn revoke_token(
    State(state): State<AppState>,
    key: ApiKey,
    Path(token_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store().write().await?;
    let row = sqlx::query(
        "UPDATE project_tokens SET revoked_at = $1 \
         WHERE id = $2 AND project_id = $3 AND revoked_at IS NULL RETURNING token_hash",
    )
    .bind(now_ms())
    .bind(&token_id)
    .bind(&key.project_id)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or_else(|| ApiError::not_found("active project token"))?;
    tx.commit().await?;
    state.tokens().forget(&row.get::<String, _>(0));
    Ok(Json(json!({ "id": token_id, "revoked": true })))
}

/// `GET /v1/project/api-keys`.
pub async fn list_api_keys(State(state): State<AppState>, key: ApiKey) -> ApiResult<Json<Value>> {
    let rows = sqlx::query(
        "SELECT id, name, prefix, created_at, revoked_at FROM api_keys \
         WHERE project_id = $1 ORDER BY created_at, id",
    )
    .bind(&key.project_id)
    .fetch_all(state.store().pool())
    .await?;
    let keys: Vec<Value> = rows
        .iter()
        .map(|row| {
            json!({
                "id": row.get::<String, _>(0),
                "name": row.get::<String, _>(1),
                "prefix": row.get::<String, _>(2),
                "created_at": row.get::<i64, _>(3),
                "revoked_at": row.get::<Option<i64>, _>(4),
            })
        })
        .collect();
    Ok(Json(json!({ "api_keys": keys })))
}

/// The body of `POST /v1/project/api-keys`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct NewApiKey {
    /// A label for the key ("ci", "laptop").
    #[serde(default)]
    pub name: Option<String>,
}

/// `POST /v1/project/api-keys`: a new secret key, shown once.
pub async fn create_api_key(
    State(state): State<AppState>,
    key: ApiKey,
    ApiJson(body): ApiJson<NewApiKey>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let name = body.name.unwrap_or_else(|| "api key".into());
    if name.trim().is_empty() || name.len() > 100 {
        return Err(ApiError::Unprocessable("an API key name is 1 to 100 bytes".into()));
    }
    let secret = new_api_key();
    let id = new_id();
    let now = now_ms();
    let mut tx = state.store().write().await?;
    sqlx::query(
        "INSERT INTO api_keys (id, project_id, name, key_hash, prefix, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&id)
    .bind(&key.project_id)
    .bind(name.trim())
    .bind(hash_secret(&secret))
    .bind(display_prefix(&secret))
    .bind(now)
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    Ok((
        StatusCode::CREATED,
        Json(json!({ "id": id, "name": name.trim(), "key": secret,
                     "prefix": display_prefix(&secret), "created_at": now })),
    ))
}

/// `DELETE /v1/project/api-keys/{key_id}`: revokes a key, effective immediately. A key may
/// revoke itself.
pub async fn revoke_api_key(
    State(state): State<AppState>,
    key: ApiKey,
    Path(key_id): Path<String>,
) -> ApiResult<Json<Value>> {
    let mut tx = state.store().write().await?;
    let revoked = sqlx::query(
        "UPDATE api_keys SET revoked_at = $1 \
         WHERE id = $2 AND project_id = $3 AND revoked_at IS NULL",
    )
    .bind(now_ms())
    .bind(&key_id)
    .bind(&key.project_id)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    if revoked == 0 {
        return Err(ApiError::not_found("active API key"));
    }
    Ok(Json(json!({ "id": key_id, "revoked": true })))
}
