//! `ostatus check`: the conformance suite against a live server.

use clap::{Args as ClapArgs, ValueEnum};
use ostatus_conformance::{Checker, Protocol, Target};

use crate::CliError;

/// `ostatus check`.
#[derive(ClapArgs)]
pub(crate) struct Args {
    /// `user@host`, `acct:user@host`, or a base URL.
    target: String,
    /// Only these protocols (comma-separated): webfinger, hostmeta, feed, salmon, hub, subscriber, poco.
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Report format.
    #[arg(long, value_enum, default_value_t = ReportFormat::Text)]
    format: ReportFormat,
    /// Where to serve the topics and callbacks of the hub checks (the hub
    /// must reach it over http); without it the hub checks are skipped.
    #[arg(long)]
    callback_listen: Option<std::net::SocketAddr>,
    /// The public URL (scheme, host and port; no path) at which peers reach
    /// --callback-listen, when it is not http://ADDR: a checker behind a
    /// reverse proxy or a tunnel.
    #[arg(long, value_name = "URL")]
    callback_base: Option<url::Url>,
    /// Seconds to wait for a hub's verification or delivery, or for a
    /// subscriber's subscription request.
    #[arg(long, default_value_t = 15)]
    hub_wait: u64,
    /// For the subscriber checks: a shell command that makes the subscriber
    /// under test subscribe to `{topic}` (it may keep running; it is killed
    /// when its test ends), e.g.
    /// `ostatus --insecure websub subscribe {topic} --listen 127.0.0.1:0`.
    #[arg(long, value_name = "CMD")]
    subscribe_command: Option<String>,
}

/// Report formats.
#[derive(Clone, Copy, ValueEnum)]
enum ReportFormat {
    /// Text, for people.
    Text,
    /// JSON.
    Json,
    /// A self-contained HTML page.
    Html,
}

pub(crate) async fn run(args: &Args, insecure: bool) -> Result<String, CliError> {
    let mut target = Target::parse(&args.target).map_err(|e| CliError::Usage(e.to_string()))?;
    if insecure && target.acct.is_some() {
        // Local servers usually speak plain http.
        target = target.with_scheme("http");
    }
    let only: Vec<Protocol> = if args.only.is_empty() {
        Protocol::ALL.to_vec()
    } else {
        args.only
            .iter()
            .map(|p| {
                Protocol::parse(p).ok_or_else(|| CliError::Usage(format!("check: unknown protocol {p:?}")))
            })
            .collect::<Result<_, _>>()?
    };
    let mut checker = Checker::new(insecure)
        .map_err(CliError::Failed)?
        .with_hub_wait(std::time::Duration::from_secs(args.hub_wait));
    if let Some(addr) = args.callback_listen {
        checker = checker.with_callback_listen(addr);
    }
    if let Some(base) = &args.callback_base {
        if base.path() != "/" {
            return Err(CliError::Usage(format!(
                "check: --callback-base {base} must not have a path"
            )));
        }
        checker = checker.with_callback_base(base.clone());
    }
    if let Some(cmd) = &args.subscribe_command {
        checker = checker.with_subscribe_hook(ostatus_conformance::subscribe_command(cmd.clone()));
    }
    let report = checker.run(&target, &only, |r| eprintln!("{}", r.line())).await;
    let out = match args.format {
        ReportFormat::Text => report.to_text(),
        ReportFormat::Json => report.to_json(),
        ReportFormat::Html => report.to_html(),
    };
    if report.must_failures() > 0 {
        return Err(CliError::Invalid {
            stdout: out,
            message: format!("check: {} MUST requirement(s) failed", report.must_failures()),
        });
    }
    Ok(out)
}
