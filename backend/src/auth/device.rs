//! The device authorization grant (RFC 8628) the CLI signs in with: the CLI asks for a code,
//! shows the person a short user code and a URL, and polls; the person opens the URL in a
//! browser, signs in (magic link or GitHub) and approves. In dev mode the code is approved at
//! once for the local developer account, so `vibariant login` needs no browser.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::request::Parts;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::json;
use sqlx::Row as _;

use super::magic_link::{ClientIp, JsonOrForm};
use super::membership::user_for_email;
use super::pages::{escape, page};
use super::rate_limit::{PER_IP, client_ip, ip_key};
use super::session::{CSRF_COOKIE, SessionSource, cookie, csrf_ok, new_secret, open, person_in};
use super::sign_in::{AuthError, AuthResult};
use crate::secrets::{hash_secret, now_ms};
use crate::state::AppState;

/// The grant type the token endpoint accepts.
pub const GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// User codes use consonants only: no vowels (no words), no 0/O or 1/I/L look-alikes.
pub const USER_CODE_ALPHABET: &[u8] = b"BCDFGHJKLMNPQRSTVWXZ";
/// How long a device code works, in seconds.
pub const DEVICE_CODE_TTL_SECS: i64 = 900;
/// The polling interval first given, in seconds.
pub const POLL_INTERVAL_SECS: i64 = 5;
/// The account dev mode approves codes for.
pub const DEV_EMAIL: &str = "dev@localhost.localdomain";

/// A fresh user code, `XXXX-XXXX` over [`USER_CODE_ALPHABET`] (about 34.6 bits).
pub fn new_user_code() -> String {
    let mut bytes = [0u8; 8];
    getrandom::fill(&mut bytes).expect("the operating system's random source");
    let letters: Vec<char> = bytes
        .iter()
        // 256 is not a multiple of 20; the bias (at most 1 in 13) does not matter at this
        // code length with rate-limited guessing.
        .map(|byte| char::from(USER_CODE_ALPHABET[usize::from(*byte) % USER_CODE_ALPHABET.len()]))
        .collect();
    format!(
        "{}-{}",
        letters[..4].iter().collect::<String>(),
        letters[4..].iter().collect::<String>()
    )
}

/// A user code as typed (any case, with or without the dash) in canonical form.
pub fn normalize_user_code(typed: &str) -> Option<String> {
    let letters: String = typed
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '-')
        .map(|c| c.to_ascii_uppercase())
        .collect();
    let valid = letters.len() == 8 && letters.bytes().all(|b| USER_CODE_ALPHABET.contains(&b));
    valid.then(|| format!("{}-{}", &letters[..4], &letters[4..]))
}

fn no_store(mut response: Response) -> Response {
    response.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

/// `POST /v1/auth/device/code`: a device code for the CLI and a user code for the person.
pub async fn code(State(state): State<AppState>, ClientIp(ip): ClientIp) -> AuthResult<Response> {
    // The body (RFC 8628's `client_id`, `scope`) is not read: there is one client and one
    // scope.
    state.sign_in().limits.check("device-code", &ip, PER_IP)?;
    let device_code = new_secret();
    let now = now_ms();
    let (status, user_id) = if state.config().dev_mode() {
        ("approved", Some(user_for_email(&state, DEV_EMAIL).await?))
    } else {
        ("pending", None)
    };
    let mut tx = state.store().write().await?;
    sqlx::query("DELETE FROM device_codes WHERE expires_at < $1")
        .bind(now)
        .execute(&mut **tx)
        .await?;
    let mut user_code = new_user_code();
    // A clash with a live code is rare (1 in 25 billion per live code); draw again.
    for _ in 0..5 {
        let taken = sqlx::query("SELECT 1 FROM device_codes WHERE user_code = $1")
            .bind(&user_code)
            .fetch_optional(&mut **tx)
            .await?
            .is_some();
        if !taken {
            break;
        }
        user_code = new_user_code();
    }
    sqlx::query(
        "INSERT INTO device_codes (device_code_hash, user_code, status, user_id, interval_secs, \
         created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(hash_secret(&device_code))
    .bind(&user_code)
    .bind(status)
    .bind(user_id)
    .bind(POLL_INTERVAL_SECS)
    .bind(now)
    .bind(now + DEVICE_CODE_TTL_SECS * 1000)
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    let base = state.config().base_url();
    Ok(no_store(
        Json(json!({
            "device_code": device_code,
            "user_code": user_code,
            "verification_uri": format!("{base}/device"),
            "verification_uri_complete": format!("{base}/device?user_code={user_code}"),
            "expires_in": DEVICE_CODE_TTL_SECS,
            "interval": POLL_INTERVAL_SECS,
        }))
        .into_response(),
    ))
}

/// The body of `POST /v1/auth/device/token`.
#[derive(Debug, Deserialize)]
pub struct TokenRequest {
    /// Must be [`GRANT_TYPE`].
    #[serde(default)]
    pub grant_type: String,
    /// The device code from the code endpoint.
    #[serde(default)]
    pub device_code: String,
    /// Accepted and ignored, as for the code endpoint.
    #[serde(default)]
    pub client_id: Option<String>,
}

/// `POST /v1/auth/device/token`: the CLI's poll. Errors are RFC 8628's, `{"error": …}` 400.
pub async fn token(
    State(state): State<AppState>,
    ClientIp(ip): ClientIp,
    body: JsonOrForm<TokenRequest>,
) -> AuthResult<Response> {
    let request = body.value;
    state.sign_in().limits.check("device-token", &ip, PER_IP)?;
    if request.grant_type != GRANT_TYPE {
        return Err(AuthError::Device("unsupported_grant_type"));
    }
    let code_hash = hash_secret(&request.device_code);
    let now = now_ms();
    let mut tx = state.store().write().await?;
    let row = sqlx::query(
        "SELECT status, user_id, interval_secs, last_polled_at, expires_at FROM device_codes \
         WHERE device_code_hash = $1",
    )
    .bind(&code_hash)
    .fetch_optional(&mut **tx)
    .await?
    .ok_or(AuthError::Device("invalid_grant"))?;
    let status: String = row.get(0);
    let user_id: Option<String> = row.get(1);
    let interval: i64 = row.get(2);
    let last_polled: Option<i64> = row.get(3);
    let expires_at: i64 = row.get(4);
    if expires_at <= now {
        return Err(AuthError::Device("expired_token"));
    }
    match status.as_str() {
        "denied" => return Err(AuthError::Device("access_denied")),
        "consumed" => return Err(AuthError::Device("invalid_grant")),
        _ => {}
    }
    if last_polled.is_some_and(|last| now - last < interval * 1000) {
        // RFC 8628 §3.5: every slow_down adds 5 seconds to the interval from then on.
        sqlx::query(
            "UPDATE device_codes SET interval_secs = interval_secs + 5, last_polled_at = $1 \
             WHERE device_code_hash = $2",
        )
        .bind(now)
        .bind(&code_hash)
        .execute(&mut **tx)
        .await?;
        tx.commit().await?;
        return Err(AuthError::Device("slow_down"));
    }
    let next_status = if status == "approved" { "consumed" } else { status.as_str() };
    sqlx::query(
        "UPDATE device_codes SET last_polled_at = $1, status = $2 WHERE device_code_hash = $3",
    )
    .bind(now)
    .bind(next_status)
    .bind(&code_hash)
    .execute(&mut **tx)
    .await?;
    tx.commit().await?;
    match (status.as_str(), user_id) {
        ("approved", Some(user_id)) => {
            let tokens = open(&state, &user_id, "cli").await?;
            Ok(no_store(Json(tokens.to_json()).into_response()))
        }
        _ => Err(AuthError::Device("authorization_pending")),
    }
}

/// The query of `GET /device`.
#[derive(Debug, Default, Deserialize)]
pub struct DeviceQuery {
    /// The code the CLI showed, if the link carried it.
    #[serde(default)]
    pub user_code: Option<String>,
}

fn sign_in_choices(state: &AppState, user_code: &str) -> String {
    let next = format!("/device?user_code={}", user_code);
    let next_query = serde_urlencoded::to_string([("next", next.as_str())]).unwrap_or_default();
    let github = if state.config().sign_in.github.is_some() {
        format!(
            "<p><a href=\"/v1/auth/github/start?{}\">Sign in with GitHub</a></p>",
            escape(&next_query)
        )
    } else {
        String::new()
    };
    format!(
        "<p>Sign in to approve the code <b>{code}</b>.</p>{github}\
         <form method=\"post\" action=\"/v1/auth/magic-link\">\
         <input type=\"hidden\" name=\"next\" value=\"{next}\">\
         <label>Email <input type=\"email\" name=\"email\" required></label> \
         <button type=\"submit\">Mail me a link</button></form>",
        code = escape(user_code),
        next = escape(&next),
    )
}

/// `GET /device`: the verification page. Signed in: approve or deny the code. Otherwise:
/// sign in first (magic link or GitHub), coming back here.
pub async fn page_get(
    State(state): State<AppState>,
    parts: Parts,
    Query(query): Query<DeviceQuery>,
) -> Response {
    let user_code = query.user_code.as_deref().and_then(normalize_user_code).unwrap_or_default();
    let person = match person_in(&parts, &state).await {
        Ok(Some((person, SessionSource::Cookie))) => Some(person),
        _ => None,
    };
    let (Some(person), Some(csrf)) = (person, cookie(&parts.headers, CSRF_COOKIE)) else {
        return page(
            StatusCode::OK,
            "Sign in to your terminal",
            &sign_in_choices(&state, &user_code),
        );
    };
    page(
        StatusCode::OK,
        "Sign in to your terminal",
        &format!(
            "<p>Signed in as {email}. Approve only a code your own terminal shows.</p>\
             <form method=\"post\" action=\"/device\">\
             <input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
             <label>Code <input name=\"user_code\" value=\"{code}\" required \
             autocomplete=\"off\"></label> \
             <button name=\"action\" value=\"approve\">Approve</button> \
             <button name=\"action\" value=\"deny\">Deny</button></form>",
            email = escape(&person.email),
            csrf = escape(csrf),
            code = escape(&user_code),
        ),
    )
}

/// The form of `POST /device`.
#[derive(Debug, Deserialize)]
pub struct Decision {
    /// The double-submit CSRF token.
    #[serde(default)]
    pub csrf: String,
    /// The code the person typed or confirmed.
    #[serde(default)]
    pub user_code: String,
    /// `approve` or `deny`.
    #[serde(default)]
    pub action: String,
}

/// `POST /device`: the signed-in person approves or denies a pending code.
pub async fn page_post(
    State(state): State<AppState>,
    parts: Parts,
    body: axum::body::Bytes,
) -> Response {
    let ip = ip_key(client_ip(&parts));
    if let Err(error) = state.sign_in().limits.check("device-approve", &ip, PER_IP) {
        return error.into_response();
    }
    let Ok(decision) = serde_urlencoded::from_bytes::<Decision>(&body) else {
        return page(StatusCode::BAD_REQUEST, "Not understood", "<p>The form is malformed.</p>");
    };
    let (person, source) = match person_in(&parts, &state).await {
        Ok(Some(found)) => found,
        _ => {
            let code = normalize_user_code(&decision.user_code).unwrap_or_default();
            return page(
                StatusCode::UNAUTHORIZED,
                "Sign in first",
                &sign_in_choices(&state, &code),
            );
        }
    };
    // A bearer token cannot be sent by another site's form; only the cookie needs the check.
    if source == SessionSource::Cookie && !csrf_ok(&parts.headers, Some(&decision.csrf)) {
        return page(
            StatusCode::FORBIDDEN,
            "Refused",
            "<p>The form is stale; reload the page.</p>",
        );
    }
    let approve = match decision.action.as_str() {
        "approve" => true,
        "deny" => false,
        _ => return page(StatusCode::BAD_REQUEST, "Not understood", "<p>Approve or deny.</p>"),
    };
    let Some(user_code) = normalize_user_code(&decision.user_code) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Unknown code",
            "<p>That is not a code we issued.</p>",
        );
    };
    match decide(&state, &user_code, approve.then_some(person.user_id.as_str())).await {
        Ok(true) if approve => page(StatusCode::OK, "Approved", "<p>Return to your terminal.</p>"),
        Ok(true) => page(StatusCode::OK, "Denied", "<p>The terminal will not be signed in.</p>"),
        Ok(false) => page(
            StatusCode::BAD_REQUEST,
            "Unknown code",
            "<p>That code is unknown, expired or already used. Start again in the terminal.</p>",
        ),
        Err(error) => error.into_response(),
    }
}

/// Approves (for `user_id`) or denies (None) a pending, live code; false if there is none.
pub async fn decide(state: &AppState, user_code: &str, user_id: Option<&str>) -> AuthResult<bool> {
    let now = now_ms();
    let mut tx = state.store().write().await?;
    let changed = sqlx::query(
        "UPDATE device_codes SET status = $1, user_id = $2 \
         WHERE user_code = $3 AND status = 'pending' AND expires_at > $4",
    )
    .bind(if user_id.is_some() { "approved" } else { "denied" })
    .bind(user_id)
    .bind(user_code)
    .bind(now)
    .execute(&mut **tx)
    .await?
    .rows_affected();
    tx.commit().await?;
    Ok(changed == 1)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_codes_use_the_unambiguous_alphabet_and_normalize() {
        for _ in 0..100 {
            let code = new_user_code();
            assert_eq!(code.len(), 9);
            assert_eq!(normalize_user_code(&code).as_deref(), Some(code.as_str()));
            assert!(code.chars().filter(|c| *c != '-').all(|c| !"AEIOUY01".contains(c)));
        }
        assert_eq!(normalize_user_code("bcdf ghjk").as_deref(), Some("BCDF-GHJK"));
        assert_eq!(normalize_user_code("BCDF-GHJA"), None);
        assert_eq!(normalize_user_code("BCDF"), None);
    }
}
