//! The `vibariant` binary: parses the command line, runs the command and prints its outcome
//! as text or JSON. Everything else lives in the library.

use std::io::Write as _;
use std::process::ExitCode;

use anyhow::Context as _;
use clap::Parser as _;
use vibariant_cli::cli::{Cli, Command};
use vibariant_cli::{Context, Outcome, commands};

fn main() -> ExitCode {
    let cli = Cli::parse();
    init_tracing();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build();
    let result = runtime
        .context("cannot start the async runtime")
        .and_then(|runtime| runtime.block_on(run(&cli)));
    match result {
        Ok(outcome) => {
            let mut stdout = std::io::stdout().lock();
            let text = if cli.json { outcome.json.to_string() } else { outcome.human };
            // A closed stdout (e.g. `| head -0`) is not worth a second error message.
            let _ = writeln!(stdout, "{text}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(cli: &Cli) -> anyhow::Result<Outcome> {
    let context = Context::from_env(cli.server.clone()).context("cannot find the settings")?;
    match cli.command {
        Command::Login => {
            commands::login(&context, &mut std::io::stderr()).await.context("cannot sign in")
        }
        Command::Whoami => commands::whoami(&context).await.context("cannot tell who you are"),
        Command::Logout => commands::logout(&context).await.context("cannot sign out"),
    }
}

/// Logs go to stderr, only when `VIBARIANT_LOG` asks (e.g. `VIBARIANT_LOG=debug`).
fn init_tracing() {
    use tracing_subscriber::EnvFilter;
    let Ok(filter) = std::env::var("VIBARIANT_LOG") else { return };
    let filter = EnvFilter::try_new(filter).unwrap_or_else(|_| EnvFilter::new("debug"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_ansi(false)
        .try_init();
}
