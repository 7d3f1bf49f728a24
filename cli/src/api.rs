//! The sign-in part of the backend's HTTP API, as the CLI speaks it: the RFC 8628 device flow
//! (`/v1/auth/device/code` and `/v1/auth/device/token`), `/v1/auth/me`, refresh and logout.
//!
//! Tokens travel only in request bodies and the `Authorization` header, never in URLs, so the
//! error messages built from URLs here cannot leak them.

use std::fmt;
use std::time::Duration;

use reqwest::StatusCode;
use serde::Deserialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

/// The grant type RFC 8628 names for device-code polling.
pub const DEVICE_GRANT_TYPE: &str = "urn:ietf:params:oauth:grant-type:device_code";
/// The client id sent with the device flow (the backend accepts and ignores it).
const CLIENT_ID: &str = "vibariant-cli";
/// How long one request may take. The device flow polls, so no single request needs long.
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// Why a call to the server failed.
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No HTTP answer at all: nothing listening, DNS, TLS, a timeout.
    #[error(
        "cannot reach the Vibariant server at {server} ({reason}); check that it is running \
         and that the URL is right (--server or VIBARIANT_URL)"
    )]
    Unreachable {
        /// The server's base URL.
        server: String,
        /// The innermost cause, e.g. "Connection refused (os error 111)".
        reason: String,
    },
    /// The server answered 401: the credential is missing, expired, revoked or forged.
    #[error("the server did not accept the credentials: {0}")]
    Unauthorized(String),
    /// The server asks us to slow down (HTTP 429).
    #[error("the server is limiting requests from this address; wait a minute and try again")]
    RateLimited,
    /// Any other error status, with the server's own message when it sent one.
    #[error("the server answered {status} to {what}: {message}")]
    Status {
        /// What we asked for, e.g. "the sign-in request".
        what: &'static str,
        /// The HTTP status code.
        status: u16,
        /// The server's message.
        message: String,
    },
    /// A success status with a body this client does not understand.
    #[error(
        "the answer to {what} is not what this CLI understands ({detail}); is {server} a \
         Vibariant server of a matching version?"
    )]
    Unexpected {
        /// What we asked for.
        what: &'static str,
        /// The server's base URL.
        server: String,
        /// What was wrong with the body.
        detail: String,
    },
}

/// A device code and what the person needs to approve it (`POST /v1/auth/device/code`).
#[derive(Clone, Deserialize)]
pub struct DeviceCode {
    /// The secret the CLI polls with; never shown.
    pub device_code: String,
    /// The short code the person compares in the browser.
    pub user_code: String,
    /// The page where the person approves.
    pub verification_uri: String,
    /// The same page with the code filled in.
    pub verification_uri_complete: String,
    /// Seconds until the code stops working.
    pub expires_in: u64,
    /// Seconds to wait between polls.
    pub interval: u64,
}

impl fmt::Debug for DeviceCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("DeviceCode")
            .field("device_code", &"<secret>")
            .field("user_code", &self.user_code)
            .field("verification_uri_complete", &self.verification_uri_complete)
            .field("expires_in", &self.expires_in)
            .field("interval", &self.interval)
            .finish()
    }
}

/// A fresh token pair (the device grant and `/v1/auth/refresh` answer the same shape).
#[derive(Clone, Deserialize)]
pub struct Tokens {
    /// The short-lived JWT sent as `Authorization: Bearer`.
    pub access_token: String,
    /// The opaque, rotating refresh token.
    pub refresh_token: String,
    /// Seconds the access token is valid for.
    pub expires_in: u64,
}

impl fmt::Debug for Tokens {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Tokens")
            .field("access_token", &"<secret>")
            .field("refresh_token", &"<secret>")
            .field("expires_in", &self.expires_in)
            .finish()
    }
}

/// Why the server will never grant a device code (RFC 8628 §3.5 terminal errors).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Refusal {
    /// `access_denied`: the person pressed Deny.
    Denied,
    /// `expired_token`: nobody approved in time.
    Expired,
    /// `invalid_grant`: unknown or already used.
    InvalidGrant,
    /// Any other error code the server sent.
    Other(String),
}

/// One answer to a device-code poll.
#[derive(Debug)]
pub enum Poll {
    /// Approved: the session's tokens.
    Granted(Tokens),
    /// `authorization_pending`: ask again after the interval.
    Pending,
    /// `slow_down`: ask again, 5 seconds more patiently from now on.
    SlowDown,
    /// The flow is over without tokens.
    Refused(Refusal),
}

/// `GET /v1/auth/me`: the signed-in person.
#[derive(Debug, Clone, Deserialize)]
pub struct Me {
    /// The account.
    pub user: User,
    /// The session this access token belongs to.
    pub session_id: String,
    /// The projects the person belongs to, as the server describes them.
    #[serde(default)]
    pub projects: Vec<Value>,
}

/// An account.
#[derive(Debug, Clone, Deserialize)]
pub struct User {
    /// The user id.
    pub id: String,
    /// The email address the account is known by.
    pub email: String,
}

/// A client of one server.
#[derive(Debug, Clone)]
pub struct Api {
    http: reqwest::Client,
    server: String,
}

impl Api {
    /// A client of the server at `server` (a base URL such as `http://127.0.0.1:8000`).
    pub fn new(server: &str) -> Self {
        let http = reqwest::Client::builder()
            .timeout(REQUEST_TIMEOUT)
            .connect_timeout(CONNECT_TIMEOUT)
            .user_agent(concat!("vibariant-cli/", env!("CARGO_PKG_VERSION")))
            .build()
            // Building fails only when the TLS backend cannot start; without one there is
            // nothing that can fail, and with one a broken system is not recoverable here.
            .expect("an HTTP client");
        Api { http, server: server.trim_end_matches('/').to_owned() }
    }

    /// The server's base URL, without a trailing slash.
    pub fn server(&self) -> &str {
        &self.server
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.server)
    }

    async fn send(&self, request: reqwest::RequestBuilder) -> Result<reqwest::Response, ApiError> {
        request.send().await.map_err(|error| ApiError::Unreachable {
            server: self.server.clone(),
            reason: innermost(&error),
        })
    }

    async fn body<T: DeserializeOwned>(
        &self,
        what: &'static str,
        response: reqwest::Response,
    ) -> Result<T, ApiError> {
        let status = response.status();
        let bytes = response.bytes().await.map_err(|error| ApiError::Unreachable {
            server: self.server.clone(),
            reason: innermost(&error),
        })?;
        if status.is_success() {
            return serde_json::from_slice(&bytes).map_err(|error| ApiError::Unexpected {
                what,
                server: self.server.clone(),
                detail: error.to_string(),
            });
        }
        Err(error_for(what, status, &bytes))
    }

    /// Asks for a device code (`POST /v1/auth/device/code`).
    pub async fn device_code(&self) -> Result<DeviceCode, ApiError> {
        let request = self
            .http
            .post(self.url("/v1/auth/device/code"))
            .json(&json!({ "client_id": CLIENT_ID }));
        let response = self.send(request).await?;
        self.body("the sign-in request", response).await
    }

    /// Polls once for the tokens of `device_code` (`POST /v1/auth/device/token`).
    pub async fn poll_device_token(&self, device_code: &str) -> Result<Poll, ApiError> {
        let request = self.http.post(self.url("/v1/auth/device/token")).json(&json!({
            "grant_type": DEVICE_GRANT_TYPE,
            "device_code": device_code,
            "client_id": CLIENT_ID,
        }));
        let response = self.send(request).await?;
        let status = response.status();
        if status == StatusCode::BAD_REQUEST {
            let bytes = response.bytes().await.map_err(|error| ApiError::Unreachable {
                server: self.server.clone(),
                reason: innermost(&error),
            })?;
            let code = serde_json::from_slice::<Value>(&bytes)
                .ok()
                .and_then(|body| body.get("error")?.as_str().map(str::to_owned));
            tracing::debug!(error = code.as_deref(), "device token poll answered");
            return Ok(match code.as_deref() {
                Some("authorization_pending") => Poll::Pending,
                Some("slow_down") => Poll::SlowDown,
                Some("access_denied") => Poll::Refused(Refusal::Denied),
                Some("expired_token") => Poll::Refused(Refusal::Expired),
                Some("invalid_grant") => Poll::Refused(Refusal::InvalidGrant),
                Some(other) => Poll::Refused(Refusal::Other(other.to_owned())),
                None => return Err(error_for("the sign-in poll", status, &bytes)),
            });
        }
        self.body("the sign-in poll", response).await.map(Poll::Granted)
    }

    /// The person behind `access_token` (`GET /v1/auth/me`).
    pub async fn me(&self, access_token: &str) -> Result<Me, ApiError> {
        let request = self.http.get(self.url("/v1/auth/me")).bearer_auth(access_token);
        let response = self.send(request).await?;
        self.body("the account request", response).await
    }

    /// Trades a refresh token for a new pair; the old refresh token stops working.
    pub async fn refresh(&self, refresh_token: &str) -> Result<Tokens, ApiError> {
        let request = self
            .http
            .post(self.url("/v1/auth/refresh"))
            .json(&json!({ "refresh_token": refresh_token }));
        let response = self.send(request).await?;
        self.body("the session renewal", response).await
    }

    /// Ends the session of `access_token` on the server (`POST /v1/auth/logout`).
    pub async fn logout(&self, access_token: &str) -> Result<(), ApiError> {
        let request = self.http.post(self.url("/v1/auth/logout")).bearer_auth(access_token);
        let response = self.send(request).await?;
        self.body::<Value>("the sign-out request", response).await.map(drop)
    }
}

/// The error of a non-success answer, with the server's message when it sent one
/// (`{"error": {"code", "message"}}` from the API, `{"error": "code"}` from OAuth routes).
fn error_for(what: &'static str, status: StatusCode, body: &[u8]) -> ApiError {
    let parsed = serde_json::from_slice::<Value>(body).ok();
    let message = parsed
        .as_ref()
        .and_then(|body| {
            let error = body.get("error")?;
            error.get("message").and_then(Value::as_str).or_else(|| error.as_str())
        })
        .map_or_else(
            || status.canonical_reason().unwrap_or("no message").to_owned(),
            str::to_owned,
        );
    match status {
        StatusCode::UNAUTHORIZED => ApiError::Unauthorized(message),
        StatusCode::TOO_MANY_REQUESTS => ApiError::RateLimited,
        _ => ApiError::Status { what, status: status.as_u16(), message },
    }
}

/// The deepest cause of a transport error: "Connection refused (os error 111)" says more to a
/// person than reqwest's outer "error sending request".
fn innermost(error: &(dyn std::error::Error + 'static)) -> String {
    let mut current = error;
    while let Some(next) = current.source() {
        current = next;
    }
    let text = current.to_string();
    if error.to_string().contains("timed out") || text.is_empty() {
        return "timed out".to_owned();
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn error_bodies_of_both_shapes_give_the_server_message() {
        let api = error_for(
            "x",
            StatusCode::FORBIDDEN,
            br#"{"error":{"code":"forbidden","message":"not yours"}}"#,
        );
        let ApiError::Status { status, message, .. } = api else { panic!("{api:?}") };
        assert_eq!((status, message.as_str()), (403, "not yours"));
        let oauth = error_for("x", StatusCode::UNAUTHORIZED, br#"{"error":"nope"}"#);
        assert!(matches!(oauth, ApiError::Unauthorized(ref message) if message == "nope"));
        let html = error_for("x", StatusCode::BAD_GATEWAY, b"<html>");
        assert!(matches!(html, ApiError::Status { ref message, .. } if message == "Bad Gateway"));
    }

    #[test]
    fn debug_output_hides_secrets() {
        let tokens = Tokens {
            access_token: "eyJsecret".into(),
            refresh_token: "vv_rt_secret".into(),
            expires_in: 900,
        };
        let shown = format!("{tokens:?}");
        assert!(!shown.contains("eyJsecret") && !shown.contains("vv_rt_secret"), "{shown}");
    }
}
