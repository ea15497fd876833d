//! Issue 20 item 1: every flag of `serve` and `hub` from the environment and
//! from a TOML file; a flag wins over the environment, which wins over the
//! file, which wins over the default.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// Starts `serve` with `args` and `env`, and returns the line saying where
/// it listens (the process is killed).
fn listening_line(args: &[&str], env: &[(&str, String)]) -> String {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ostatus-server"));
    cmd.args(args).env("RUST_LOG", "info").stderr(Stdio::piped());
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd.spawn().unwrap();
    let lines = BufReader::new(child.stderr.take().unwrap()).lines();
    let mut seen = Vec::new();
    let mut found = None;
    for line in lines {
        let line = line.unwrap();
        if line.contains("listening on") {
            found = Some(line);
            break;
        }
        seen.push(line);
    }
    let _ = child.kill();
    let _ = child.wait();
    found.unwrap_or_else(|| panic!("serve did not start: {}", seen.join("\n")))
}

#[test]
fn file_then_environment_then_flag() {
    let dir = std::env::temp_dir().join(format!("ostatus-config-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let (from_file, from_env, from_flag) = (free_port(), free_port(), free_port());
    let config = dir.join("ostatus.toml");
    std::fs::write(
        &config,
        format!(
            "[serve]\nlisten = \"127.0.0.1:{from_file}\"\ndomain = \"127.0.0.1:{from_file}\"\n\
             data = \"{}\"\ninsecure = true\ntrust-host = [\"hub.internal\", \"other.internal\"]\n\
             slaps-per-minute = 30\n\n[hub]\nsignature = \"sha1\"\n",
            dir.join("data").display()
        ),
    )
    .unwrap();
    let config = config.to_str().unwrap();
    // The file alone.
    let line = listening_line(&["--config", config, "serve"], &[]);
    assert!(line.contains(&format!("127.0.0.1:{from_file}")), "{line}");
    // OSTATUS_CONFIG names the file too; the environment wins over it.
    let line = listening_line(
        &["serve"],
        &[
            ("OSTATUS_CONFIG", config.to_owned()),
            ("OSTATUS_LISTEN", format!("127.0.0.1:{from_env}")),
        ],
    );
    assert!(
        line.contains(&format!("listening on 127.0.0.1:{from_env}")),
        "{line}"
    );
    // A flag wins over both.
    let line = listening_line(
        &[
            "serve",
            "--config",
            config,
            "--listen",
            &format!("127.0.0.1:{from_flag}"),
        ],
        &[("OSTATUS_LISTEN", format!("127.0.0.1:{from_env}"))],
    );
    assert!(
        line.contains(&format!("listening on 127.0.0.1:{from_flag}")),
        "{line}"
    );
    // The trusted hosts of the file were kept for the node's other commands.
    let db = ostatus_server::node::db::Db::open(&dir.join("data/node.db")).unwrap();
    assert_eq!(
        db.setting("trusted_hosts").unwrap().as_deref(),
        Some("hub.internal other.internal")
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The file's `[serve] data` is the data directory of the node's other
/// commands too (`backup`, `user create`, `post`…), as docs/deploy.md
/// uses it; the environment still wins over it.
#[test]
fn the_files_data_directory_serves_every_command() {
    let dir = std::env::temp_dir().join(format!("ostatus-config-data-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ostatus.toml");
    std::fs::write(&path, "[serve]\ndata = \"/nonexistent/from-the-file\"\n").unwrap();
    let run = |env: Option<&str>, args: &[&str]| {
        let mut c = Command::new(env!("CARGO_BIN_EXE_ostatus-server"));
        c.args(args).args(["--config", path.to_str().unwrap()]);
        c.env_remove("OSTATUS_DATA");
        if let Some(v) = env {
            c.env("OSTATUS_DATA", v);
        }
        std::fs::write(dir.join("password"), "a password\n").unwrap();
        c.stdin(std::fs::File::open(dir.join("password")).unwrap());
        String::from_utf8_lossy(&c.output().unwrap().stderr).into_owned()
    };
    let to = dir.join("backup");
    let err = run(None, &["backup", "--to", to.to_str().unwrap()]);
    assert!(err.contains("/nonexistent/from-the-file"), "{err}");
    let err = run(None, &["user", "create", "pia", "--password-stdin"]);
    assert!(err.contains("/nonexistent/from-the-file"), "{err}");
    let err = run(
        Some("/nonexistent/from-env"),
        &["backup", "--to", to.to_str().unwrap()],
    );
    assert!(err.contains("/nonexistent/from-env"), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_bad_file_is_refused_with_the_reason() {
    let dir = std::env::temp_dir().join(format!("ostatus-config-bad-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    for (text, says) in [
        ("[serve]\nlisten-on = \"x\"\n", "has no setting `listen-on`"),
        ("listen = \"x\"\n", "is not a table"),
        ("[server]\n", "unknown table [server]"),
        ("[serve]\nlisten = [1.5]\n", "float"),
        ("[serve\n", "--config"),
    ] {
        let path = dir.join("bad.toml");
        std::fs::write(&path, text).unwrap();
        let out = Command::new(env!("CARGO_BIN_EXE_ostatus-server"))
            .args(["serve", "--config", path.to_str().unwrap()])
            .output()
            .unwrap();
        assert_eq!(out.status.code(), Some(2), "{text}");
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(says), "{text:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn help_names_the_environment_variables() {
    for (cmd, vars) in [
        (
            "serve",
            &[
                "OSTATUS_LISTEN",
                "OSTATUS_DOMAIN",
                "OSTATUS_DATA",
                "OSTATUS_TRUST_HOST",
            ][..],
        ),
        (
            "hub",
            &[
                "OSTATUS_PUBLIC_URL",
                "OSTATUS_DB",
                "OSTATUS_SIGNATURE",
                "OSTATUS_MAX_ATTEMPTS",
            ][..],
        ),
    ] {
        let out = Command::new(env!("CARGO_BIN_EXE_ostatus-server"))
            .args([cmd, "--help"])
            .output()
            .unwrap();
        let help = String::from_utf8_lossy(&out.stdout);
        for v in vars {
            assert!(help.contains(&format!("env: {v}")), "{cmd} --help lacks {v}");
        }
    }
}

/// Issue 20: the shipped systemd unit is one systemd accepts. Needs
/// `systemd-analyze` (Debian's systemd package), which `.ci/run` installs;
/// run with `--ignored`.
#[test]
#[ignore = "needs systemd-analyze; .ci/run runs it"]
fn the_systemd_unit_verifies() {
    let unit = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../docs/deploy/ostatus-server.service"
    ))
    .unwrap();
    assert!(unit.contains("ExecStart=/usr/local/bin/ostatus-server serve"));
    assert!(
        unit.contains("OSTATUS_CONFIG="),
        "the unit reads the configuration file"
    );
    // Verified with the binary this build made in place of the installed one.
    let dir = std::env::temp_dir().join(format!("ostatus-unit-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ostatus-server.service");
    std::fs::write(
        &path,
        unit.replace(
            "/usr/local/bin/ostatus-server",
            env!("CARGO_BIN_EXE_ostatus-server"),
        ),
    )
    .unwrap();
    let out = Command::new("systemd-analyze")
        .arg("verify")
        .arg(&path)
        .output()
        .expect("systemd-analyze is not installed (Debian package systemd)");
    let said = String::from_utf8_lossy(&out.stderr);
    assert!(out.status.success(), "{said}");
    assert!(!said.contains("Unknown key"), "{said}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Starts `cmd` (a `serve`), and returns it with its stderr's lines once
/// it says it listens.
fn started(
    mut cmd: Command,
) -> (
    std::process::Child,
    std::io::Lines<BufReader<std::process::ChildStderr>>,
) {
    let mut child = cmd.stderr(Stdio::piped()).spawn().unwrap();
    let mut lines = BufReader::new(child.stderr.take().unwrap()).lines();
    for line in lines.by_ref() {
        if line.unwrap().contains("listening on") {
            break;
        }
    }
    (child, lines)
}

/// Issue 20: an access log, and logs as JSON lines for a collector.
#[test]
fn access_log_as_json_lines() {
    use std::io::{Read, Write};
    let dir = std::env::temp_dir().join(format!("ostatus-access-log-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ostatus-server"));
    cmd.args([
        "serve",
        "--insecure",
        "--access-log",
        "--listen",
        &addr,
        "--domain",
        &addr,
    ])
    .arg("--data")
    .arg(&dir)
    .env("OSTATUS_LOG_FORMAT", "json")
    .env("RUST_LOG", "info");
    let (mut child, mut lines) = started(cmd);
    let mut s = std::net::TcpStream::connect(&addr).unwrap();
    s.write_all(
        b"GET /healthz?probe=1 HTTP/1.1\r\nHost: x\r\nUser-Agent: probe/1\r\nConnection: close\r\n\r\n",
    )
    .unwrap();
    let mut answer = String::new();
    s.read_to_string(&mut answer).unwrap();
    assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    let mut found = None;
    for line in lines.by_ref() {
        let line = line.unwrap();
        if line.contains("\"target\":\"access\"") {
            found = Some(line);
            break;
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    let line = found.expect("an access log line");
    let v: serde_json::Value = serde_json::from_str(&line).unwrap_or_else(|e| panic!("{e}: {line}"));
    assert_eq!(v["method"], "GET", "{line}");
    assert_eq!(v["status"], 200, "{line}");
    assert_eq!(v["agent"], "probe/1", "{line}");
    assert_eq!(v["uri"], "/healthz?probe=1", "{line}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// Issue 20: the node's metrics on their own listener, not the public site.
#[test]
fn metrics_on_their_own_listener() {
    use std::io::{Read, Write};
    let get = |addr: &str, path: &str| {
        let mut s = std::net::TcpStream::connect(addr).unwrap();
        s.write_all(format!("GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n").as_bytes())
            .unwrap();
        let mut answer = String::new();
        s.read_to_string(&mut answer).unwrap();
        answer
    };
    let dir = std::env::temp_dir().join(format!("ostatus-metrics-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    let (port, metrics_port) = (free_port(), free_port());
    let (addr, metrics_addr) = (format!("127.0.0.1:{port}"), format!("127.0.0.1:{metrics_port}"));
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_ostatus-server"));
    cmd.args(["serve", "--insecure", "--listen", &addr, "--domain", &addr])
        .args(["--metrics-listen", &metrics_addr])
        .arg("--data")
        .arg(&dir);
    let (mut child, _lines) = started(cmd);
    // A page rendered twice: one miss, one hit.
    for _ in 0..2 {
        assert!(get(&addr, "/users/nobody.atom").starts_with("HTTP/1.1 404"));
        assert!(get(&addr, "/").starts_with("HTTP/1.1 200"));
    }
    let metrics = get(&metrics_addr, "/metrics");
    let public = get(&addr, "/metrics");
    let _ = child.kill();
    let _ = child.wait();
    assert!(metrics.starts_with("HTTP/1.1 200"), "{metrics}");
    for name in [
        "ostatus_node_slaps_accepted_total 0",
        "ostatus_node_render_cache_misses_total",
        "ostatus_node_log_syncs_total",
        "ostatus_node_outbox_depth 0",
        "websub_hub_subscriptions 0",
    ] {
        assert!(metrics.contains(name), "{name}: {metrics}");
    }
    assert!(public.starts_with("HTTP/1.1 404"), "{public}");
    let _ = std::fs::remove_dir_all(&dir);
}
