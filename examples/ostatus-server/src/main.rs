//! `ostatus-server`: the ostatus-rs reference server.
//!
//! The standalone WebSub hub:
//!
//! ```text
//! ostatus-server hub --listen 127.0.0.1:8080 --public-url https://hub.example/ \
//!     [--db sqlite:/var/lib/ostatus/hub.db | --db postgres://hub@db/hub | --db memory] [--insecure]
//! ```
//!
//! The hub answers at the path of `--public-url`, serves Prometheus metrics
//! at `/metrics`, delivers only the new or updated entries of Atom topics
//! (the diff of `ostatus-activitystreams`) and whole content for anything
//! else, and on SIGINT/SIGTERM stops taking work and finishes the deliveries
//! in flight; what is still queued is sent by the next start (or, on
//! PostgreSQL, by the other hub processes).
//!
//! The OStatus node (`ostatus-server node`) is not written yet (issue 9).

use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod hub;

#[derive(Parser)]
#[command(name = "ostatus-server", version, about = "The ostatus-rs reference server")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Run the standalone WebSub hub.
    Hub(Box<hub::HubArgs>),
    /// Run an OStatus node (not written yet).
    Node,
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env()
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info")),
        )
        .with_writer(std::io::stderr)
        .init();
    let args = match cli.command {
        Command::Hub(a) => *a,
        Command::Node => {
            eprintln!("ostatus-server: the OStatus node is not implemented yet (issue 9); `hub` works");
            return ExitCode::from(2);
        }
    };
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ostatus-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(hub::run_hub(args)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ostatus-server: {e}");
            ExitCode::FAILURE
        }
    }
}
