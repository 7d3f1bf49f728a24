//! `vibariant-server`: serves the API, or creates a project from the command line.

use clap::{Parser, Subcommand};
use vibariant_backend::{Config, Store, first_run};

/// Vibariant's API server. Configuration comes from the environment (see backend/README.md).
#[derive(Debug, Parser)]
#[command(name = "vibariant-server", version)]
struct Cli {
    /// What to do; `serve` when omitted.
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the API on VIBARIANT_ADDR (creates a "local" project on an empty database), or
    /// as a Lambda function when AWS_LAMBDA_RUNTIME_API is set.
    Serve,
    /// Create a project and print its public token and a secret API key, once.
    CreateProject {
        /// The project's display name.
        name: String,
    },
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    vibariant_backend::init_tracing();
    let cli = Cli::parse();
    let config = Config::from_env()?;
    match cli.command.unwrap_or(Command::Serve) {
        #[cfg(feature = "lambda")]
        Command::Serve if vibariant_backend::lambda::runtime_present() => {
            vibariant_backend::lambda::run(config).await
        }
        Command::Serve => vibariant_backend::serve(config).await,
        Command::CreateProject { name } => {
            let store = Store::connect(&config.database_url).await?;
            let created = first_run::create_project(&store, &name).await?;
            first_run::print_welcome(&created, &config);
            store.close().await;
            Ok(())
        }
    }
}
