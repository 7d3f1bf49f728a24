//! What sign-in needs at run time: its settings (from the environment), the signing secret,
//! the mailer, the HTTP client for GitHub and the rate limiter; and [`AuthError`], the error
//! type of the sign-in handlers (an API error, a rate limit, or an RFC 8628 device error).

use std::time::Duration;

use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::mail::Mailer;
use super::rate_limit::RateLimiter;
use crate::error::ApiError;

/// How long a magic link works.
pub const MAGIC_LINK_TTL: Duration = Duration::from_secs(15 * 60);
/// How long an access token (JWT) works.
pub const ACCESS_TTL: Duration = Duration::from_secs(15 * 60);
/// How long a session lasts without being refreshed... and at most, since refreshing does not
/// extend it: a person signs in again after this.
pub const SESSION_TTL: Duration = Duration::from_secs(30 * 24 * 3600);

/// The GitHub endpoints, configurable so tests can point them at a local stand-in.
#[derive(Clone)]
pub struct GithubSettings {
    /// `VIBARIANT_GITHUB_CLIENT_ID`.
    pub client_id: String,
    /// `VIBARIANT_GITHUB_CLIENT_SECRET`.
    pub client_secret: String,
    /// `VIBARIANT_GITHUB_AUTHORIZE_URL`.
    pub authorize_url: String,
    /// `VIBARIANT_GITHUB_TOKEN_URL`.
    pub token_url: String,
    /// `VIBARIANT_GITHUB_API_URL`: where `/user` and `/user/emails` live.
    pub api_url: String,
}

impl std::fmt::Debug for GithubSettings {
    // The client secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GithubSettings")
            .field("client_id", &self.client_id)
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("api_url", &self.api_url)
            .finish_non_exhaustive()
    }
}

/// The sign-in part of the server configuration.
#[derive(Clone, Default)]
pub struct SignInSettings {
    /// `VIBARIANT_SMTP_URL`: `smtp://[user:password@]host[:port]` (plain SMTP).
    pub smtp_url: Option<String>,
    /// `VIBARIANT_MAIL_FROM`: the sender of sign-in mail.
    pub mail_from: String,
    /// GitHub OAuth, when a client id and secret are configured.
    pub github: Option<GithubSettings>,
}

impl std::fmt::Debug for SignInSettings {
    // Neither the SMTP password nor the GitHub client secret reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignInSettings")
            .field("smtp_url", &self.smtp_url.as_deref().map(crate::settings::redact_url))
            .field("mail_from", &self.mail_from)
            .field("github", &self.github.as_ref().map(|github| &github.client_id))
            .finish()
    }
}

impl SignInSettings {
    /// Reads the settings through `lookup`, which returns only non-empty values.
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Self {
        let github = match (
            lookup("VIBARIANT_GITHUB_CLIENT_ID"),
            lookup("VIBARIANT_GITHUB_CLIENT_SECRET"),
        ) {
            (Some(client_id), Some(client_secret)) => Some(GithubSettings {
                client_id,
                client_secret,
                authorize_url: lookup("VIBARIANT_GITHUB_AUTHORIZE_URL")
                    .unwrap_or_else(|| "https://github.com/login/oauth/authorize".into()),
                token_url: lookup("VIBARIANT_GITHUB_TOKEN_URL")
                    .unwrap_or_else(|| "https://github.com/login/oauth/access_token".into()),
                api_url: lookup("VIBARIANT_GITHUB_API_URL")
                    .unwrap_or_else(|| "https://api.github.com".into())
                    .trim_end_matches('/')
                    .to_owned(),
            }),
            _ => None,
        };
        SignInSettings {
            smtp_url: lookup("VIBARIANT_SMTP_URL"),
            mail_from: lookup("VIBARIANT_MAIL_FROM")
                .unwrap_or_else(|| "Vibariant <sign-in@vibariant.localhost>".into()),
            github,
        }
    }
}

/// The sign-in machinery the application state holds.
pub struct SignIn {
    /// The HS256 key: `VIBARIANT_SECRET_KEY`, or random per process in dev mode.
    secret: Vec<u8>,
    /// Where sign-in mail goes.
    pub mailer: Mailer,
    /// The client for GitHub's token and user API.
    pub http: reqwest::Client,
    /// The per-process token buckets.
    pub limits: RateLimiter,
}

impl std::fmt::Debug for SignIn {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SignIn").field("mailer", &self.mailer).finish_non_exhaustive()
    }
}

impl SignIn {
    /// Builds the machinery from the configuration.
    pub fn new(config: &crate::settings::Config) -> Self {
        let secret = match &config.secret_key {
            Some(key) => key.as_bytes().to_vec(),
            // Dev mode: sessions are signed with a key that dies with the process, so nothing
            // signed here can be replayed against a server that has a real key.
            None => {
                let mut key = vec![0u8; 32];
                getrandom::fill(&mut key).expect("the operating system's random source");
                key
            }
        };
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(10))
            .user_agent(concat!("vibariant/", env!("CARGO_PKG_VERSION")))
            .build()
            .unwrap_or_default();
        SignIn {
            secret,
            mailer: Mailer::new(&config.sign_in, config.dev_mode()),
            http,
            limits: RateLimiter::default(),
        }
    }

    /// The HS256 signing key.
    pub fn secret(&self) -> &[u8] {
        &self.secret
    }
}

/// Why a sign-in request failed.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// An ordinary API error (status and JSON body as everywhere else).
    #[error(transparent)]
    Api(#[from] ApiError),
    /// Too many attempts from this address or for this email; retry after the duration.
    #[error("too many attempts; retry in {} s", .0.as_secs().max(1))]
    RateLimited(Duration),
    /// An RFC 8628 token-endpoint error, sent as `{"error": code}` with status 400.
    #[error("{0}")]
    Device(&'static str),
}

impl From<sqlx::Error> for AuthError {
    fn from(error: sqlx::Error) -> Self {
        AuthError::Api(error.into())
    }
}

impl IntoResponse for AuthError {
    fn into_response(self) -> Response {
        match self {
            AuthError::Api(error) => error.into_response(),
            AuthError::RateLimited(wait) => {
                let seconds = wait.as_secs().max(1);
                let body = serde_json::json!({ "error": {
                    "code": "rate_limited",
                    "message": format!("too many attempts; retry in {seconds} s"),
                } });
                let mut response =
                    (StatusCode::TOO_MANY_REQUESTS, axum::Json(body)).into_response();
                response.headers_mut().insert(header::RETRY_AFTER, HeaderValue::from(seconds));
                response
            }
            AuthError::Device(code) => {
                let body = serde_json::json!({ "error": code });
                let mut response = (StatusCode::BAD_REQUEST, axum::Json(body)).into_response();
                response
                    .headers_mut()
                    .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
                response
            }
        }
    }
}

/// The result type of sign-in handlers.
pub type AuthResult<T> = Result<T, AuthError>;

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::Config;

    #[test]
    fn a_short_secret_key_is_refused_at_start_up() {
        let short = Config::from_lookup(|name| {
            (name == "VIBARIANT_SECRET_KEY").then(|| "too short".to_owned())
        });
        assert!(short.unwrap_err().to_string().contains("at least 32 bytes"));
    }

    #[test]
    fn github_is_on_only_with_id_and_secret_and_defaults_to_github_com() {
        let off = SignInSettings::from_lookup(|name| {
            (name == "VIBARIANT_GITHUB_CLIENT_ID").then(|| "id".to_owned())
        });
        assert!(off.github.is_none());
        let on = SignInSettings::from_lookup(|name| match name {
            "VIBARIANT_GITHUB_CLIENT_ID" => Some("id".into()),
            "VIBARIANT_GITHUB_CLIENT_SECRET" => Some("secret".into()),
            _ => None,
        });
        let github = on.github.clone().expect("configured");
        assert_eq!(github.token_url, "https://github.com/login/oauth/access_token");
        assert_eq!(github.api_url, "https://api.github.com");
        assert!(!format!("{on:?}").contains("secret\""), "the client secret is never printed");
    }
}
