//! Credentials and the extractors routes declare them with.
//!
//! - [`ProjectAccess`]: the public project token (`vv_proj_…`, header or `?token=`) or an API
//!   key; enough to write events, read the client config and assign.
//! - [`ApiKey`]: a secret key (`vv_sk_…`, header only); full access to its own project. A
//!   signed-in member's session (JWT) with the project named in `X-Vibariant-Project` passes
//!   too, after a membership check of that exact project.
//! - [`session::Person`]: a signed-in person (JWT bearer or session cookie).
//!
//! The submodules hold sign-in for people: [`magic_link`], [`github`], [`device`] (RFC 8628),
//! [`session`] and [`jwt`], [`membership`], [`rate_limit`], [`mail`].
//!
//! Both are stored as SHA-256 hashes. The public token sits on the ingestion hot path, so its
//! lookups are cached in memory by hash: a cached request makes no database round trip. The
//! cache forgets an entry when the token is revoked through this process, and every entry after
//! [`TOKEN_CACHE_TTL`] so a revocation made by another process (another Lambda instance, the
//! CLI) takes effect within that time.

pub mod device;
pub mod github;
pub mod jwt;
pub mod magic_link;
pub mod mail;
pub mod membership;
pub mod pages;
pub mod rate_limit;
pub mod session;
pub mod sign_in;

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::{Duration, Instant};

use axum::extract::FromRequestParts;
use axum::http::request::Parts;
use sqlx::Row as _;

use crate::error::ApiError;
use crate::routes::Routes;
use crate::secrets::{API_KEY_PREFIX, PROJECT_TOKEN_PREFIX, hash_secret, secrets_equal};
use crate::state::AppState;

/// How long a cached public token is trusted without asking the database again.
pub const TOKEN_CACHE_TTL: Duration = Duration::from_secs(60);
/// A bound on the cache so a flood of distinct valid tokens cannot grow it without limit.
const TOKEN_CACHE_MAX: usize = 10_000;

/// Public tokens seen recently: token hash -> project id.
#[derive(Debug, Default)]
pub struct TokenCache {
    entries: RwLock<HashMap<String, (String, Instant)>>,
}

impl TokenCache {
    fn get(&self, token_hash: &str) -> Option<String> {
        let entries = self.entries.read().ok()?;
        let (project_id, cached_at) = entries.get(token_hash)?;
        (cached_at.elapsed() < TOKEN_CACHE_TTL).then(|| project_id.clone())
    }

    fn insert(&self, token_hash: String, project_id: String) {
        if let Ok(mut entries) = self.entries.write() {
            if entries.len() >= TOKEN_CACHE_MAX {
                entries.retain(|_, (_, cached_at)| cached_at.elapsed() < TOKEN_CACHE_TTL);
                if entries.len() >= TOKEN_CACHE_MAX {
                    entries.clear();
                }
            }
            entries.insert(token_hash, (project_id, Instant::now()));
        }
    }

    /// Forgets a token (called when it is revoked).
    pub fn forget(&self, token_hash: &str) {
        if let Ok(mut entries) = self.entries.write() {
            entries.remove(token_hash);
        }
    }
}

/// Which kind of credential authenticated a request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    /// The public project token.
    ProjectToken,
    /// A secret API key.
    ApiKey,
}

/// A request allowed to write events, read config and assign for one project.
#[derive(Debug, Clone)]
pub struct ProjectAccess {
    /// The project the credential belongs to.
    pub project_id: String,
    /// How the request authenticated.
    pub via: CredentialKind,
}

/// A request made with a secret API key: full access to one project.
#[derive(Debug, Clone)]
pub struct ApiKey {
    /// The project the key belongs to.
    pub project_id: String,
    /// The key's row id; `None` when a member's session made the request.
    pub key_id: Option<String>,
}

/// The header a session names the project it acts on with (API keys know their project).
pub const PROJECT_HEADER: &str = "x-vibariant-project";

/// The bearer credential of the `Authorization` header, if any.
pub(crate) fn bearer(parts: &Parts) -> Result<Option<&str>, ApiError> {
    let Some(value) = parts.headers.get(axum::http::header::AUTHORIZATION) else {
        return Ok(None);
    };
    let value = value
        .to_str()
        .map_err(|_| ApiError::Unauthorized("the Authorization header is not ASCII".into()))?;
    let token = value
        .strip_prefix("Bearer ")
        .or_else(|| value.strip_prefix("bearer "))
        .ok_or_else(|| ApiError::Unauthorized("the Authorization header must be Bearer".into()))?;
    Ok(Some(token.trim()))
}

/// The `token` query parameter (how `sendBeacon` carries the public token).
fn query_token(parts: &Parts) -> Option<String> {
    let query = parts.uri.query()?;
    query.split('&').find_map(|pair| {
        let (name, value) = pair.split_once('=')?;
        (name == "token").then(|| value.to_owned())
    })
}

/// Resolves a public project token to its project, through the cache.
pub async fn project_for_token(state: &AppState, token: &str) -> Result<String, ApiError> {
    let invalid = || ApiError::Unauthorized("the project token is not valid".into());
    if !token.starts_with(PROJECT_TOKEN_PREFIX) || token.len() > 128 {
        return Err(invalid());
    }
    let token_hash = hash_secret(token);
    if let Some(project_id) = state.tokens().get(&token_hash) {
        return Ok(project_id);
    }
    let row = sqlx::query(
        "SELECT project_id, token_hash FROM project_tokens \
         WHERE token_hash = $1 AND revoked_at IS NULL",
    )
    .bind(&token_hash)
    .fetch_optional(state.store().pool())
    .await?
    .ok_or_else(invalid)?;
    let stored_hash: String = row.get(1);
    if !secrets_equal(&stored_hash, &token_hash) {
        return Err(invalid());
    }
    let project_id: String = row.get(0);
    state.tokens().insert(token_hash, project_id.clone());
    Ok(project_id)
}

/// Resolves a secret API key to its project and key id (no cache: revocation is immediate).
pub async fn project_for_api_key(state: &AppState, key: &str) -> Result<ApiKey, ApiError> {
    let invalid = || ApiError::Unauthorized("the API key is not valid".into());
    if !key.starts_with(API_KEY_PREFIX) || key.len() > 128 {
        return Err(invalid());
    }
    let key_hash = hash_secret(key);
    let row = sqlx::query(
        "SELECT id, project_id, key_hash FROM api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(&key_hash)
    .fetch_optional(state.store().pool())
    .await?
    .ok_or_else(invalid)?;
    let stored_hash: String = row.get(2);
    if !secrets_equal(&stored_hash, &key_hash) {
        return Err(invalid());
    }
    Ok(ApiKey { key_id: Some(row.get(0)), project_id: row.get(1) })
}

impl FromRequestParts<AppState> for ProjectAccess {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let credential = match bearer(parts)? {
            Some(token) => token.to_owned(),
            None => query_token(parts).ok_or_else(|| {
                ApiError::Unauthorized(
                    "a project token is required: Authorization: Bearer vv_proj_… or ?token="
                        .into(),
                )
            })?,
        };
        if credential.starts_with(API_KEY_PREFIX) {
            // A secret key in a URL would end up in access logs; accept it only as a header.
            if bearer(parts)?.is_none() {
                return Err(ApiError::Unauthorized(
                    "API keys go in the Authorization header".into(),
                ));
            }
            let key = project_for_api_key(state, &credential).await?;
            return Ok(ProjectAccess { project_id: key.project_id, via: CredentialKind::ApiKey });
        }
        let project_id = project_for_token(state, &credential).await?;
        Ok(ProjectAccess { project_id, via: CredentialKind::ProjectToken })
    }
}

impl FromRequestParts<AppState> for ApiKey {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        let session_cookie = session::cookie(&parts.headers, session::SESSION_COOKIE).is_some();
        match bearer(parts)? {
            Some(credential) if jwt::looks_like_jwt(credential) => {
                return member_access(parts, state).await;
            }
            None if session_cookie => return member_access(parts, state).await,
            _ => {}
        }
        let credential = bearer(parts)?.ok_or_else(|| {
            ApiError::Unauthorized("an API key is required: Authorization: Bearer vv_sk_…".into())
        })?;
        if credential.starts_with(PROJECT_TOKEN_PREFIX) {
            return Err(ApiError::Forbidden(
                "the public project token can only send events, read config and assign; \
                 this needs an API key"
                    .into(),
            ));
        }
        project_for_api_key(state, credential).await
    }
}

/// A member's session acting on the project named in [`PROJECT_HEADER`]: the person must be a
/// member of exactly that project (otherwise 404, as for another project's resources).
async fn member_access(parts: &Parts, state: &AppState) -> Result<ApiKey, ApiError> {
    let person = session::person_checked(parts, state).await?;
    let project_id = parts
        .headers
        .get(PROJECT_HEADER)
        .and_then(|value| value.to_str().ok())
        .map(str::trim)
        .filter(|value| !value.is_empty())
        .ok_or_else(|| {
            ApiError::bad_request("a session must name its project: X-Vibariant-Project: <id>")
        })?;
    membership::require_member(state, &person.user_id, project_id).await?;
    Ok(ApiKey { project_id: project_id.to_owned(), key_id: None })
}

/// Mounts the sign-in and membership routes (listed in [`crate::routes::ROUTES`]).
pub fn mount(routes: Routes) -> Routes {
    use axum::http::Method;
    use axum::routing::{get, post};
    routes
        .add(Method::POST, "/v1/auth/magic-link", post(magic_link::request_link))
        .add(Method::POST, "/v1/auth/magic-link/verify", post(magic_link::verify))
        .add(Method::GET, "/auth/magic", get(magic_link::confirm_page))
        .add(Method::POST, "/auth/magic", post(magic_link::confirm))
        .add(Method::GET, "/v1/auth/github/start", get(github::start))
        .add(Method::GET, "/v1/auth/github/callback", get(github::callback))
        .add(Method::POST, "/v1/auth/device/code", post(device::code))
        .add(Method::POST, "/v1/auth/device/token", post(device::token))
        .add(Method::GET, "/device", get(device::page_get))
        .add(Method::POST, "/device", post(device::page_post))
        .add(Method::POST, "/v1/auth/refresh", post(session::refresh))
        .add(Method::POST, "/v1/auth/logout", post(session::logout))
        .add(Method::GET, "/v1/auth/me", get(session::me))
        .add(Method::GET, "/v1/projects", get(membership::list_projects))
        .add(Method::POST, "/v1/projects", post(membership::create_project))
        .add(Method::GET, "/v1/projects/{project_id}/members", get(membership::list_members))
        .add(Method::POST, "/v1/projects/{project_id}/invitations", post(membership::invite))
        .add(Method::GET, "/v1/invitations", get(membership::my_invitations))
        .add(Method::POST, "/v1/invitations/{invitation_id}/accept", post(membership::accept))
}
