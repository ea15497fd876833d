//! The PostgreSQL password of the standalone hub, kept off the command line.
//!
//! A password written in `--db postgres://user:password@host/db` is seen by
//! `ps` and kept in shell history. The hub therefore also takes it, in this
//! order, from:
//! 1. the URL itself (still accepted, for `OSTATUS_DB` in a protected
//!    environment file);
//! 2. a file named by `--db-password-file` (`OSTATUS_DB_PASSWORD_FILE`;
//!    systemd's `LoadCredential=` puts one in `$CREDENTIALS_DIRECTORY`);
//! 3. the `PGPASSWORD` environment variable, as libpq reads it;
//! 4. the password file libpq reads: `PGPASSFILE`, else `~/.pgpass`, with
//!    its format (`host:port:database:user:password`, `*` for any, `\:` and
//!    `\\` escapes) and its rule that a file others can read is ignored.

use std::path::{Path, PathBuf};

use url::Url;

/// Where the password came from, for the log (never the password).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Source {
    /// Written in the URL.
    Url,
    /// `--db-password-file`.
    File,
    /// `PGPASSWORD`.
    Environment,
    /// A line of the password file (`PGPASSFILE` or `~/.pgpass`).
    Pgpass,
    /// None found: the server may not need one (trust or peer auth).
    None,
}

/// The database URL with its password filled in from the first source that
/// has one (see the module's docs), and where it came from.
///
/// `env` reads an environment variable (`std::env::var` in the binary); it
/// is a parameter so that tests do not touch the process's environment.
///
/// # Errors
///
/// When the URL does not parse, or `password_file` cannot be read or is
/// empty.
pub fn fill_password(
    db: &str,
    password_file: Option<&Path>,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(String, Source), String> {
    let mut url = Url::parse(db).map_err(|e| format!("--db: not a URL: {e}"))?;
    if url.password().is_some() {
        return Ok((db.to_owned(), Source::Url));
    }
    let (password, source) = if let Some(path) = password_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("--db-password-file {}: {e}", path.display()))?;
        let first = text.lines().next().unwrap_or_default().to_owned();
        if first.is_empty() {
            return Err(format!(
                "--db-password-file {}: the file is empty",
                path.display()
            ));
        }
        (first, Source::File)
    } else if let Some(p) = env("PGPASSWORD").filter(|p| !p.is_empty()) {
        (p, Source::Environment)
    } else {
        let file = env("PGPASSFILE")
            .map(PathBuf::from)
            .or_else(|| env("HOME").map(|h| Path::new(&h).join(".pgpass")));
        match file.and_then(|f| from_pgpass(&f, &url)) {
            Some(p) => (p, Source::Pgpass),
            None => return Ok((db.to_owned(), Source::None)),
        }
    };
    url.set_password(Some(&password))
        .map_err(|()| "--db: this URL cannot carry a password".to_owned())?;
    Ok((url.to_string(), source))
}

/// The password of the first line of a libpq password file that matches
/// the URL's host, port, database and user. A file that its group or
/// others may read is ignored, as libpq ignores it.
fn from_pgpass(file: &Path, url: &Url) -> Option<String> {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(file).ok()?.permissions().mode();
        if mode & 0o077 != 0 {
            tracing::warn!(
                file = %file.display(),
                "the password file can be read by others; ignored, as libpq ignores it (chmod 600)"
            );
            return None;
        }
    }
    let text = std::fs::read_to_string(file).ok()?;
    let user = (!url.username().is_empty()).then(|| url.username().to_owned())?;
    let host = url.host_str().unwrap_or("localhost").to_owned();
    let port = url.port().unwrap_or(5432).to_string();
    let database = url.path().trim_start_matches('/');
    let database = if database.is_empty() {
        user.as_str()
    } else {
        database
    };
    let wanted = [host.as_str(), port.as_str(), database, user.as_str()];
    text.lines()
        .filter(|l| !l.trim_start().starts_with('#'))
        .find_map(|line| {
            let fields = split_fields(line);
            let [h, p, d, u, password] = fields.as_slice() else {
                return None;
            };
            let matches = [h, p, d, u]
                .iter()
                .zip(wanted)
                .all(|(field, want)| field.as_str() == "*" || field.as_str() == want);
            matches.then(|| password.clone())
        })
}

/// The `:`-separated fields of a password-file line, with `\:` and `\\`
/// unescaped.
fn split_fields(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let (Some(next), Some(last)) = (chars.next(), fields.last_mut()) {
                    last.push(next);
                }
            }
            ':' => fields.push(String::new()),
            c => {
                if let Some(last) = fields.last_mut() {
                    last.push(c);
                }
            }
        }
    }
    fields
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    fn dir(name: &str) -> PathBuf {
        let d = std::env::temp_dir().join(format!("ostatus-pgpass-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&d);
        std::fs::create_dir_all(&d).unwrap();
        d
    }

    fn private(path: &Path, text: &str) {
        std::fs::write(path, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
    }

    /// Issue 20 item 2: the password comes from the URL, a file, the
    /// environment or `.pgpass`, in that order, and is never required on
    /// the command line.
    #[test]
    fn the_password_is_found_off_the_command_line() {
        let d = dir("order");
        let file = d.join("db-password");
        private(&file, "from-file\n");
        let pgpass = d.join("pgpass");
        private(
            &pgpass,
            "# comment\nother:5432:hub:hub:wrong-host\ndb.example:*:hub:hub:pa\\:ss\\\\word\n*:*:*:*:fallback\n",
        );
        let none = |_: &str| None;
        let env_pg = |k: &str| match k {
            "PGPASSWORD" => Some("from-env".to_owned()),
            "PGPASSFILE" => Some(pgpass.display().to_string()),
            _ => None,
        };
        let env_file = |k: &str| (k == "PGPASSFILE").then(|| pgpass.display().to_string());
        let db = "postgres://hub@db.example/hub";

        let (url, source) =
            fill_password("postgres://hub:inline@db.example/hub", Some(&file), &env_pg).unwrap();
        assert_eq!(
            (url.as_str(), source),
            ("postgres://hub:inline@db.example/hub", Source::Url)
        );
        let (url, source) = fill_password(db, Some(&file), &env_pg).unwrap();
        assert_eq!(
            (url.as_str(), source),
            ("postgres://hub:from-file@db.example/hub", Source::File)
        );
        let (url, source) = fill_password(db, None, &env_pg).unwrap();
        assert_eq!(
            (url.as_str(), source),
            ("postgres://hub:from-env@db.example/hub", Source::Environment)
        );
        // The .pgpass line for this host, its escapes undone (and the
        // password percent-encoded into the URL).
        let (url, source) = fill_password(db, None, &env_file).unwrap();
        assert_eq!(source, Source::Pgpass);
        assert_eq!(Url::parse(&url).unwrap().password(), Some("pa%3Ass%5Cword"));
        // Another host falls to the `*` line.
        let (url, _) = fill_password("postgres://hub@elsewhere/hub", None, &env_file).unwrap();
        assert_eq!(Url::parse(&url).unwrap().password(), Some("fallback"));
        // Nothing anywhere: the URL as given (trust or peer authentication).
        assert_eq!(
            fill_password(db, None, &none).unwrap(),
            (db.to_owned(), Source::None)
        );
        // A password file that cannot be read, or is empty, is an error.
        assert!(fill_password(db, Some(&d.join("missing")), &none).is_err());
        private(&file, "\n");
        assert!(
            fill_password(db, Some(&file), &none)
                .unwrap_err()
                .contains("empty")
        );
    }

    /// libpq's rule: a password file others can read is not used.
    #[cfg(unix)]
    #[test]
    fn a_pgpass_others_can_read_is_ignored() {
        use std::os::unix::fs::PermissionsExt;
        let d = dir("mode");
        let pgpass = d.join("pgpass");
        private(&pgpass, "*:*:*:*:secret\n");
        std::fs::set_permissions(&pgpass, std::fs::Permissions::from_mode(0o644)).unwrap();
        let env = |k: &str| (k == "PGPASSFILE").then(|| pgpass.display().to_string());
        let (_, source) = fill_password("postgres://hub@db/hub", None, &env).unwrap();
        assert_eq!(source, Source::None);
    }
}
