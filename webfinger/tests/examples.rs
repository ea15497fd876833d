//! The crate's examples, run as a user runs them (issue 19 item 2); each
//! needs the features its `[[example]]` requires.
#![allow(clippy::unwrap_used, clippy::panic, dead_code)]

/// Runs the example `name`, built by `cargo test` beside this test, and
/// returns what it printed; fails if it is missing or fails.
fn run_example(name: &str) -> String {
    // target/<profile>/deps/<this test> → target/<profile>/examples/<name>
    let exe = std::env::current_exe().unwrap();
    let path = exe
        .parent()
        .unwrap()
        .parent()
        .unwrap()
        .join("examples")
        .join(name);
    let out = std::process::Command::new(&path)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap_or_else(|e| {
            panic!(
                "{}: {e} (cargo test builds the examples; a filtered run may not)",
                path.display()
            )
        });
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{name}: {}\n{stdout}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

fn has_line(out: &str, prefix: &str) -> bool {
    out.lines().any(|l| l.starts_with(prefix))
}

#[cfg(all(feature = "axum", feature = "client"))]
#[test]
fn axum_app_resolves_its_own_account() {
    let out = run_example("axum_app");
    assert!(has_line(&out, "profile: Some"), "{out}");
    assert!(has_line(&out, "inbox: 1 delivery, signed and kept"), "{out}");
}

#[cfg(feature = "axum")]
#[test]
fn plain_hyper_serves_the_endpoint_as_a_tower_service() {
    let out = run_example("plain_hyper");
    assert!(has_line(&out, "status: HTTP/1.1 200"), "{out}");
    assert!(has_line(&out, "subject: acct:alice@example.org"), "{out}");
}
