//! `vibariant`, the command-line client of a Vibariant server. This first slice signs in and
//! out: `login` runs the device flow (RFC 8628) against the backend, `whoami` shows the
//! account and renews an expired access token, `logout` ends the session.
//!
//! Layout: [`cli`] is the command line (clap), [`commands`] the commands and their output,
//! [`login`] the device-flow loop, [`api`] the backend's sign-in endpoints over HTTP, and
//! [`config`] the settings file `~/.vibariant/config.json`, written with mode 0600.

pub mod api;
pub mod cli;
pub mod commands;
pub mod config;
pub mod login;

pub use commands::{Context, Outcome};
