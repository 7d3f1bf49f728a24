//! The commands: `login`, `whoami` and `logout`. Each returns an [`Outcome`] that the binary
//! prints as text or as one JSON object.
//!
//! Which server: `--server`, else `VIBARIANT_URL`, else the one the stored tokens belong to,
//! else [`DEFAULT_SERVER`]. Tokens are only ever sent to the server that issued them.

use std::io::Write;
use std::path::PathBuf;
use std::time::{SystemTime, UNIX_EPOCH};

use serde_json::{Value, json};

use crate::api::{Api, ApiError, Me};
use crate::config::{self, ConfigError, Settings};
use crate::login::{self, LoginError};

/// The server when nothing names one: the backend's default address.
pub const DEFAULT_SERVER: &str = "http://127.0.0.1:8000";

/// What a command found, for a person and for a program.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    /// One or more lines of text.
    pub human: String,
    /// One JSON object.
    pub json: Value,
}

/// Where a command finds its settings and which server it was told to use.
#[derive(Debug, Clone)]
pub struct Context {
    /// The settings directory (`VIBARIANT_CONFIG_DIR` or `~/.vibariant`).
    pub config_dir: PathBuf,
    /// `--server`, if given.
    pub server_flag: Option<String>,
    /// `VIBARIANT_URL`, if set.
    pub server_env: Option<String>,
}

impl Context {
    /// A context from the process environment and the `--server` flag.
    pub fn from_env(server_flag: Option<String>) -> Result<Self, ConfigError> {
        let lookup = |name: &str| std::env::var(name).ok();
        let server_env = lookup("VIBARIANT_URL").filter(|url| !url.is_empty());
        Ok(Context { config_dir: config::config_dir(lookup)?, server_flag, server_env })
    }

    /// The server a command talks to, given what is stored.
    fn server(&self, settings: &Settings) -> Result<String, CommandError> {
        let chosen = self
            .server_flag
            .clone()
            .or_else(|| self.server_env.clone())
            .or_else(|| settings.server.clone())
            .unwrap_or_else(|| DEFAULT_SERVER.to_owned());
        normalize_server(&chosen)
    }

    /// The server of the stored session, refusing to send its tokens anywhere else.
    fn session_server(&self, settings: &Settings) -> Result<String, CommandError> {
        let asked = self.server(settings)?;
        match &settings.server {
            Some(stored) if settings.signed_in() && normalize_server(stored)? != asked => {
                Err(CommandError::OtherServer { signed_in: stored.clone(), asked })
            }
            _ => Ok(asked),
        }
    }
}

/// Why a command failed.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The settings file.
    #[error(transparent)]
    Config(#[from] ConfigError),
    /// The server.
    #[error(transparent)]
    Api(#[from] ApiError),
    /// The device flow.
    #[error(transparent)]
    Login(#[from] LoginError),
    /// No tokens are stored.
    #[error("not signed in to {server}; run `vibariant login` first")]
    NotSignedIn {
        /// The server asked about.
        server: String,
    },
    /// The tokens belong to another server than the one asked for.
    #[error(
        "signed in to {signed_in}, not {asked}; run `vibariant login --server {asked}` to \
         sign in there"
    )]
    OtherServer {
        /// The server the tokens belong to.
        signed_in: String,
        /// The server the flag or `VIBARIANT_URL` named.
        asked: String,
    },
    /// Neither the access nor the refresh token works any more.
    #[error(
        "the session on {server} has ended (signed out elsewhere, expired or revoked); run \
         `vibariant login` to sign in again"
    )]
    SessionEnded {
        /// The server.
        server: String,
    },
    /// The server URL cannot be used.
    #[error("{url:?} is not a server URL this build can use: {why}")]
    BadServer {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        why: &'static str,
    },
}

/// Checks a server URL and drops trailing slashes, so stored and typed URLs compare equal.
pub fn normalize_server(url: &str) -> Result<String, CommandError> {
    let trimmed = url.trim().trim_end_matches('/');
    let bad = |why| CommandError::BadServer { url: url.to_owned(), why };
    let rest = if let Some(rest) = trimmed.strip_prefix("http://") {
        rest
    } else if let Some(rest) = trimmed.strip_prefix("https://") {
        if !cfg!(feature = "tls") {
            return Err(bad("https servers need the CLI built with the `tls` feature \
                            (cargo install --features tls); this build speaks plain HTTP only"));
        }
        rest
    } else {
        return Err(bad("it must start with http:// or https://"));
    };
    if rest.is_empty() {
        return Err(bad("it names no host"));
    }
    Ok(trimmed.to_owned())
}

fn now_secs() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

/// `vibariant login`: the device flow, then the tokens saved for the server.
pub async fn login(context: &Context, prompt: &mut dyn Write) -> Result<Outcome, CommandError> {
    let mut settings = config::load(&context.config_dir)?;
    let server = context.server(&settings)?;
    let api = Api::new(&server);
    tracing::debug!(server, "signing in");
    let tokens = login::device_flow(&api, prompt).await?;
    let received_at = now_secs();
    let me = api.me(&tokens.access_token).await?;

    settings.forget_session();
    settings.server = Some(server.clone());
    settings.store_tokens(&tokens, received_at);
    settings.email = Some(me.user.email.clone());
    let path = config::save(&context.config_dir, &settings)?;
    Ok(Outcome {
        human: format!("Signed in to {server} as {}.", me.user.email),
        json: json!({
            "server": server,
            "email": me.user.email,
            "user_id": me.user.id,
            "expires_at": settings.expires_at,
            "config_path": path.display().to_string(),
        }),
    })
}

/// `vibariant whoami`: the signed-in account, renewing the access token once if it expired.
pub async fn whoami(context: &Context) -> Result<Outcome, CommandError> {
    let mut settings = config::load(&context.config_dir)?;
    let server = context.session_server(&settings)?;
    let api = Api::new(&server);
    let me = me_with_refresh(context, &api, &mut settings).await?;
    if settings.email.as_deref() != Some(me.user.email.as_str()) {
        settings.email = Some(me.user.email.clone());
        config::save(&context.config_dir, &settings)?;
    }
    let projects: Vec<String> = me
        .projects
        .iter()
        .map(|project| {
            let name = project["name"].as_str().unwrap_or("(unnamed)");
            match project["role"].as_str() {
                Some(role) => format!("{name} ({role})"),
                None => name.to_owned(),
            }
        })
        .collect();
    let project_line = if projects.is_empty() {
        "No projects yet.".to_owned()
    } else {
        format!("Projects: {}.", projects.join(", "))
    };
    Ok(Outcome {
        human: format!("Signed in to {server} as {}.\n{project_line}", me.user.email),
        json: json!({
            "server": server,
            "email": me.user.email,
            "user_id": me.user.id,
            "session_id": me.session_id,
            "projects": me.projects,
        }),
    })
}

/// `GET /v1/auth/me`; on 401, one refresh (saving the rotated pair at once, since the old
/// refresh token is dead from then on) and one retry.
async fn me_with_refresh(
    context: &Context,
    api: &Api,
    settings: &mut Settings,
) -> Result<Me, CommandError> {
    let (Some(access), Some(refresh)) =
        (settings.access_token.clone(), settings.refresh_token.clone())
    else {
        return Err(CommandError::NotSignedIn { server: api.server().to_owned() });
    };
    match api.me(&access).await {
        Err(ApiError::Unauthorized(reason)) => {
            tracing::debug!(reason, "access token refused; renewing the session");
        }
        other => return Ok(other?),
    }
    let ended = || CommandError::SessionEnded { server: api.server().to_owned() };
    let tokens = match api.refresh(&refresh).await {
        Err(ApiError::Unauthorized(_)) => return Err(ended()),
        other => other?,
    };
    settings.store_tokens(&tokens, now_secs());
    config::save(&context.config_dir, settings)?;
    match api.me(&tokens.access_token).await {
        Err(ApiError::Unauthorized(_)) => Err(ended()),
        other => Ok(other?),
    }
}

/// `vibariant logout`: ends the session on the server when it can be reached, and forgets
/// the tokens here in every case.
pub async fn logout(context: &Context) -> Result<Outcome, CommandError> {
    let mut settings = config::load(&context.config_dir)?;
    let server = context.session_server(&settings)?;
    if !settings.signed_in() {
        return Ok(Outcome {
            human: format!("Not signed in to {server}; nothing to do."),
            json: json!({ "server": server, "signed_out": true, "was_signed_in": false,
                          "server_reached": false }),
        });
    }
    let api = Api::new(&server);
    let ended = end_session(&api, &mut settings).await;
    settings.forget_session();
    let path = config::save(&context.config_dir, &settings)?;
    let (human, reached) = match ended {
        Ok(()) => (format!("Signed out of {server}."), true),
        Err(error @ ApiError::Unreachable { .. }) => (
            format!(
                "Removed the tokens from {path}, but the server did not answer ({error}). The \
                 session stays valid on the server until it expires (at most 30 days).",
                path = path.display()
            ),
            false,
        ),
        Err(error) => (
            format!(
                "Removed the tokens from {path}; the server did not end the session ({error}).",
                path = path.display()
            ),
            true,
        ),
    };
    Ok(Outcome {
        human,
        json: json!({ "server": server, "signed_out": true, "was_signed_in": true,
                      "server_reached": reached }),
    })
}

/// Ends the session on the server. An expired access token is renewed first, or the logout
/// would be refused and the session would live on.
async fn end_session(api: &Api, settings: &mut Settings) -> Result<(), ApiError> {
    let (Some(access), Some(refresh)) =
        (settings.access_token.clone(), settings.refresh_token.clone())
    else {
        return Ok(());
    };
    match api.logout(&access).await {
        Err(ApiError::Unauthorized(_)) => {}
        other => return other,
    }
    match api.refresh(&refresh).await {
        Ok(tokens) => api.logout(&tokens.access_token).await,
        // The refresh token is refused too: the session has already ended.
        Err(ApiError::Unauthorized(_)) => Ok(()),
        Err(error) => Err(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn server_urls_are_checked_and_lose_trailing_slashes() {
        assert_eq!(normalize_server("http://127.0.0.1:8000/").unwrap(), "http://127.0.0.1:8000");
        assert!(normalize_server("127.0.0.1:8000").is_err());
        assert!(normalize_server("http://").is_err());
        assert_eq!(normalize_server("https://vv.example").is_ok(), cfg!(feature = "tls"));
    }

    #[test]
    fn the_flag_beats_the_environment_beats_the_stored_server() {
        let stored = Settings { server: Some("http://stored:1".into()), ..Settings::default() };
        let mut context = Context {
            config_dir: PathBuf::from("unused"),
            server_flag: Some("http://flag:1".into()),
            server_env: Some("http://env:1".into()),
        };
        assert_eq!(context.server(&stored).unwrap(), "http://flag:1");
        context.server_flag = None;
        assert_eq!(context.server(&stored).unwrap(), "http://env:1");
        context.server_env = None;
        assert_eq!(context.server(&stored).unwrap(), "http://stored:1");
        assert_eq!(context.server(&Settings::default()).unwrap(), DEFAULT_SERVER);
    }

    #[test]
    fn tokens_are_not_sent_to_another_server() {
        let stored = Settings {
            server: Some("http://stored:1/".into()),
            access_token: Some("a".into()),
            refresh_token: Some("r".into()),
            ..Settings::default()
        };
        let context = Context {
            config_dir: PathBuf::from("unused"),
            server_flag: Some("http://other:1".into()),
            server_env: None,
        };
        let error = context.session_server(&stored).unwrap_err().to_string();
        assert!(error.contains("vibariant login --server http://other:1"), "{error}");
    }
}
