//! Sessions of people: a row per signed-in client, a short-lived JWT access token naming it,
//! and an opaque refresh token (stored hashed) that rotates on every use.
//!
//! Revocation: every request with an access token reads its session row, so logging out
//! (or a refresh-token reuse) stops the access token at once, not when it expires. Browsers
//! carry the access token in an HttpOnly cookie; state-changing requests authenticated by that
//! cookie must prove they come from our own pages (double-submit CSRF token, below).

use axum::Json;
use axum::extract::{FromRequestParts, State};
use axum::http::request::Parts;
use axum::http::{HeaderMap, HeaderValue, Method, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};
use sqlx::Row as _;

use super::jwt::{self, JwtError};
use super::sign_in::{ACCESS_TTL, AuthResult, SESSION_TTL};
use crate::error::{ApiError, ApiResult};
use crate::secrets::{hash_secret, new_id, now_ms, secrets_equal};
use crate::state::AppState;

/// The cookie holding the access token (HttpOnly).
pub const SESSION_COOKIE: &str = "vv_session";
/// The cookie holding the refresh token (HttpOnly, only sent to `/v1/auth`).
pub const REFRESH_COOKIE: &str = "vv_refresh";
/// The double-submit CSRF cookie; forms echo it in a `csrf` field, scripts in `x-csrf-token`.
pub const CSRF_COOKIE: &str = "vv_csrf";
/// The header naming the CSRF token on cookie-authenticated API calls.
pub const CSRF_HEADER: &str = "x-csrf-token";

/// A freshly issued pair of tokens.
#[derive(Debug, Clone)]
pub struct Tokens {
    /// The session id.
    pub session_id: String,
    /// The JWT access token.
    pub access_token: String,
    /// The opaque refresh token, shown once.
    pub refresh_token: String,
}

impl Tokens {
    /// The OAuth-style JSON body clients receive.
    pub fn to_json(&self) -> Value {
        json!({
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": ACCESS_TTL.as_secs(),
            "refresh_token": self.refresh_token,
        })
    }
}

/// A fresh opaque secret: 32 random bytes in hex.
pub fn new_secret() -> String {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    hex::encode(bytes)
}

/// Opens a session for `user_id` from `client` (`web`, `cli`, `api`) and issues its tokens.
pub async fn open(state: &AppState, user_id: &str, client: &str) -> ApiResult<Tokens> {
    let session_id = new_id();
    let refresh_token = format!("vv_rt_{}", new_secret());
    let now = now_ms();
    let expires = now + i64::try_from(SESSION_TTL.as_millis()).unwrap_or(i64::MAX / 2);
    let mut tx = state.store().write().await?;
    sqlx::query(
        "INSERT INTO sessions (id, user_id, client, refresh_hash, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5, $6)",
    )
    .bind(&session_id)
    .bind(user_id)
    .bind(client)
    .bind(hash_secret(&refresh_token))
    .bind(now)
    .bind(expires)
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    tracing::info!(user_id, session_id, client, "signed in");
    let access_token = jwt::issue(state.sign_in().secret(), user_id, &session_id, now / 1000);
    Ok(Tokens { session_id, access_token, refresh_token })
}

/// A signed-in person, as proven by a live session.
#[derive(Debug, Clone)]
pub struct Person {
    /// The user id.
    pub user_id: String,
    /// The user's email.
    pub email: String,
    /// The session the access token names.
    pub session_id: String,
}

/// Checks an access token and its session row.
pub async fn person_from_token(state: &AppState, token: &str) -> ApiResult<Person> {
    let claims = jwt::verify(state.sign_in().secret(), token).map_err(|error| match error {
        JwtError::Expired => ApiError::Unauthorized(error.to_string()),
        JwtError::Invalid => ApiError::Unauthorized(error.to_string()),
    })?;
    let row = sqlx::query(
        "SELECT u.id, u.email FROM sessions s JOIN users u ON u.id = s.user_id \
         WHERE s.id = $1 AND s.revoked_at IS NULL AND s.expires_at > $2",
    )
    .bind(&claims.sid)
    .bind(now_ms())
    .fetch_optional(state.store().pool())
    .await?
    .ok_or_else(|| ApiError::Unauthorized("the session has ended; sign in again".into()))?;
    let user_id: String = row.get(0);
    if user_id != claims.sub {
        return Err(ApiError::Unauthorized("the access token is not valid".into()));
    }
    Ok(Person { user_id, email: row.get(1), session_id: claims.sid })
}

/// The value of cookie `name`, if the request carries it.
pub fn cookie<'a>(headers: &'a HeaderMap, name: &str) -> Option<&'a str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'))
        .find_map(|pair| {
            let (key, value) = pair.trim().split_once('=')?;
            (key == name).then_some(value)
        })
}

/// True for methods that change state (and so need CSRF protection under cookie auth).
fn changes_state(method: &Method) -> bool {
    !matches!(*method, Method::GET | Method::HEAD | Method::OPTIONS)
}

/// Checks the double-submit CSRF token: `presented` must equal the CSRF cookie.
pub fn csrf_ok(headers: &HeaderMap, presented: Option<&str>) -> bool {
    match (cookie(headers, CSRF_COOKIE), presented) {
        (Some(expected), Some(presented)) => {
            !expected.is_empty() && secrets_equal(expected, presented)
        }
        _ => false,
    }
}

/// Where a request's session comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SessionSource {
    /// `Authorization: Bearer <jwt>` (CLI, scripts).
    Bearer,
    /// The HttpOnly session cookie (the browser).
    Cookie,
}

/// The person behind a request's bearer JWT or session cookie, without the CSRF check (for
/// handlers that check a form field themselves). `Ok(None)` when the request carries neither.
pub async fn person_in(
    parts: &Parts,
    state: &AppState,
) -> ApiResult<Option<(Person, SessionSource)>> {
    if let Some(token) = crate::auth::bearer(parts)? {
        if !jwt::looks_like_jwt(token) {
            return Err(ApiError::Unauthorized(
                "this needs a signed-in person: Authorization: Bearer <access token>".into(),
            ));
        }
        return Ok(Some((person_from_token(state, token).await?, SessionSource::Bearer)));
    }
    match cookie(&parts.headers, SESSION_COOKIE) {
        Some(token) => Ok(Some((person_from_token(state, token).await?, SessionSource::Cookie))),
        None => Ok(None),
    }
}

/// The person behind a request; with cookie auth, state-changing methods must echo the CSRF
/// cookie in `x-csrf-token`.
pub async fn person_checked(parts: &Parts, state: &AppState) -> ApiResult<Person> {
    let (person, source) = person_in(parts, state).await?.ok_or_else(|| {
        ApiError::Unauthorized("sign in first: Authorization: Bearer <access token>".into())
    })?;
    if source == SessionSource::Cookie && changes_state(&parts.method) {
        let presented = parts.headers.get(CSRF_HEADER).and_then(|value| value.to_str().ok());
        if !csrf_ok(&parts.headers, presented) {
            return Err(ApiError::Forbidden("missing or wrong CSRF token".into()));
        }
    }
    Ok(person)
}

impl FromRequestParts<AppState> for Person {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, ApiError> {
        person_checked(parts, state).await
    }
}

/// True when cookies may omit `Secure`: the server is reached over plain HTTP on loopback.
fn insecure_ok(state: &AppState) -> bool {
    let base = state.config().base_url();
    ["http://localhost", "http://127.0.0.1", "http://[::1]"].iter().any(|local| {
        base == *local
            || base.starts_with(&format!("{local}:"))
            || base.starts_with(&format!("{local}/"))
    })
}

/// One `Set-Cookie` value.
fn set_cookie(
    state: &AppState,
    name: &str,
    value: &str,
    path: &str,
    max_age: u64,
    http_only: bool,
) -> HeaderValue {
    let secure = if insecure_ok(state) { "" } else { "; Secure" };
    let http_only = if http_only { "; HttpOnly" } else { "" };
    let text =
        format!("{name}={value}; Path={path}; Max-Age={max_age}; SameSite=Lax{http_only}{secure}");
    HeaderValue::from_str(&text).expect("cookie values are hex and base64url")
}

/// Adds the session, refresh and CSRF cookies of `tokens` to `response`.
pub fn set_session_cookies(state: &AppState, response: &mut Response, tokens: &Tokens) {
    let headers = response.headers_mut();
    let access_age = ACCESS_TTL.as_secs();
    let session_age = SESSION_TTL.as_secs();
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, SESSION_COOKIE, &tokens.access_token, "/", access_age, true),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, REFRESH_COOKIE, &tokens.refresh_token, "/v1/auth", session_age, true),
    );
    headers.append(
        header::SET_COOKIE,
        set_cookie(state, CSRF_COOKIE, &new_secret(), "/", session_age, false),
    );
}

/// Adds a short-lived HttpOnly cookie (the GitHub `state` binding).
pub fn set_flow_cookie(
    state: &AppState,
    response: &mut Response,
    name: &str,
    value: &str,
    path: &str,
) {
    response
        .headers_mut()
        .append(header::SET_COOKIE, set_cookie(state, name, value, path, 600, true));
}

/// The body of `POST /v1/auth/refresh` (or the refresh cookie).
#[derive(Debug, Default, Deserialize)]
pub struct RefreshRequest {
    /// The refresh token last issued.
    #[serde(default)]
    pub refresh_token: Option<String>,
}

/// `POST /v1/auth/refresh`: a new access token and a new refresh token; the old refresh token
/// stops working. Presenting an already rotated token revokes the session (it was copied).
pub async fn refresh(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Option<Json<RefreshRequest>>,
) -> AuthResult<Response> {
    let from_cookie = cookie(&headers, REFRESH_COOKIE).map(str::to_owned);
    let from_body = body.and_then(|Json(body)| body.refresh_token);
    let via_cookie = from_body.is_none() && from_cookie.is_some();
    let presented = from_body
        .or(from_cookie)
        .ok_or_else(|| ApiError::Unauthorized("a refresh_token is required".into()))?;
    if via_cookie && !csrf_ok(&headers, headers.get(CSRF_HEADER).and_then(|v| v.to_str().ok())) {
        return Err(ApiError::Forbidden("missing or wrong CSRF token".into()).into());
    }
    let presented_hash = hash_secret(&presented);
    let new_refresh = format!("vv_rt_{}", new_secret());
    let now = now_ms();
    let mut tx = state.store().write().await?;
    let rotated = sqlx::query(
        "UPDATE sessions SET previous_refresh_hash = refresh_hash, refresh_hash = $1 \
         WHERE refresh_hash = $2 AND revoked_at IS NULL AND expires_at > $3 \
         RETURNING id, user_id",
    )
    .bind(hash_secret(&new_refresh))
    .bind(&presented_hash)
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    let Some(row) = rotated else {
        // A token that was already rotated away: someone holds a copy. End that session.
        let reused = sqlx::query(
            "UPDATE sessions SET revoked_at = $1 \
             WHERE previous_refresh_hash = $2 AND revoked_at IS NULL RETURNING id",
        )
        .bind(now)
        .bind(&presented_hash)
        .fetch_optional(&mut **tx)
        .await?;
        tx.commit().await?;
        if let Some(row) = reused {
            let session_id: String = row.get(0);
            tracing::warn!(session_id, "refresh token reused; session revoked");
        }
        return Err(ApiError::Unauthorized("the refresh token is not valid".into()).into());
    };
    tx.commit().await?;
    let (session_id, user_id): (String, String) = (row.get(0), row.get(1));
    let access_token = jwt::issue(state.sign_in().secret(), &user_id, &session_id, now / 1000);
    let tokens = Tokens { session_id, access_token, refresh_token: new_refresh };
    let mut response = Json(tokens.to_json()).into_response();
    if via_cookie {
        set_session_cookies(&state, &mut response, &tokens);
    }
    Ok(response)
}

/// `POST /v1/auth/logout`: ends the session; its access and refresh tokens stop working now.
pub async fn logout(State(state): State<AppState>, person: Person) -> ApiResult<Response> {
    let mut tx = state.store().write().await?;
    sqlx::query("UPDATE sessions SET revoked_at = $1 WHERE id = $2 AND revoked_at IS NULL")
        .bind(now_ms())
        .bind(&person.session_id)
        .execute(&mut **tx)
        .await?;
    tx.commit().await?;
    tracing::info!(user_id = %person.user_id, session_id = %person.session_id, "signed out");
    let mut response = Json(json!({ "signed_out": true })).into_response();
    for (name, path) in [(SESSION_COOKIE, "/"), (REFRESH_COOKIE, "/v1/auth"), (CSRF_COOKIE, "/")] {
        let expired = format!("{name}=; Path={path}; Max-Age=0; SameSite=Lax");
        if let Ok(value) = HeaderValue::from_str(&expired) {
            response.headers_mut().append(header::SET_COOKIE, value);
        }
    }
    Ok(response)
}

/// `GET /v1/auth/me`: the signed-in person and the projects they belong to.
pub async fn me(State(state): State<AppState>, person: Person) -> ApiResult<Json<Value>> {
    let projects = super::membership::projects_of(&state, &person.user_id).await?;
    Ok(Json(json!({
        "user": { "id": person.user_id, "email": person.email },
        "session_id": person.session_id,
        "projects": projects,
    })))
}
