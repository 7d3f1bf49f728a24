//! Server configuration from environment variables (documented in `backend/README.md`).

use std::net::SocketAddr;

use anyhow::Context as _;

/// The default listen address: loopback only, so a first run exposes nothing.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8000";
/// The default database: a SQLite file in the working directory, created when missing.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://vibariant.sqlite3?mode=rwc";

/// Everything the server reads from its environment.
#[derive(Clone)]
pub struct Config {
    /// `VIBARIANT_ADDR`: where to listen.
    pub addr: SocketAddr,
    /// `DATABASE_URL`: `sqlite:…` or `postgres:…`.
    pub database_url: String,
    /// `VIBARIANT_SECRET_KEY`: signs sessions (used by sign-in); unset means dev mode.
    pub secret_key: Option<String>,
    /// `VIBARIANT_PUBLIC_URL`: the URL clients reach the server at, used in printed snippets.
    pub public_url: Option<String>,
    /// Mail and GitHub settings of sign-in (`VIBARIANT_SMTP_URL`, `VIBARIANT_GITHUB_*`, ...).
    pub sign_in: crate::auth::sign_in::SignInSettings,
}

impl std::fmt::Debug for Config {
    // The secret key never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Config")
            .field("addr", &self.addr)
            .field("database", &redact_url(&self.database_url))
            .field("secret_key", &self.secret_key.as_ref().map(|_| "<set>"))
            .field("public_url", &self.public_url)
            .field("sign_in", &self.sign_in)
            .finish()
    }
}

impl Config {
    /// Reads the configuration from the process environment.
    pub fn from_env() -> anyhow::Result<Self> {
        Self::from_lookup(|name| std::env::var(name).ok())
    }

    /// Reads the configuration through `lookup` (tests pass a map).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> anyhow::Result<Self> {
        let non_empty = |name: &str| lookup(name).filter(|value| !value.trim().is_empty());
        let addr_text = non_empty("VIBARIANT_ADDR").unwrap_or_else(|| DEFAULT_ADDR.to_owned());
        let addr = addr_text
            .parse()
            .with_context(|| format!("VIBARIANT_ADDR {addr_text:?} is not an address:port"))?;
        // The key signs every session (HMAC-SHA256): a short one could be guessed offline.
        if non_empty("VIBARIANT_SECRET_KEY").is_some_and(|key| key.len() < 32) {
            anyhow::bail!("VIBARIANT_SECRET_KEY must be at least 32 bytes (e.g. 64 random hex)");
        }
        Ok(Config {
            addr,
            database_url: non_empty("DATABASE_URL")
                .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned()),
            secret_key: non_empty("VIBARIANT_SECRET_KEY"),
            public_url: non_empty("VIBARIANT_PUBLIC_URL"),
            sign_in: crate::auth::sign_in::SignInSettings::from_lookup(non_empty),
        })
    }

    /// True when no secret key is configured (development conveniences are on).
    pub fn dev_mode(&self) -> bool {
        self.secret_key.is_none()
    }

    /// The base URL clients use: the public URL, or the listen address.
    pub fn base_url(&self) -> String {
        match &self.public_url {
            Some(url) => url.trim_end_matches('/').to_owned(),
            None => format!("http://{}", self.addr),
        }
    }
}

/// A database URL without its password, for logs.
pub fn redact_url(url: &str) -> String {
    match (url.find("://"), url.find('@')) {
        (Some(scheme_end), Some(at)) if at > scheme_end => {
            let credentials = &url[scheme_end + 3..at];
            let user = credentials.split(':').next().unwrap_or_default();
            format!("{}{user}:***{}", &url[..scheme_end + 3], &url[at..])
        }
        _ => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_apply_when_the_environment_is_empty() {
        let config = Config::from_lookup(|_| None).unwrap();
        assert_eq!(config.addr.to_string(), DEFAULT_ADDR);
        assert_eq!(config.database_url, DEFAULT_DATABASE_URL);
        assert!(config.dev_mode());
        assert_eq!(config.base_url(), "http://127.0.0.1:8000");
    }

    #[test]
    fn a_bad_address_is_an_error_that_names_the_variable() {
        let error = Config::from_lookup(|name| (name == "VIBARIANT_ADDR").then(|| "nope".into()))
            .unwrap_err();
        assert!(error.to_string().contains("VIBARIANT_ADDR"));
    }

    #[test]
    fn passwords_are_redacted_from_database_urls() {
        assert_eq!(redact_url("postgres://u:secret@h:5432/db"), "postgres://u:***@h:5432/db");
        assert_eq!(redact_url("sqlite://x.db"), "sqlite://x.db");
    }
}
