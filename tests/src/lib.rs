//! Conformance checks for OStatus servers: point them at a live server
//! (`user@host`, an `acct:` URI or a base URL) and get a report of every
//! check — pass, fail or skip — each tied to the `SPEC-CHECKLIST` ID it
//! proves and its level (MUST or SHOULD), with what was sent and what came
//! back.
//!
//! ```text
//!  Target ─► WebFinger server checks ─► host-meta / LRDD ─► the account's Atom feed
//!                                                        ─► its Salmon endpoint
//!                                                        ─► its Portable Contacts endpoint
//!        ─► Report (text, JSON, self-contained HTML)
//! ```
//!
//! Each check's ID is the `SPEC-CHECKLIST` item it proves; when several
//! checks prove one item, the second and later carry `.2`, `.3`… (so every
//! check has its own ID).
//!
//! With [`Checker::with_callback_listen`] the checker also serves an
//! account of its own there (WebFinger, host-meta, a magic public key, a
//! feed), signs a mention of the target account and a reply to its latest
//! status, and expects both accepted: a server that refuses every slap
//! fails, as one that accepts forged slaps does.
//!
//! Covered: WebFinger, host-meta and LRDD, the Atom feed, the Salmon
//! endpoint, Portable Contacts, the WebSub hub (websub.rocks hub tests
//! 100–106, with the checker serving topics and callbacks on
//! [`Checker::with_callback_listen`]) and a WebSub subscriber (websub.rocks
//! subscriber tests 100–104, 200–205 and 300–302, with the checker serving
//! topics and a hub, and a [`SubscribeHook`] — such as
//! [`subscribe_command`] — making the subscriber subscribe).
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use ostatus_conformance::{Checker, Protocol, Target};
//!
//! let target = Target::parse("alice@example.com")?;
//! let checker = Checker::new(false)?;
//! let report = checker.run(&target, &Protocol::ALL, |r| eprintln!("{}", r.line())).await;
//! println!("{}", report.to_text());
//! std::process::exit(if report.must_failures() > 0 { 1 } else { 0 });
//! # }
//! ```

mod account;
mod checks;
mod feed;
mod hub;
mod report;
mod subscriber;

use std::time::Duration;

pub use checks::Checker;
pub use report::Report;
pub use subscriber::{HookGuard, SubscribeHook, subscribe_command};
use url::Url;

/// Requirement level of a check.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// MUST / MUST NOT / REQUIRED.
    Must,
    /// SHOULD / RECOMMENDED (and interop expectations).
    Should,
}

impl Level {
    /// `MUST` or `SHOULD`.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Must => "MUST",
            Level::Should => "SHOULD",
        }
    }
}

/// The protocol (and role) a check belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Protocol {
    /// WebFinger server.
    Webfinger,
    /// host-meta and LRDD.
    Hostmeta,
    /// The account's Atom feed.
    Feed,
    /// The account's Salmon endpoint.
    Salmon,
    /// The WebSub hub.
    Hub,
    /// A WebSub subscriber.
    Subscriber,
    /// Portable Contacts.
    Poco,
}

impl Protocol {
    /// Every protocol, in the order checks run.
    pub const ALL: [Protocol; 7] = [
        Protocol::Webfinger,
        Protocol::Hostmeta,
        Protocol::Feed,
        Protocol::Salmon,
        Protocol::Hub,
        Protocol::Subscriber,
        Protocol::Poco,
    ];

    /// The name used by `--only`.
    pub fn as_str(self) -> &'static str {
        match self {
            Protocol::Webfinger => "webfinger",
            Protocol::Hostmeta => "hostmeta",
            Protocol::Feed => "feed",
            Protocol::Salmon => "salmon",
            Protocol::Hub => "hub",
            Protocol::Subscriber => "subscriber",
            Protocol::Poco => "poco",
        }
    }

    /// Reads a `--only` name.
    pub fn parse(s: &str) -> Option<Self> {
        Protocol::ALL.into_iter().find(|p| p.as_str() == s.trim())
    }
}

/// What a check found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The requirement holds.
    Pass,
    /// It does not; why.
    Fail(String),
    /// Not checked; why.
    Skip(String),
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CheckResult {
    /// The check's ID: the checklist item it proves, with `.2`, `.3`… for
    /// the second and later checks of one item (see `docs/checklist.md`).
    pub id: &'static str,
    /// The protocol.
    pub protocol: Protocol,
    /// MUST or SHOULD.
    pub level: Level,
    /// What is checked.
    pub title: &'static str,
    /// The outcome.
    pub outcome: Outcome,
    /// What was sent (request lines).
    pub sent: Vec<String>,
    /// What came back (status, headers of interest, start of the body).
    pub received: Vec<String>,
}

/// Where the requirements the checks prove are written down: the
/// project's `docs/checklist.md`, one anchor per ID.
pub const CHECKLIST_URL: &str = concat!(env!("CARGO_PKG_REPOSITORY"), "/blob/main/docs/checklist.md");

impl CheckResult {
    /// The checklist item this check proves: its ID without the `.n` that
    /// tells several checks of one item apart (`SAL-RCV-02.3` → `SAL-RCV-02`).
    pub fn checklist_id(&self) -> &'static str {
        self.id.split('.').next().unwrap_or(self.id)
    }

    /// The link to the requirement's entry in [`CHECKLIST_URL`].
    pub fn checklist_link(&self) -> String {
        format!("{CHECKLIST_URL}#{}", self.checklist_id().to_ascii_lowercase())
    }

    /// A one-line summary: `PASS MUST WF-SRV-04 …`.
    pub fn line(&self) -> String {
        let (word, why) = match &self.outcome {
            Outcome::Pass => ("PASS", String::new()),
            Outcome::Fail(w) => ("FAIL", format!(" — {w}")),
            Outcome::Skip(w) => ("SKIP", format!(" — {w}")),
        };
        format!(
            "{word:<4} {:<6} {:<11} {}{why}",
            self.level.as_str(),
            self.id,
            self.title
        )
    }
}

/// What to check: an account (for WebFinger, feed, Salmon, PoCo) and the
/// server's base URL.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The account, if one was given.
    pub acct: Option<ostatus_webfinger::Acct>,
    /// The base URL (`https://host`).
    pub base: Url,
}

/// Why a target could not be read.
#[derive(Debug, thiserror::Error)]
#[error("conformance: {0}")]
pub struct TargetError(String);

impl Target {
    /// Reads `user@host`, `acct:user@host` or a base URL. For an account the
    /// base is `https://host` (`http://` with `insecure`, see [`Target::with_scheme`]).
    ///
    /// # Errors
    ///
    /// [`TargetError`] when the input is none of these.
    pub fn parse(s: &str) -> Result<Self, TargetError> {
        if s.starts_with("http://") || s.starts_with("https://") {
            let base = Url::parse(s).map_err(|e| TargetError(format!("{s:?}: {e}")))?;
            return Ok(Target { acct: None, base });
        }
        let acct = ostatus_webfinger::Acct::parse(s).map_err(|e| TargetError(e.to_string()))?;
        let base =
            Url::parse(&format!("https://{}/", acct.host())).map_err(|e| TargetError(e.to_string()))?;
        Ok(Target {
            acct: Some(acct),
            base,
        })
    }

    /// The same target with another scheme for the base (`http` for local testing).
    #[must_use]
    pub fn with_scheme(mut self, scheme: &str) -> Self {
        let _ = self.base.set_scheme(scheme);
        self
    }
}

/// Time limit of each request the checker makes.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// How long the checker's own HTTP clients keep an idle connection for
/// reuse: less than the keep-alive of common servers (5 s and up), so that
/// no request goes out on a connection the server is closing.
pub(crate) const IDLE_CONNECTION: Duration = Duration::from_secs(4);
