//! The command line, as clap reads it.

use clap::{Parser, Subcommand};

/// Sign in to a Vibariant server from the terminal.
#[derive(Debug, Parser)]
#[command(name = "vibariant", version, about)]
pub struct Cli {
    /// Print one JSON object on stdout instead of text (errors still go to stderr).
    #[arg(long, global = true)]
    pub json: bool,

    /// The server's URL; else VIBARIANT_URL, else the one signed in to, else
    /// http://127.0.0.1:8000.
    #[arg(long, global = true, value_name = "URL")]
    pub server: Option<String>,

    /// What to do.
    #[command(subcommand)]
    pub command: Command,
}

/// The commands.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Sign in with a code approved in the browser, and keep the session in
    /// ~/.vibariant/config.json.
    Login,
    /// Show the signed-in account and its projects.
    Whoami,
    /// End the session on the server and forget its tokens here.
    Logout,
}
