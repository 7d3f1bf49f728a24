//! Sign-in with GitHub: the OAuth authorization-code flow with `state` and PKCE (S256).
//!
//! `state` is random, stored hashed with the PKCE verifier, used once, and bound to the
//! browser by an HttpOnly cookie, so a callback forged from another browser fails. The
//! account is found by GitHub's numeric user id; on first sign-in an existing account is
//! linked only through an email GitHub reports as verified, otherwise a new account is made
//! (with GitHub's no-reply address when no verified email exists).

use axum::extract::{Query, State};
use axum::http::HeaderMap;
use axum::response::{IntoResponse, Redirect, Response};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde::Deserialize;
use sha2::{Digest as _, Sha256};
use sqlx::Row as _;

use super::magic_link::{ClientIp, signed_in_response};
use super::membership::{normalize_email, user_for_email};
use super::pages::safe_next;
use super::rate_limit::PER_IP;
use super::session::{cookie, new_secret, open, set_flow_cookie};
use super::sign_in::{AuthResult, GithubSettings};
use crate::error::ApiError;
use crate::secrets::{hash_secret, now_ms, secrets_equal};
use crate::state::AppState;

/// The cookie binding a GitHub authorization to the browser that started it.
pub const STATE_COOKIE: &str = "vv_oauth_state";
const CALLBACK_PATH: &str = "/v1/auth/github/callback";
/// How long an authorization may take, in milliseconds.
const STATE_TTL_MS: i64 = 10 * 60 * 1000;

fn github(state: &AppState) -> Result<&GithubSettings, ApiError> {
    state
        .config()
        .sign_in
        .github
        .as_ref()
        // 400 rather than 404: the route exists, the server is not set up for it.
        .ok_or_else(|| ApiError::bad_request("GitHub sign-in is not configured on this server"))
}

/// The query of `GET /v1/auth/github/start`.
#[derive(Debug, Default, Deserialize)]
pub struct StartQuery {
    /// A local path to return to after signing in.
    #[serde(default)]
    pub next: Option<String>,
}

/// `GET /v1/auth/github/start`: redirects the browser to GitHub's consent page.
pub async fn start(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    Query(query): Query<StartQuery>,
) -> AuthResult<Response> {
    state.sign_in().limits.check("github-start", &ip, PER_IP)?;
    let settings = github(&state)?;
    let oauth_state = new_secret();
    let verifier = URL_SAFE_NO_PAD.encode(new_secret());
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let now = now_ms();
    let mut tx = state.store().write().await?;
    sqlx::query("DELETE FROM oauth_states WHERE expires_at < $1")
        .bind(now)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO oauth_states (state_hash, pkce_verifier, next_path, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_secret(&oauth_state))
    .bind(&verifier)
    .bind(safe_next(query.next.as_deref()))
    .bind(now)
    .bind(now + STATE_TTL_MS)
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    let redirect_uri = format!("{}{CALLBACK_PATH}", state.config().base_url());
    let params = serde_urlencoded::to_string([
        ("client_id", settings.client_id.as_str()),
        ("redirect_uri", redirect_uri.as_str()),
        ("scope", "read:user user:email"),
        ("state", oauth_state.as_str()),
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
        ("allow_signup", "true"),
    ])
    .map_err(|error| ApiError::Internal(error.into()))?;
    let mut response =
        Redirect::to(&format!("{}?{params}", settings.authorize_url)).into_response();
    set_flow_cookie(&state, &mut response, STATE_COOKIE, &oauth_state, "/v1/auth/github");
    Ok(response)
}

/// The query GitHub sends back to the callback.
#[derive(Debug, Default, Deserialize)]
pub struct CallbackQuery {
    /// The authorization code.
    #[serde(default)]
    pub code: Option<String>,
    /// The state we sent.
    #[serde(default)]
    pub state: Option<String>,
    /// Set when the person declined.
    #[serde(default)]
    pub error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct TokenAnswer {
    #[serde(default)]
    access_token: Option<String>,
    #[serde(default)]
    error: Option<String>,
}

#[derive(Debug, Deserialize)]
struct GithubUser {
    id: i64,
    login: String,
}

#[derive(Debug, Deserialize)]
struct GithubEmail {
    email: String,
    #[serde(default)]
    primary: bool,
    #[serde(default)]
    verified: bool,
}

fn upstream(what: &str) -> impl Fn(reqwest::Error) -> ApiError + '_ {
    move |error| {
        // The error names the URL, never the code or token.
        ApiError::Internal(anyhow::anyhow!("GitHub {what} failed: {}", error.without_url()))
    }
}

/// `GET /v1/auth/github/callback`: checks `state`, trades the code (with the PKCE verifier)
/// for a GitHub token, reads the user and their emails, and signs the browser in.
pub async fn callback(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    headers: HeaderMap,
    Query(query): Query<CallbackQuery>,
) -> AuthResult<Response> {
    state.sign_in().limits.check("github-callback", &ip, PER_IP)?;
    let settings = github(&state)?.clone();
    if query.error.is_some() {
        return Err(ApiError::bad_request("GitHub sign-in was cancelled").into());
    }
    let (Some(code), Some(returned_state)) = (query.code, query.state) else {
        return Err(ApiError::bad_request("the callback needs code and state").into());
    };
    let bad_state = || ApiError::bad_request("the sign-in state does not match; start again");
    let bound = cookie(&headers, STATE_COOKIE).ok_or_else(bad_state)?;
    if !secrets_equal(bound, &returned_state) {
        return Err(bad_state().into());
    }
    let now = now_ms();
    let mut tx = state.store().write().await?;
    let row = sqlx::query(
        "DELETE FROM oauth_states WHERE state_hash = $1 AND expires_at > $2 \
         RETURNING pkce_verifier, next_path",
    )
    .bind(hash_secret(&returned_state))
    .bind(now)
    .fetch_optional(&mut **tx)
    .await?;
    tx.commit().await?;
    let row = row.ok_or_else(bad_state)?;
    let (verifier, next): (String, Option<String>) = (row.get(0), row.get(1));

    let http = &state.sign_in().http;
    let redirect_uri = format!("{}{CALLBACK_PATH}", state.config().base_url());
    let answer: TokenAnswer = http
        .post(&settings.token_url)
        .header(reqwest::header::ACCEPT, "application/json")
        .form(&[
            ("client_id", settings.client_id.as_str()),
            ("client_secret", settings.client_secret.as_str()),
            ("code", code.as_str()),
            ("redirect_uri", redirect_uri.as_str()),
            ("code_verifier", verifier.as_str()),
        ])
        .send()
        .await
        .map_err(upstream("token exchange"))?
        .json()
        .await
        .map_err(upstream("token exchange"))?;
    // GitHub answers a bad, used or expired code with 200 and an `error` field.
    let Some(github_token) = answer.access_token else {
        let reason = answer.error.unwrap_or_else(|| "no access token".into());
        tracing::info!(reason, "GitHub refused the authorization code");
        return Err(ApiError::bad_request("GitHub did not accept the sign-in; start again").into());
    };
    let get = |path: &str| {
        http.get(format!("{}{path}", settings.api_url))
            .bearer_auth(&github_token)
            .header(reqwest::header::ACCEPT, "application/vnd.github+json")
            .header("x-github-api-version", "2022-11-28")
    };
    let user: GithubUser = get("/user")
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(upstream("user lookup"))?
        .json()
        .await
        .map_err(upstream("user lookup"))?;
    let emails: Vec<GithubEmail> = get("/user/emails")
        .send()
        .await
        .and_then(reqwest::Response::error_for_status)
        .map_err(upstream("email lookup"))?
        .json()
        .await
        .map_err(upstream("email lookup"))?;

    let user_id = link_account(&state, &user, &emails).await?;
    let tokens = open(&state, &user_id, "web").await?;
    Ok(signed_in_response(&state, &tokens, next))
}

/// The account for a GitHub user: already linked, or linked now by a verified email, or new.
async fn link_account(
    state: &AppState,
    user: &GithubUser,
    emails: &[GithubEmail],
) -> Result<String, ApiError> {
    let subject = user.id.to_string();
    let pool = state.store().pool();
    if let Some(row) = sqlx::query(
        "SELECT user_id FROM user_identities WHERE provider = 'github' AND subject = $1",
    )
    .bind(&subject)
    .fetch_optional(pool)
    .await?
    {
        return Ok(row.get(0));
    }
    // Only verified addresses may link to (or create) an account keyed by that address:
    // anyone can add an unverified address to a GitHub account.
    let mut verified: Vec<String> = emails
        .iter()
        .filter(|email| email.verified)
        .filter_map(|email| normalize_email(&email.email).ok().map(|e| (email.primary, e)))
        .map(|(primary, email)| (!primary, email))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .map(|(_, email)| email)
        .collect();
    let mut existing = None;
    for email in &verified {
        if let Some(row) = sqlx::query("SELECT id FROM users WHERE email = $1")
            .bind(email)
            .fetch_optional(pool)
            .await?
        {
            existing = Some(row.get::<String, _>(0));
            break;
        }
    }
    let user_id = match existing {
        Some(user_id) => user_id,
        None => {
            let email = if verified.is_empty() {
                format!("{}+{}@users.noreply.github.com", user.id, user.login.to_ascii_lowercase())
            } else {
                verified.remove(0)
            };
            user_for_email(state, &email).await?
        }
    };
    let mut tx = state.store().write().await?;
    sqlx::query(
        "INSERT INTO user_identities (provider, subject, user_id, created_at) \
         VALUES ('github', $1, $2, $3) ON CONFLICT (provider, subject) DO NOTHING",
    )
    .bind(&subject)
    .bind(&user_id)
    .bind(now_ms())
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    Ok(user_id)
}
