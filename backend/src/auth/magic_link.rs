//! Email magic links: a single-use token (stored hashed) mailed to the address, valid for
//! 15 minutes. Verifying it signs the person in, making the account on first use.
//!
//! Every well-formed address gets the same answer (202), whether or not an account exists,
//! and the mail is sent in the background so the response time says nothing either. The link
//! opens a page with a button rather than signing in on GET, so mail scanners that fetch links
//! do not burn the token.

use axum::Json;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::request::Parts;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row as _;

use super::mail::Mail;
use super::membership::{normalize_email, user_for_email};
use super::pages::{escape, page, safe_next};
use super::rate_limit::{PER_EMAIL, PER_IP, client_ip, ip_key};
use super::session::{Tokens, new_secret, open, set_session_cookies};
use super::sign_in::{AuthError, AuthResult, MAGIC_LINK_TTL};
use crate::error::ApiError;
use crate::secrets::{hash_secret, now_ms};
use crate::state::AppState;

/// The body of `POST /v1/auth/magic-link` (JSON or an HTML form).
#[derive(Debug, Deserialize)]
pub struct LinkRequest {
    /// The address to sign in with.
    pub email: String,
    /// A local path to return to after signing in.
    #[serde(default)]
    pub next: Option<String>,
}

/// A body that is JSON or `application/x-www-form-urlencoded`, and which of the two it was.
#[derive(Debug)]
pub struct JsonOrForm<T> {
    /// The parsed body.
    pub value: T,
    /// True when it came from an HTML form.
    pub form: bool,
}

impl<T: serde::de::DeserializeOwned, S: Send + Sync> FromRequest<S> for JsonOrForm<T> {
    type Rejection = ApiError;

    async fn from_request(request: Request, state: &S) -> Result<Self, ApiError> {
        let form = request
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|value| value.to_str().ok())
            .is_some_and(|value| value.starts_with("application/x-www-form-urlencoded"));
        if form {
            let axum::Form(value) = axum::Form::<T>::from_request(request, state)
                .await
                .map_err(|rejection| ApiError::Unprocessable(rejection.body_text()))?;
            return Ok(JsonOrForm { value, form: true });
        }
        let crate::extract::ApiJson(value) =
            crate::extract::ApiJson::<T>::from_request(request, state).await?;
        Ok(JsonOrForm { value, form: false })
    }
}

/// The client IP of a request, for the rate limiter.
#[derive(Debug, Clone)]
pub struct ClientIp(pub String);

impl<S: Send + Sync> axum::extract::FromRequestParts<S> for ClientIp {
    type Rejection = std::convert::Infallible;

    async fn from_request_parts(parts: &mut Parts, _: &S) -> Result<Self, Self::Rejection> {
        Ok(ClientIp(ip_key(client_ip(parts))))
    }
}

/// `POST /v1/auth/magic-link`: mails a sign-in link. Always 202 for a well-formed address.
pub async fn request_link(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: JsonOrForm<LinkRequest>,
) -> AuthResult<Response> {
    let limits = &state.sign_in().limits;
    limits.check("magic-link", &ip, PER_IP)?;
    let email = normalize_email(&body.value.email)?;
    limits.check("magic-link:email", &email, PER_EMAIL)?;

    let token = new_secret();
    let now = now_ms();
    let expires = now + i64::try_from(MAGIC_LINK_TTL.as_millis()).unwrap_or(900_000);
    let mut tx = state.store().write().await?;
    // Old, expired links are dead weight; clearing them here keeps the table small.
    sqlx::query("DELETE FROM magic_links WHERE expires_at < $1")
        .bind(now - 86_400_000)
        .execute(&mut **tx)
        .await?;
    sqlx::query(
        "INSERT INTO magic_links (token_hash, email, next_path, created_at, expires_at) \
         VALUES ($1, $2, $3, $4, $5)",
    )
    .bind(hash_secret(&token))
    .bind(&email)
    .bind(safe_next(body.value.next.as_deref()))
    .bind(now)
    .bind(expires)
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;

    let link = format!("{}/auth/magic?token={token}", state.config().base_url());
    state.sign_in().mailer.send_later(Mail {
        to: email,
        subject: "Your Vibariant sign-in link".into(),
        body: format!(
            "Open this link to sign in to Vibariant:\n\n{link}\n\nIt works once, for {} \
             minutes. If you did not ask for it, ignore this mail.\n",
            MAGIC_LINK_TTL.as_secs() / 60
        ),
    });
    if body.form {
        return Ok(page(
            StatusCode::ACCEPTED,
            "Check your mail",
            "<p>If the address can receive mail, a sign-in link is on its way. \
             It works once, for 15 minutes.</p>",
        ));
    }
    Ok((StatusCode::ACCEPTED, Json(json!({ "sent": true }))).into_response())
}

/// Marks the link used and returns (user id, next path); one answer for every failure.
async fn consume(state: &AppState, token: &str) -> AuthResult<(String, Option<String>)> {
    let invalid =
        || ApiError::Unauthorized("the sign-in link is not valid, used or expired".into());
    if token.len() != 64 || !token.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(invalid().into());
    }
    let now = now_ms();
    let mut tx = state.store().write().await?;
    // The hash is the key: the lookup compares hashes, so timing says nothing about the token.
    let row = sqlx::query(
        "UPDATE magic_links SET used_at = $1 \
         WHERE token_hash = $2 AND used_at IS NULL AND expires_at > $1 RETURNING email, next_path",
    )
    .bind(now)
    .bind(hash_secret(token))
    .fetch_optional(&mut **tx)
    .await?;
    tx.commit().await?;
    let row = row.ok_or_else(invalid)?;
    let email: String = row.get(0);
    let user_id = user_for_email(state, &email).await?;
    Ok((user_id, row.get(1)))
}

/// The body of `POST /v1/auth/magic-link/verify` and of the confirm form.
#[derive(Debug, Deserialize)]
pub struct VerifyRequest {
    /// The token from the link.
    pub token: String,
}

/// `POST /v1/auth/magic-link/verify`: exchanges the link's token for session tokens (JSON).
pub async fn verify(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    crate::extract::ApiJson(body): crate::extract::ApiJson<VerifyRequest>,
) -> AuthResult<Json<serde_json::Value>> {
    state.sign_in().limits.check("magic-link-verify", &ip, PER_IP)?;
    let (user_id, _) = consume(&state, &body.token).await?;
    let tokens: Tokens = open(&state, &user_id, "api").await?;
    Ok(Json(tokens.to_json()))
}

/// The query of `GET /auth/magic`.
#[derive(Debug, Deserialize)]
pub struct LinkQuery {
    /// The token from the mail.
    #[serde(default)]
    pub token: String,
}

/// `GET /auth/magic?token=…`: the page the mailed link opens; a button posts the token.
pub async fn confirm_page(Query(query): Query<LinkQuery>) -> Response {
    page(
        StatusCode::OK,
        "Sign in",
        &format!(
            "<form method=\"post\" action=\"/auth/magic\">\
             <input type=\"hidden\" name=\"token\" value=\"{}\">\
             <button type=\"submit\">Sign in to Vibariant</button></form>",
            escape(&query.token)
        ),
    )
}

/// `POST /auth/magic`: signs the browser in (session cookies) and goes on to `next`.
pub async fn confirm(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    axum::Form(body): axum::Form<VerifyRequest>,
) -> Response {
    if let Err(error) = state.sign_in().limits.check("magic-link-verify", &ip, PER_IP) {
        return error.into_response();
    }
    match consume(&state, &body.token).await {
        Ok((user_id, next)) => match open(&state, &user_id, "web").await {
            Ok(tokens) => signed_in_response(&state, &tokens, next),
            Err(error) => error.into_response(),
        },
        Err(AuthError::Api(ApiError::Unauthorized(message))) => page(
            StatusCode::BAD_REQUEST,
            "This link does not work",
            &format!("<p>{}. Ask for a new one.</p>", escape(&message)),
        ),
        Err(error) => error.into_response(),
    }
}

/// The browser's answer after signing in: cookies, then `next` or a short page.
pub fn signed_in_response(state: &AppState, tokens: &Tokens, next: Option<String>) -> Response {
    let mut response = match next {
        Some(next) => Redirect::to(&next).into_response(),
        None => page(StatusCode::OK, "Signed in", "<p>You are signed in to Vibariant.</p>"),
    };
    set_session_cookies(state, &mut response, tokens);
    response
}
