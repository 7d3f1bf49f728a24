//! The CLI's local settings file, `~/.vibariant/config.json`: the server signed in to, the
//! session's tokens, and whatever other settings later commands keep there.
//!
//! The file holds a refresh token that is as good as a password for 30 days, so it is never
//! readable by anyone else, not even for an instant: it is written to a temporary file created
//! with mode 0600 in the same directory (mode 0700) and renamed over the old one, which also
//! means a crash mid-write leaves the previous file whole.

use std::fmt;
use std::fs;
use std::io::{self, Write as _};
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::api::Tokens;

/// The file's name inside the configuration directory.
pub const CONFIG_FILE: &str = "config.json";
/// The directory under `$HOME` when `VIBARIANT_CONFIG_DIR` is unset.
pub const CONFIG_DIR_NAME: &str = ".vibariant";

/// Why the settings could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// Neither `VIBARIANT_CONFIG_DIR` nor `HOME` is set.
    #[error("cannot tell where to keep settings: set HOME (or VIBARIANT_CONFIG_DIR)")]
    NoHome,
    /// The file exists but cannot be read.
    #[error("cannot read {path}: {cause}")]
    Read {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        cause: io::Error,
    },
    /// The file is not the JSON object this CLI writes.
    #[error("{path} is not a valid settings file ({cause}); fix it or delete it and sign in again")]
    Parse {
        /// The file.
        path: PathBuf,
        /// What the JSON parser said.
        cause: serde_json::Error,
    },
    /// The directory or the file cannot be written.
    #[error("cannot write {path}: {cause}")]
    Write {
        /// The file or directory.
        path: PathBuf,
        /// The I/O error.
        cause: io::Error,
    },
}

/// The directory holding the settings: `VIBARIANT_CONFIG_DIR`, else `$HOME/.vibariant`.
/// `lookup` reads an environment variable (tests pass their own).
pub fn config_dir(lookup: impl Fn(&str) -> Option<String>) -> Result<PathBuf, ConfigError> {
    let set = |name: &str| lookup(name).filter(|value| !value.is_empty());
    if let Some(dir) = set("VIBARIANT_CONFIG_DIR") {
        return Ok(PathBuf::from(dir));
    }
    set("HOME").map(|home| Path::new(&home).join(CONFIG_DIR_NAME)).ok_or(ConfigError::NoHome)
}

/// The contents of `config.json`. Unknown keys are kept as they are, so signing in or out
/// never drops a setting another command (or a newer version) wrote.
#[derive(Default, Clone, PartialEq, Serialize, Deserialize)]
pub struct Settings {
    /// The server the tokens belong to.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub server: Option<String>,
    /// The current access token (a JWT, valid 15 minutes).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub access_token: Option<String>,
    /// The current refresh token (rotates on every use).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
    /// When the access token expires, in seconds since the Unix epoch.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<u64>,
    /// The signed-in account's email.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<String>,
    /// Every other key, kept untouched.
    #[serde(flatten)]
    pub other: Map<String, Value>,
}

impl fmt::Debug for Settings {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let hidden = |token: &Option<String>| token.as_ref().map(|_| "<secret>");
        f.debug_struct("Settings")
            .field("server", &self.server)
            .field("access_token", &hidden(&self.access_token))
            .field("refresh_token", &hidden(&self.refresh_token))
            .field("expires_at", &self.expires_at)
            .field("email", &self.email)
            .field("other_keys", &self.other.keys().collect::<Vec<_>>())
            .finish()
    }
}

impl Settings {
    /// True when tokens are stored.
    pub fn signed_in(&self) -> bool {
        self.access_token.is_some() && self.refresh_token.is_some()
    }

    /// Stores a fresh token pair received at `now_secs`.
    pub fn store_tokens(&mut self, tokens: &Tokens, now_secs: u64) {
        self.access_token = Some(tokens.access_token.clone());
        self.refresh_token = Some(tokens.refresh_token.clone());
        self.expires_at = Some(now_secs.saturating_add(tokens.expires_in));
    }

    /// Forgets the session (tokens, expiry, email); the server and other settings stay.
    pub fn forget_session(&mut self) {
        self.access_token = None;
        self.refresh_token = None;
        self.expires_at = None;
        self.email = None;
    }
}

/// Reads the settings in `dir`; a missing file is empty settings.
pub fn load(dir: &Path) -> Result<Settings, ConfigError> {
    let path = dir.join(CONFIG_FILE);
    let text = match fs::read(&path) {
        Ok(text) => text,
        Err(error) if error.kind() == io::ErrorKind::NotFound => return Ok(Settings::default()),
        Err(cause) => return Err(ConfigError::Read { path, cause }),
    };
    serde_json::from_slice(&text).map_err(|cause| ConfigError::Parse { path, cause })
}

/// Writes `settings` to `dir` atomically, the directory 0700 and the file 0600 on unix.
pub fn save(dir: &Path, settings: &Settings) -> Result<PathBuf, ConfigError> {
    let write_error = |path: &Path| {
        let path = path.to_owned();
        move |cause| ConfigError::Write { path, cause }
    };
    create_private_dir(dir).map_err(write_error(dir))?;
    let path = dir.join(CONFIG_FILE);
    let temporary = dir.join(format!(".{CONFIG_FILE}.{}.tmp", std::process::id()));
    let mut text = serde_json::to_vec_pretty(settings).expect("settings serialise as JSON");
    text.push(b'\n');
    let written = write_private(&temporary, &text).and_then(|()| fs::rename(&temporary, &path));
    if let Err(cause) = written {
        let _ = fs::remove_file(&temporary);
        return Err(ConfigError::Write { path, cause });
    }
    tracing::debug!(path = %path.display(), "settings saved");
    Ok(path)
}

fn create_private_dir(dir: &Path) -> io::Result<()> {
    let mut builder = fs::DirBuilder::new();
    builder.recursive(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::{DirBuilderExt as _, PermissionsExt as _};
        builder.mode(0o700);
        builder.create(dir)?;
        // The mode above applies only when the directory is new; an older, looser one is
        // tightened because it is ours and holds the tokens.
        fs::set_permissions(dir, fs::Permissions::from_mode(0o700))
    }
    // FIXME: on other systems the directory and file keep the default ACLs; restricting them
    // needs the Windows security API (an owner-only DACL), which nothing here links yet.
    #[cfg(not(unix))]
    builder.create(dir)
}

/// Creates `path` (replacing a stale one) readable by its owner only, then writes `bytes`.
fn write_private(path: &Path, bytes: &[u8]) -> io::Result<()> {
    match fs::remove_file(path) {
        Ok(()) => {}
        Err(error) if error.kind() == io::ErrorKind::NotFound => {}
        Err(error) => return Err(error),
    }
    let mut options = fs::OpenOptions::new();
    // `create_new` refuses to follow a symlink planted at the temporary name.
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options.open(path)?;
    #[cfg(unix)]
    {
        // The umask can only remove bits from 0600, but be exact rather than trust it.
        use std::os::unix::fs::PermissionsExt as _;
        file.set_permissions(fs::Permissions::from_mode(0o600))?;
    }
    file.write_all(bytes)?;
    file.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn scratch(name: &str) -> PathBuf {
        let dir = std::env::temp_dir()
            .join(format!("vibariant-cli-config-{name}-{}", std::process::id()));
        let _ = fs::remove_dir_all(&dir);
        dir
    }

    #[test]
    fn the_directory_comes_from_the_override_else_home() {
        let both = |name: &str| match name {
            "VIBARIANT_CONFIG_DIR" => Some("/elsewhere".to_owned()),
            "HOME" => Some("/home/ada".to_owned()),
            _ => None,
        };
        assert_eq!(config_dir(both).unwrap(), PathBuf::from("/elsewhere"));
        let home = |name: &str| (name == "HOME").then(|| "/home/ada".to_owned());
        assert_eq!(config_dir(home).unwrap(), PathBuf::from("/home/ada/.vibariant"));
        assert!(matches!(config_dir(|_| None), Err(ConfigError::NoHome)));
    }

    #[test]
    fn unknown_keys_survive_a_sign_out_and_a_save() {
        let dir = scratch("keys");
        fs::create_dir_all(&dir).unwrap();
        let original = r#"{"server":"http://x","access_token":"a","refresh_token":"r",
            "expires_at":5,"email":"e@x","editor":{"name":"vim"}}"#;
        fs::write(dir.join(CONFIG_FILE), original).unwrap();
        let mut settings = load(&dir).unwrap();
        assert!(settings.signed_in());
        settings.forget_session();
        save(&dir, &settings).unwrap();
        let stored: Value =
            serde_json::from_slice(&fs::read(dir.join(CONFIG_FILE)).unwrap()).unwrap();
        assert_eq!(
            stored,
            serde_json::json!({ "server": "http://x", "editor": { "name": "vim" } })
        );
        fs::remove_dir_all(&dir).unwrap();
    }

    #[cfg(unix)]
    #[test]
    fn saving_makes_the_file_0600_and_the_directory_0700_even_if_they_were_looser() {
        use std::os::unix::fs::PermissionsExt as _;
        let dir = scratch("modes");
        fs::create_dir_all(&dir).unwrap();
        fs::set_permissions(&dir, fs::Permissions::from_mode(0o755)).unwrap();
        fs::write(dir.join(CONFIG_FILE), "{}").unwrap();
        fs::set_permissions(dir.join(CONFIG_FILE), fs::Permissions::from_mode(0o644)).unwrap();
        save(&dir, &Settings { email: Some("e@x".into()), ..Settings::default() }).unwrap();
        let mode = |path: &Path| fs::metadata(path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode(&dir.join(CONFIG_FILE)), 0o600);
        assert_eq!(mode(&dir), 0o700);
        let leftovers: Vec<_> = fs::read_dir(&dir).unwrap().collect();
        assert_eq!(leftovers.len(), 1, "no temporary file is left behind");
        fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn a_broken_file_says_what_to_do() {
        let dir = scratch("broken");
        fs::create_dir_all(&dir).unwrap();
        fs::write(dir.join(CONFIG_FILE), "{not json").unwrap();
        let error = load(&dir).unwrap_err().to_string();
        assert!(error.contains("delete it and sign in again"), "{error}");
        fs::remove_dir_all(&dir).unwrap();
    }
}
