//! `ostatus-server backup`: consistent copies of a node's databases while
//! it runs, with SQLite's online backup, each checked before it is kept;
//! then its uploaded media.

use std::path::{Path, PathBuf};
use std::time::Duration;

use rusqlite::Connection;

/// The databases of a node's data directory.
pub const FILES: [&str; 3] = ["node.db", "websub.db", "hub.db"];

/// Copies each database of `data` that exists into `to` (created if
/// missing): page by page, in steps, so that a running node is not held
/// up; the copy is a snapshot of one moment, checked with `PRAGMA
/// integrity_check`, written beside its final name and renamed over it only
/// then, so that a failed backup never leaves a half-written copy in place.
/// Returns the copies made.
///
/// # Errors
///
/// A message naming the file when a database cannot be read, copied or
/// checked, or when `data` holds none.
pub fn backup(data: &Path, to: &Path) -> Result<Vec<PathBuf>, String> {
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let mut copied = Vec::new();
    for name in FILES {
        let from = data.join(name);
        if !from.exists() {
            continue;
        }
        let target = to.join(name);
        let partial = to.join(format!("{name}.partial"));
        let _ = std::fs::remove_file(&partial);
        let fail = |what: &str, e: &dyn std::fmt::Display| format!("{}: {what}: {e}", from.display());
        let src = Connection::open_with_flags(&from, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| fail("cannot open", &e))?;
        src.busy_timeout(Duration::from_secs(10))
            .map_err(|e| fail("cannot open", &e))?;
        let mut dst = Connection::open(&partial).map_err(|e| fail("cannot create the copy", &e))?;
        {
            let b = rusqlite::backup::Backup::new(&src, &mut dst).map_err(|e| fail("cannot copy", &e))?;
            b.run_to_completion(256, Duration::from_millis(5), None)
                .map_err(|e| fail("cannot copy", &e))?;
        }
        let check: String = dst
            .query_row("PRAGMA integrity_check", [], |r| r.get(0))
            .map_err(|e| fail("cannot check the copy", &e))?;
        if check != "ok" {
            return Err(fail("the copy is damaged", &check));
        }
        drop(dst);
        std::fs::rename(&partial, &target).map_err(|e| fail("cannot put the copy in place", &e))?;
        copied.push(target);
    }
    if copied.is_empty() {
        return Err(format!(
            "{}: no node.db, websub.db or hub.db here (is it a data directory?)",
            data.display()
        ));
    }
    copied.extend(copy_media(&data.join("media"), &to.join("media"))?);
    Ok(copied)
}

/// Copies the media files (avatars) that `to` lacks. They are named by
/// their content's digest and never changed or removed once written, so
/// copying them after the databases' snapshot copies every file the
/// snapshot names; a file already there is the same file. Each is written
/// beside its name and renamed into place.
fn copy_media(from: &Path, to: &Path) -> Result<Vec<PathBuf>, String> {
    let entries = match std::fs::read_dir(from) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => return Err(format!("{}: {e}", from.display())),
    };
    std::fs::create_dir_all(to).map_err(|e| format!("{}: {e}", to.display()))?;
    let mut copied = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|e| format!("{}: {e}", from.display()))?;
        let name = entry.file_name().to_string_lossy().into_owned();
        // Only the files the node wrote (not its temporary ones).
        if crate::node::media_type_of(&name).is_none() {
            continue;
        }
        let target = to.join(&name);
        if target.exists() {
            continue;
        }
        let partial = to.join(format!(".{name}.partial"));
        std::fs::copy(entry.path(), &partial)
            .and_then(|_| std::fs::rename(&partial, &target))
            .map_err(|e| format!("{}: cannot copy: {e}", entry.path().display()))?;
        copied.push(target);
    }
    Ok(copied)
}
