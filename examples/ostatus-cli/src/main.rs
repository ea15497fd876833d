//! `ostatus`: the ostatus-rs command-line tool.
//!
//! One subcommand per protocol. Conventions every subcommand follows:
//! structured results on stdout as JSON (`--format text` for people), errors
//! on stderr, exit code 0 on success, 1 when something was checked and found
//! invalid or could not be resolved, 2 for usage errors and malformed input.
//! `--insecure` is the one flag that allows plain http and loopback/private
//! addresses, for local testing.

mod atom;
mod check;
mod poco;
mod salmon;
mod webfinger;
mod websub;

use std::io::Read;
use std::process::ExitCode;

use clap::{Parser, Subcommand, ValueEnum};

/// Largest input file read (16 MiB).
const MAX_INPUT: u64 = 16 * 1024 * 1024;

#[derive(Parser)]
#[command(name = "ostatus", version, about = "OStatus protocol tools: WebFinger, host-meta, XRD/JRD, Salmon, Portable Contacts, Activity Streams, WebSub", long_about = None)]
struct Cli {
    /// Allow plain http and loopback/private addresses (local testing only).
    #[arg(long, global = true)]
    insecure: bool,
    #[command(subcommand)]
    command: Command,
}

/// How results are printed.
#[derive(Clone, Copy, ValueEnum, PartialEq, Eq)]
enum OutputFormat {
    /// JSON, for programs.
    Json,
    /// Plain text, for people.
    Text,
}

#[derive(Subcommand)]
enum Command {
    /// Resolve a WebFinger resource, or convert between XRD and JRD.
    Webfinger(webfinger::Args),
    /// Magic envelopes: generate keys, sign and verify.
    Salmon(salmon::Args),
    /// Portable Contacts documents.
    Poco(poco::Args),
    /// Atom feeds and entries with Activity Streams.
    Atom(atom::Args),
    /// WebSub: discover, subscribe, publish.
    Websub(websub::Args),
    /// Check a server's conformance: WebFinger, host-meta, feed, Salmon, PoCo.
    Check(check::Args),
}

/// A failure, with the exit code it maps to.
#[derive(Debug, thiserror::Error)]
enum CliError {
    /// Usage error or malformed input: exit 2.
    #[error("{0}")]
    Usage(String),
    /// Checked and found invalid, or could not be resolved: exit 1.
    #[error("{0}")]
    Failed(String),
    /// Checked and found invalid, with a structured result for stdout: exit 1.
    #[error("{message}")]
    Invalid {
        /// The result printed on stdout.
        stdout: String,
        /// The message printed on stderr.
        message: String,
    },
}

impl CliError {
    fn code(&self) -> u8 {
        match self {
            CliError::Usage(_) => 2,
            CliError::Failed(_) | CliError::Invalid { .. } => 1,
        }
    }
}

/// Reads a file, or standard input for `-` or no path, with a size cap.
fn read_input(path: Option<&str>) -> Result<Vec<u8>, CliError> {
    let mut buf = Vec::new();
    let result = match path {
        None | Some("-") => std::io::stdin().take(MAX_INPUT + 1).read_to_end(&mut buf),
        Some(p) => std::fs::File::open(p)
            .map_err(|e| CliError::Usage(format!("{p}: {e}")))?
            .take(MAX_INPUT + 1)
            .read_to_end(&mut buf),
    };
    result.map_err(|e| CliError::Usage(format!("cannot read input: {e}")))?;
    if buf.len() as u64 > MAX_INPUT {
        return Err(CliError::Usage(format!("input larger than {MAX_INPUT} bytes")));
    }
    Ok(buf)
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("ostatus: cannot start the runtime: {e}");
            return ExitCode::from(1);
        }
    };
    let result = runtime.block_on(async {
        match &cli.command {
            Command::Webfinger(args) => webfinger::run(args, cli.insecure).await,
            Command::Salmon(args) => salmon::run(args, cli.insecure).await,
            Command::Poco(args) => poco::run(args),
            Command::Atom(args) => atom::run(args),
            Command::Websub(args) => websub::run(args, cli.insecure).await,
            Command::Check(args) => check::run(args, cli.insecure).await,
        }
    });
    match result {
        Ok(out) => {
            if !out.is_empty() {
                print_out(&out);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            if let CliError::Invalid { stdout, .. } = &e {
                print_out(stdout);
            }
            eprintln!("ostatus: {e}");
            ExitCode::from(e.code())
        }
    }
}

/// Prints a result line on stdout. A reader that went away (`| head -1`
/// closing the pipe) is no error of ours: the rest is dropped quietly
/// (`println!` would panic with "failed printing to stdout").
fn print_out(out: &str) {
    use std::io::Write as _;
    let mut stdout = std::io::stdout().lock();
    let _ = writeln!(stdout, "{out}").and_then(|()| stdout.flush());
}
