//! `ostatus-server`: the ostatus-rs reference server.
//!
//! ```text
//! ostatus-server demo [--keep-running] [--payloads]  two nodes federating on loopback
//! ostatus-server serve --listen ADDR --domain HOST [--data DIR] [--insecure] [--hub URL] [--trust-host HOST]...
//! ostatus-server user create NAME --password-stdin --data DIR
//! ostatus-server post|follow|unfollow|favourite|unfavourite|share|delete|block|blocks|lock|requests|authorize|profile ... --as NAME --data DIR
//! ostatus-server block-domain HOST --data DIR
//! ostatus-server hub --listen ADDR --public-url URL [--db sqlite:PATH|postgres://…|memory] [--insecure] [--trust-host HOST]...
//! ```
//!
//! The actions run in their own process against the node's data and the
//! running `serve` process (which answers the peers' callbacks and carries
//! the embedded hub).

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use ostatus_server::hub;
use ostatus_server::node::db::Visibility;
use ostatus_server::node::{Node, NodeConfig, NodeError};
use url::Url;

#[derive(Parser)]
#[command(
    name = "ostatus-server",
    version,
    about = "The ostatus-rs reference server",
    after_help = "Every flag of `serve` and `hub` can also be given in the environment (the variable \
                  named in its help) or in a TOML file (`--config FILE`, a [serve] and a [hub] table \
                  whose keys are the flags' names). A flag wins over the environment, which wins over \
                  the file. See docs/configuration.md."
)]
struct Cli {
    /// A TOML file of settings: `[serve]` and `[hub]` tables, keys named as
    /// the flags (`listen = "127.0.0.1:8080"`, `trust-host = ["hub.internal"]`).
    /// Flags and environment variables override it.
    #[arg(long, global = true, env = "OSTATUS_CONFIG", value_name = "FILE")]
    config: Option<PathBuf>,
    /// How logs are written to stderr: `text` for people, `json` (one
    /// object per line) for a log collector. The level is `RUST_LOG`'s.
    #[arg(long, global = true, env = "OSTATUS_LOG_FORMAT", value_enum, default_value_t = LogFormat::Text)]
    log_format: LogFormat,
    #[command(subcommand)]
    command: Command,
}

/// See [`Cli::log_format`].
#[derive(Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
enum LogFormat {
    /// Text, for people.
    Text,
    /// One JSON object per line.
    Json,
}

#[derive(clap::Args)]
struct Data {
    /// The node's data directory.
    #[arg(long, env = "OSTATUS_DATA", default_value = "ostatus-data")]
    data: PathBuf,
}

#[derive(clap::Args)]
struct Acting {
    #[command(flatten)]
    data: Data,
    /// The local user who acts.
    #[arg(long = "as", value_name = "USERNAME")]
    user: String,
}

#[derive(Subcommand)]
enum UserCommand {
    /// Create a local user (an RSA key is generated).
    Create {
        /// The username (a-z, 0-9, _).
        name: String,
        /// The name shown (default: the username).
        #[arg(long, default_value = "")]
        display_name: String,
        /// Read the web login's password from standard input (its first
        /// line). Without this flag, and with a terminal, the password is
        /// asked for without echo; with neither, the user cannot log in.
        #[arg(long, conflicts_with = "password")]
        password_stdin: bool,
        /// DEPRECATED, insecure: the password on the command line, where
        /// `ps` and the shell's history show it. Use `--password-stdin` or
        /// the prompt.
        #[arg(long, hide = true)]
        password: Option<String>,
        #[command(flatten)]
        data: Data,
    },
}

/// The password for `user create`: from standard input, from a no-echo
/// prompt on a terminal, or (deprecated) from the command line.
fn read_password(stdin: bool, given: Option<String>) -> Result<Option<String>, String> {
    use std::io::{BufRead as _, IsTerminal as _};
    if let Some(p) = given {
        eprintln!(
            "ostatus-server: WARNING: --password puts the password where `ps` and the shell history show it; \
             use --password-stdin or the prompt"
        );
        return Ok(Some(p));
    }
    if stdin {
        let mut line = String::new();
        std::io::stdin()
            .lock()
            .read_line(&mut line)
            .map_err(|e| format!("reading the password from stdin: {e}"))?;
        let p = line.trim_end_matches(['\r', '\n']).to_owned();
        if p.is_empty() {
            return Err("--password-stdin: standard input held no password".into());
        }
        return Ok(Some(p));
    }
    if std::io::stdin().is_terminal() {
        let p = rpassword::prompt_password("Password (empty: no web login): ")
            .map_err(|e| format!("reading the password: {e}"))?;
        if p.is_empty() {
            return Ok(None);
        }
        let again =
            rpassword::prompt_password("Again: ").map_err(|e| format!("reading the password: {e}"))?;
        if again != p {
            return Err("the passwords differ".into());
        }
        return Ok(Some(p));
    }
    Ok(None)
}

/// The node's command line (`serve`).
#[derive(clap::Args)]
struct ServeArgs {
    /// Address to listen on.
    #[arg(long, env = "OSTATUS_LISTEN")]
    listen: SocketAddr,
    /// The node's host name (`user@DOMAIN`), with `:port` if needed.
    #[arg(long, env = "OSTATUS_DOMAIN")]
    domain: String,
    #[command(flatten)]
    data: Data,
    /// Serve and fetch over plain http, and allow loopback/private peers
    /// (local testing only).
    #[arg(long, env = "OSTATUS_INSECURE")]
    insecure: bool,
    /// Use this external WebSub hub instead of the embedded one.
    #[arg(long, env = "OSTATUS_HUB")]
    hub: Option<Url>,
    /// A host reached over plain http and at a private address without
    /// `--insecure` (an external hub on the internal network): an exact
    /// host name or IP address; repeatable. For WebFinger, WebSub and
    /// Salmon traffic alike.
    #[arg(long, value_name = "HOST", env = "OSTATUS_TRUST_HOST", value_delimiter = ',')]
    trust_host: Vec<String>,
    /// Salmon slaps taken per signer host: a burst of this many, then
    /// this many a minute (429 with Retry-After beyond; SAL-RCV-11).
    #[arg(
        long,
        default_value_t = 300,
        value_name = "N",
        env = "OSTATUS_SLAPS_PER_MINUTE"
    )]
    slaps_per_minute: u32,
    /// Log every request (method, path, status, time, size, user agent)
    /// at the info level, target `access`.
    #[arg(long, env = "OSTATUS_ACCESS_LOG")]
    access_log: bool,
    /// Serve the node's metrics (Prometheus text, the embedded hub's
    /// included) at `GET /metrics` on this address: a second listener,
    /// kept off the public site.
    #[arg(long, env = "OSTATUS_METRICS_LISTEN", value_name = "ADDR")]
    metrics_listen: Option<SocketAddr>,
}

#[derive(Subcommand)]
enum Command {
    /// Start two nodes on loopback and watch them federate.
    Demo {
        /// Leave the nodes running afterwards, for a browser.
        #[arg(long)]
        keep_running: bool,
        /// Print the Atom of every Salmon slap and hub delivery too.
        #[arg(long)]
        payloads: bool,
    },
    /// Run an OStatus node.
    Serve(Box<ServeArgs>),
    /// Manage local users.
    #[command(subcommand)]
    User(UserCommand),
    /// Post a note, optionally as a reply; `@user@host` mentions are resolved.
    Post {
        /// The text.
        text: String,
        /// The entry id of the status answered.
        #[arg(long)]
        reply_to: Option<String>,
        /// Who may see it: public, unlisted (not in public timelines),
        /// private (followers and mentioned people) or direct (mentioned
        /// people only). Private and direct statuses are not sent to
        /// servers that do not honour them; they are named on stderr.
        #[arg(long, default_value = "public", value_parser = parse_visibility)]
        visibility: Visibility,
        /// A content warning: shown with the text collapsed under it
        /// (Mastodon's `summary`).
        #[arg(long, value_name = "SUBJECT")]
        cw: Option<String>,
        /// Attach a file (repeatable, up to 4): a PNG, JPEG, GIF or WebP
        /// image of at most 8 MiB, or an MP4 or WebM video or an M4A, Ogg
        /// or MP3 sound of at most 16 MiB. Its type is read from its bytes.
        #[arg(long, value_name = "FILE")]
        attach: Vec<PathBuf>,
        /// Mark the attached media sensitive: shown only on request
        /// (Mastodon's `nsfw`). A content warning does so too.
        #[arg(long)]
        sensitive: bool,
        #[command(flatten)]
        who: Acting,
    },
    /// Follow `user@host`, or any feed URL whose feed names a WebSub hub.
    Follow {
        /// The account, or a feed's URL.
        account: String,
        #[command(flatten)]
        who: Acting,
    },
    /// Unfollow `user@host` or a followed feed's URL.
    Unfollow {
        /// The account, or the feed's URL.
        account: String,
        #[command(flatten)]
        who: Acting,
    },
    /// Favourite a status (by entry id).
    Favourite {
        /// The status's entry id.
        status: String,
        #[command(flatten)]
        who: Acting,
    },
    /// Undo a favourite.
    Unfavourite {
        /// The status's entry id.
        status: String,
        #[command(flatten)]
        who: Acting,
    },
    /// Share a status.
    Share {
        /// The status's entry id.
        status: String,
        #[command(flatten)]
        who: Acting,
    },
    /// Block `user@host`: the follows between you end both ways, their
    /// statuses are hidden from you, their slaps to you are refused, and
    /// they are told (Mastodon's Salmon `block`). `--undo` lifts it.
    Block {
        /// The account.
        account: String,
        /// Lift the block instead (a Salmon `unblock`).
        #[arg(long)]
        undo: bool,
        #[command(flatten)]
        who: Acting,
    },
    /// List the accounts you block, one URI per line.
    Blocks {
        #[command(flatten)]
        who: Acting,
    },
    /// Lock your account: follows wait for your approval (Mastodon's
    /// locked accounts; peers send `request-friend`). `--undo` unlocks it
    /// and approves every waiting request.
    Lock {
        /// Unlock instead.
        #[arg(long)]
        undo: bool,
        #[command(flatten)]
        who: Acting,
    },
    /// Change your profile: any of name, biography and avatar. Peers are
    /// told by an `update-profile` activity through the hub.
    Profile {
        /// The name shown.
        #[arg(long)]
        display_name: Option<String>,
        /// The biography (plain text, at most 500 characters).
        #[arg(long)]
        bio: Option<String>,
        /// An image file for the avatar: PNG, JPEG, GIF or WebP, at most
        /// 2 MiB and 4096 pixels a side.
        #[arg(long)]
        avatar: Option<PathBuf>,
        #[command(flatten)]
        who: Acting,
    },
    /// List the follow requests waiting for your approval, one account URI
    /// per line.
    Requests {
        #[command(flatten)]
        who: Acting,
    },
    /// Approve a follow request (a Salmon `authorize`); `--reject` refuses
    /// it (a `reject`).
    Authorize {
        /// The account that asked (`user@host` or its URI).
        account: String,
        /// Refuse instead.
        #[arg(long)]
        reject: bool,
        #[command(flatten)]
        who: Acting,
    },
    /// Delete one of your statuses.
    Delete {
        /// The status's entry id.
        status: String,
        #[command(flatten)]
        who: Acting,
    },
    /// Copy the node's databases (node.db, websub.db, hub.db) into DIR as a
    /// consistent snapshot, while the node runs; each copy is checked.
    /// Restore by stopping the node and copying the files back.
    Backup {
        /// Where the copies go (created if missing; existing copies are
        /// replaced).
        #[arg(long, value_name = "DIR")]
        to: PathBuf,
        #[command(flatten)]
        data: Data,
    },
    /// Refuse everything from a domain (and its subdomains).
    BlockDomain {
        /// The domain.
        domain: String,
        /// Lift the block instead.
        #[arg(long)]
        undo: bool,
        #[command(flatten)]
        data: Data,
    },
    /// Run the standalone WebSub hub.
    Hub(Box<hub::HubArgs>),
}

/// `--config FILE` (or `--config=FILE`) from the command line, else
/// `OSTATUS_CONFIG`.
fn config_path() -> Option<PathBuf> {
    let mut args = std::env::args_os().skip(1);
    while let Some(a) = args.next() {
        if a == "--" {
            break;
        }
        if a == "--config" {
            return args.next().map(PathBuf::from);
        }
        if let Some(v) = a.to_str().and_then(|s| s.strip_prefix("--config=")) {
            return Some(PathBuf::from(v));
        }
    }
    std::env::var_os("OSTATUS_CONFIG").map(PathBuf::from)
}

/// The commands whose flags a configuration file may set.
const CONFIGURABLE: [&str; 2] = ["serve", "hub"];

/// Installs the settings of a TOML file as the defaults of the flags they
/// name, so that a flag, then its environment variable, still win.
fn with_file_defaults(mut cmd: clap::Command, path: &std::path::Path) -> Result<clap::Command, String> {
    let at = path.display();
    let text = std::fs::read_to_string(path).map_err(|e| format!("--config {at}: {e}"))?;
    let table: toml::Table = text.parse().map_err(|e| format!("--config {at}: {e}"))?;
    for (section, value) in table {
        let toml::Value::Table(settings) = value else {
            return Err(format!(
                "--config {at}: `{section}` is not a table; settings go under [serve] or [hub]"
            ));
        };
        if !CONFIGURABLE.contains(&section.as_str()) {
            return Err(format!(
                "--config {at}: unknown table [{section}]; the file has [serve] and [hub] tables"
            ));
        }
        for (key, value) in settings {
            let id = key.replace('-', "_");
            let known = cmd.find_subcommand(&section).is_some_and(|sc| {
                sc.get_arguments().any(|a| {
                    a.get_id() == id.as_str() && a.get_long().is_some() && id != "help" && id != "config"
                })
            });
            if !known {
                return Err(format!(
                    "--config {at}: [{section}] has no setting `{key}` (see `ostatus-server {section} --help`)"
                ));
            }
            let scalar = |v: &toml::Value| -> Result<String, String> {
                match v {
                    toml::Value::String(s) => Ok(s.clone()),
                    toml::Value::Integer(i) => Ok(i.to_string()),
                    toml::Value::Boolean(b) => Ok(b.to_string()),
                    other => Err(format!(
                        "--config {at}: [{section}] {key}: a {} is not a setting value",
                        other.type_str()
                    )),
                }
            };
            let values: Vec<String> = match &value {
                toml::Value::Array(items) => items.iter().map(scalar).collect::<Result<_, _>>()?,
                v => vec![scalar(v)?],
            };
            if section == "serve" && id == "data" {
                // The node's other commands (`user create`, `post`,
                // `backup`…) act on the same data directory.
                cmd = with_data_default(cmd, &values);
            }
            cmd = cmd.mut_subcommand(&section, |sc| {
                sc.mut_arg(id.as_str(), |a| a.default_values(values).required(false))
            });
        }
    }
    Ok(cmd)
}

/// `values` as the default of `--data` in every command that has it, at
/// any depth (`user create` is a subcommand of `user`).
fn with_data_default(cmd: clap::Command, values: &[String]) -> clap::Command {
    let names: Vec<String> = cmd.get_subcommands().map(|sc| sc.get_name().to_owned()).collect();
    let mut cmd = if cmd.get_arguments().any(|a| a.get_id() == "data") {
        cmd.mut_arg("data", |a| a.default_values(values.to_vec()))
    } else {
        cmd
    };
    for name in names {
        cmd = cmd.mut_subcommand(&name, |sc| with_data_default(sc, values));
    }
    cmd
}

/// The command line, with the configuration file's settings as defaults.
fn parse_cli() -> Result<Cli, String> {
    use clap::{CommandFactory, FromArgMatches};
    let mut cmd = Cli::command();
    if let Some(path) = config_path() {
        cmd = with_file_defaults(cmd, &path)?;
    }
    let matches = cmd.get_matches();
    Cli::from_arg_matches(&matches).map_err(|e| e.to_string())
}

fn main() -> ExitCode {
    let cli = match parse_cli() {
        Ok(cli) => cli,
        Err(e) => {
            eprintln!("ostatus-server: {e}");
            return ExitCode::from(2);
        }
    };
    // The demo prints what crosses the wire itself; its log would say it
    // twice, so by default it logs only warnings.
    let default_level = if matches!(cli.command, Command::Demo { .. }) {
        "warn"
    } else {
        "info"
    };
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(default_level));
    let logs = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match cli.log_format {
        LogFormat::Text => logs.init(),
        LogFormat::Json => logs.json().flatten_event(true).init(),
    }
    let rt = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("ostatus-server: cannot start the runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match rt.block_on(run(cli.command)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ostatus-server: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Opens the node of a data directory made by `serve`, for one action: the
/// running server's hub is pinged over HTTP.
fn open(data: &Data) -> Result<Arc<Node>, String> {
    let db = ostatus_server::node::db::Db::open(&data.data.join("node.db")).map_err(|e| e.to_string())?;
    let setting = |k: &str| -> Result<String, String> {
        db.setting(k).map_err(|e| e.to_string())?.ok_or_else(|| {
            format!(
                "{}: run `ostatus-server serve --data {0}` first",
                data.data.display()
            )
        })
    };
    let domain = setting("domain")?;
    let insecure = setting("insecure")? == "true";
    let hub = setting("hub")?;
    // Absent in data directories from before --trust-host.
    let trusted = db
        .setting("trusted_hosts")
        .map_err(|e| e.to_string())?
        .unwrap_or_default();
    drop(db);
    let mut config = NodeConfig::new(&domain, data.data.clone(), insecure).map_err(|e| e.to_string())?;
    config.external_hub = Some(Url::parse(&hub).map_err(|e| e.to_string())?);
    config.trusted_hosts = trusted.split_whitespace().map(str::to_owned).collect();
    Node::open(config).map_err(|e| e.to_string())
}

fn acting(who: &Acting) -> Result<(Arc<Node>, ostatus_server::node::db::User), String> {
    let node = open(&who.data)?;
    let user = node.user(&who.user).map_err(|e| e.to_string())?;
    Ok((node, user))
}

/// Reads a file to upload, refusing one over `max` bytes before reading
/// it (the node checks what it is).
fn read_upload(path: &std::path::Path, max: usize) -> Result<Vec<u8>, String> {
    let size = std::fs::metadata(path)
        .map_err(|e| format!("{}: {e}", path.display()))?
        .len();
    if usize::try_from(size).map_or(true, |n| n > max) {
        return Err(format!(
            "{}: {size} bytes; at most {} MiB are taken",
            path.display(),
            max >> 20
        ));
    }
    std::fs::read(path).map_err(|e| format!("{}: {e}", path.display()))
}

fn err(e: NodeError) -> String {
    e.to_string()
}

async fn run(command: Command) -> Result<(), String> {
    match command {
        Command::Demo {
            keep_running,
            payloads,
        } => ostatus_server::demo::run(keep_running, payloads)
            .await
            .map_err(err),
        Command::Serve(a) => serve(*a).await,
        Command::User(UserCommand::Create {
            name,
            display_name,
            password_stdin,
            password,
            data,
        }) => {
            let password = read_password(password_stdin, password)?;
            let node = open(&data)?;
            let u = node
                .create_user(&name, &display_name, password.as_deref())
                .await
                .map_err(err)?;
            println!("{}", node.user_acct(&u.username));
            Ok(())
        }
        Command::Post {
            text,
            reply_to,
            visibility,
            cw,
            attach,
            sensitive,
            who,
        } => {
            let mut attachments = Vec::with_capacity(attach.len());
            for path in &attach {
                attachments.push(read_upload(path, ostatus_server::node::MAX_AV_BYTES)?);
            }
            let (node, user) = acting(&who)?;
            let draft = ostatus_server::node::Draft {
                in_reply_to: reply_to,
                visibility,
                content_warning: cw,
                sensitive,
                attachments,
                ..ostatus_server::node::Draft::new(text)
            };
            let p = node.post_draft(&user, draft).await.map_err(err)?;
            if !p.withheld.is_empty() {
                eprintln!(
                    "ostatus-server: not sent to {}: their server does not honour {} statuses",
                    p.withheld.join(", "),
                    visibility.as_str()
                );
            }
            println!("{}", p.status.uri);
            Ok(())
        }
        Command::Follow { account, who } => {
            let (node, user) = acting(&who)?;
            let a = node.follow(&user, &account).await.map_err(err)?;
            println!("{}", a.uri);
            if node
                .db()
                .follow_requested(&node.user_uri(&user.username), &a.uri)
                .map_err(|e| e.to_string())?
            {
                eprintln!("{} is locked: the follow waits for their approval", a.acct);
            }
            Ok(())
        }
        Command::Unfollow { account, who } => {
            let (node, user) = acting(&who)?;
            node.unfollow(&user, &account).await.map(drop).map_err(err)
        }
        Command::Favourite { status, who } => {
            let (node, user) = acting(&who)?;
            node.favourite(&user, &status, true).await.map_err(err)
        }
        Command::Unfavourite { status, who } => {
            let (node, user) = acting(&who)?;
            node.favourite(&user, &status, false).await.map_err(err)
        }
        Command::Share { status, who } => {
            let (node, user) = acting(&who)?;
            let s = node.share(&user, &status).await.map_err(err)?;
            println!("{}", s.uri);
            Ok(())
        }
        Command::Delete { status, who } => {
            let (node, user) = acting(&who)?;
            node.delete(&user, &status).await.map_err(err)
        }
        Command::Block { account, undo, who } => {
            let (node, user) = acting(&who)?;
            let a = if undo {
                node.unblock(&user, &account).await
            } else {
                node.block(&user, &account).await
            }
            .map_err(err)?;
            println!("{}", a.uri);
            Ok(())
        }
        Command::Blocks { who } => {
            let (node, user) = acting(&who)?;
            for uri in node
                .db()
                .blocked_by(&node.user_uri(&user.username))
                .map_err(|e| e.to_string())?
            {
                println!("{uri}");
            }
            Ok(())
        }
        Command::Profile {
            display_name,
            bio,
            avatar,
            who,
        } => {
            let avatar = match avatar {
                Some(path) => Some(read_upload(&path, ostatus_server::node::MAX_AVATAR_BYTES)?),
                None => None,
            };
            let (node, user) = acting(&who)?;
            let change = ostatus_server::node::ProfileChange {
                display_name,
                bio,
                avatar,
            };
            let user = node.update_profile(&user, change).await.map_err(err)?;
            if let Some(a) = &user.avatar {
                println!("{}", node.url(&format!("media/{}", a.url)).map_err(err)?);
            }
            Ok(())
        }
        Command::Lock { undo, who } => {
            let (node, user) = acting(&who)?;
            node.set_locked(&user, !undo).await.map_err(err)
        }
        Command::Requests { who } => {
            let (node, user) = acting(&who)?;
            for uri in node
                .db()
                .follow_requests_to(&node.user_uri(&user.username))
                .map_err(|e| e.to_string())?
            {
                println!("{uri}");
            }
            Ok(())
        }
        Command::Authorize { account, reject, who } => {
            let (node, user) = acting(&who)?;
            let a = node
                .answer_follow_request(&user, &account, !reject)
                .await
                .map_err(err)?;
            println!("{}", a.uri);
            Ok(())
        }
        Command::BlockDomain { domain, undo, data } => {
            let node = open(&data)?;
            node.db()
                .set_domain_block(&domain, !undo)
                .map_err(|e| e.to_string())
        }
        Command::Hub(a) => hub::run_hub(*a).await,
        Command::Backup { to, data } => {
            for copied in ostatus_server::backup::backup(&data.data, &to)? {
                println!("{}", copied.display());
            }
            Ok(())
        }
    }
}

async fn serve(a: ServeArgs) -> Result<(), String> {
    let ServeArgs {
        listen,
        domain,
        data,
        insecure,
        hub,
        trust_host,
        slaps_per_minute,
        access_log,
        metrics_listen,
    } = a;
    let domain = domain.as_str();
    let mut config = NodeConfig::new(domain, data.data.clone(), insecure).map_err(|e| e.to_string())?;
    config.group_commit = true;
    config.external_hub = hub;
    config.slaps_per_minute = slaps_per_minute.max(1);
    if let Some(bad) = trust_host
        .iter()
        .find(|h| h.is_empty() || h.contains(char::is_whitespace))
    {
        return Err(format!("--trust-host {bad:?}: not a host name or address"));
    }
    config.trusted_hosts = trust_host;
    let node = Node::open(config).map_err(|e| e.to_string())?;
    let hub_url = node.url("api/push").map_err(err)?;
    let hub_url = node.config().external_hub.clone().unwrap_or(hub_url);
    for (k, v) in [
        ("insecure", insecure.to_string()),
        ("hub", hub_url.to_string()),
        ("trusted_hosts", node.config().trusted_hosts.join(" ")),
    ] {
        node.db().set_setting(k, &v).map_err(|e| e.to_string())?;
    }
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let local = listener.local_addr().map_err(|e| e.to_string())?;
    let mut app = node.router();
    if access_log {
        app = app.layer(axum::middleware::from_fn(ostatus_server::serve::access_log));
    }
    node.start_background();
    if let Some(addr) = metrics_listen {
        let metrics = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| format!("--metrics-listen {addr}: {e}"))?;
        let local = metrics.local_addr().map_err(|e| e.to_string())?;
        let m = node.clone();
        let app = axum::Router::new().route(
            "/metrics",
            axum::routing::get(move || {
                let node = m.clone();
                async move {
                    (
                        [(http::header::CONTENT_TYPE, "text/plain; version=0.0.4")],
                        node.metrics_text().await,
                    )
                }
            }),
        );
        tokio::spawn(async move {
            let _ = ostatus_server::serve::serve(
                metrics,
                app,
                ostatus_server::serve::Limits::default(),
                std::future::pending(),
            )
            .await;
        });
        eprintln!("ostatus-server: metrics on http://{local}/metrics");
    }
    eprintln!(
        "ostatus-server: node {} listening on {local}",
        node.config().base_url
    );
    ostatus_server::serve::serve(
        listener,
        app,
        ostatus_server::serve::Limits::default(),
        hub::shutdown_signal(),
    )
    .await
    .map_err(|e| e.to_string())?;
    node.shutdown().await;
    Ok(())
}

fn parse_visibility(s: &str) -> Result<Visibility, String> {
    Visibility::parse(s).ok_or_else(|| format!("{s:?}: public, unlisted, private or direct"))
}
