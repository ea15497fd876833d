//! `docs/spec-coverage.md` stays true: every requirement it calls
//! **tested** is still named by a test in the file it gives, every ID is
//! listed once, every requirement the checker reports on (`docs/checklist.md`)
//! is listed, and the totals add up.
#![allow(clippy::unwrap_used, clippy::expect_used, clippy::panic)]

use std::collections::{BTreeMap, HashSet};

fn root() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

#[test]
fn the_coverage_table_is_true() {
    let doc = std::fs::read_to_string(root().join("docs/spec-coverage.md")).unwrap();
    let mut seen = HashSet::new();
    let mut totals: BTreeMap<String, usize> = BTreeMap::new();
    for line in doc
        .lines()
        .filter(|l| l.starts_with("| ") && !l.starts_with("| ID "))
    {
        let cells: Vec<&str> = line.split(" | ").collect();
        let [id, _level, status, where_] = cells.as_slice() else {
            panic!("not a row of four cells: {line}");
        };
        let id = id.trim_start_matches("| ");
        assert!(seen.insert(id.to_owned()), "{id} is listed twice");
        let status = *status;
        assert!(
            ["tested", "implemented", "not implemented", "not applicable"].contains(&status),
            "{id}: unknown status {status:?}"
        );
        *totals.entry(status.to_owned()).or_default() += 1;
        assert!(
            where_.trim_end_matches(" |").len() > 3,
            "{id}: no place or reason"
        );
        if status == "tested" {
            // Each file named must exist and name the ID.
            let files: Vec<&str> = where_.split('`').skip(1).step_by(2).collect();
            assert!(!files.is_empty(), "{id}: tested, but no file given");
            for f in files {
                let text =
                    std::fs::read_to_string(root().join(f)).unwrap_or_else(|e| panic!("{id}: {f}: {e}"));
                assert!(text.contains(id), "{id}: {f} no longer names it");
            }
        }
    }
    assert!(seen.len() > 250, "only {} requirements listed", seen.len());
    let said = doc
        .lines()
        .find_map(|l| l.strip_prefix("Totals: "))
        .expect("a Totals line");
    for (status, n) in &totals {
        assert!(
            said.contains(&format!("{status} {n}")),
            "Totals say {said:?}, the table has {status} {n}"
        );
    }
    // Every requirement the checker reports on is in the table.
    let checklist = std::fs::read_to_string(root().join("docs/checklist.md")).unwrap();
    for l in checklist.lines().filter_map(|l| l.strip_prefix("### ")) {
        let id = l.split(' ').next().unwrap();
        assert!(
            seen.contains(id),
            "{id} (docs/checklist.md) is not in docs/spec-coverage.md"
        );
    }
}
