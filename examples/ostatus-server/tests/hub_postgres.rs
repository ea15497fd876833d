//! WS-HUB-16 across processes: two `ostatus-server hub` processes on one
//! PostgreSQL database share the delivery queue. A publish received by one
//! is delivered by both together, every subscriber gets it exactly once,
//! and killing one process mid-fan-out loses nothing.
//!
//! Needs a PostgreSQL server: `OSTATUS_TEST_POSTGRES_URL` (`.ci/postgres.sh
//! start` prints one); without it the test says it was skipped.
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

mod common;

use std::time::Duration;

use common::{metric, post, q, start_hub, start_world, subscribe_all, until, until_stored};
use ostatus_websub::hub_store::PostgresHubStore;

const SUBSCRIBERS: u32 = 40;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
#[ignore = "needs PostgreSQL: OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one); .ci/run runs it"]
async fn two_hub_processes_share_one_postgres_queue() {
    let url = std::env::var("OSTATUS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("this test needs a PostgreSQL server: set OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one)");
    // A schema of the test's own, created here and named in the URL both
    // processes get.
    let schema = format!("t_two_hubs_{}", std::process::id());
    PostgresHubStore::connect_in_schema(&url, &schema, 1)
        .await
        .unwrap();
    let sep = if url.contains('?') { '&' } else { '?' };
    let db = format!("{url}{sep}options=-csearch_path%3D{schema}");

    let (world, base) = start_world(Duration::from_millis(100)).await;
    let a = start_hub(&db, &["--timeout", "1"]);
    let mut b = start_hub(&db, &["--timeout", "1"]);
    subscribe_all(&a.url, &base, SUBSCRIBERS).await;
    until("verifications", || world.lock().unwrap().verified == SUBSCRIBERS).await;
    until_stored(&a, u64::from(SUBSCRIBERS)).await;

    // Published through B; A's worker takes its share of the queue.
    let publish = format!("hub.mode=publish&hub.topic={}", q(&format!("{base}/feed")));
    assert_eq!(post(&b.url, publish.clone()).await, 204);
    until("every subscriber", || {
        world
            .lock()
            .unwrap()
            .deliveries
            .values()
            .map(Vec::len)
            .sum::<usize>()
            >= SUBSCRIBERS as usize
    })
    .await;
    // Let any duplicate arrive before counting.
    tokio::time::sleep(Duration::from_millis(500)).await;
    {
        let w = world.lock().unwrap();
        assert_eq!(w.deliveries.len(), SUBSCRIBERS as usize);
        for (n, d) in &w.deliveries {
            assert_eq!(d.len(), 1, "subscriber {n} got {} deliveries", d.len());
        }
    }
    let (from_a, from_b) = (
        metric(&a, "websub_hub_deliveries_ok_total").await,
        metric(&b, "websub_hub_deliveries_ok_total").await,
    );
    assert_eq!(from_a + from_b, u64::from(SUBSCRIBERS));
    assert!(
        from_a > 0 && from_b > 0,
        "both processes delivered: {from_a} + {from_b}"
    );

    // A second entry, published through A; B is killed mid-fan-out. Its
    // claimed jobs come back when their claims lapse and A delivers them;
    // every subscriber ends up with the update (`--timeout 1`: claims are
    // held for 6 s).
    world.lock().unwrap().entries = 2;
    assert_eq!(post(&a.url, publish).await, 204);
    // Killed once it has delivered some of the update, so it dies holding
    // the claims of its next jobs.
    let start = std::time::Instant::now();
    while metric(&b, "websub_hub_deliveries_ok_total").await <= from_b {
        assert!(start.elapsed() < Duration::from_secs(60), "B never took a job");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    b.child.kill().unwrap();
    b.child.wait().unwrap();
    until("every subscriber, after the kill", || {
        world.lock().unwrap().deliveries.values().all(|d| d.len() >= 2)
    })
    .await;
    {
        let w = world.lock().unwrap();
        for (n, d) in &w.deliveries {
            assert!(
                d[1].contains("post 2") && !d[1].contains("post 1"),
                "{n}: {}",
                d[1]
            );
        }
    }
    // The jobs B held when it died are not lost: once their claims lapse,
    // A takes them, and the shared queue drains (a subscriber whose
    // delivery B had sent but not recorded may get it twice: at least once).
    let start = std::time::Instant::now();
    while metric(&a, "websub_hub_queue_depth").await > 0 {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "the queue never drained"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let mut a = a;
    a.child.kill().unwrap();
    a.child.wait().unwrap();
}

/// Issue 20 item 2: the hub's PostgreSQL password need not be on the
/// command line. With the URL's password taken out, the hub connects with
/// it from `--db-password-file`, from `PGPASSWORD`, or from a `.pgpass`
/// (`PGPASSFILE`); with none of them the server (which asks for SCRAM over
/// TCP, `.ci/postgres.sh`) refuses it, and the error does not show a
/// password.
#[test]
#[ignore = "needs PostgreSQL: OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one); .ci/run runs it"]
fn the_hub_reads_its_database_password_off_the_command_line() {
    use std::process::Command;

    let url = std::env::var("OSTATUS_TEST_POSTGRES_URL")
        .ok()
        .filter(|u| !u.is_empty())
        .expect("this test needs a PostgreSQL server: set OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one)");
    let mut bare = url::Url::parse(&url).unwrap();
    let password = bare
        .password()
        .expect("the CI server's URL carries a password")
        .to_owned();
    bare.set_password(None).unwrap();
    let bare = bare.to_string();
    let dir = std::env::temp_dir().join(format!("ostatus-hub-pgpass-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let secret = |name: &str, text: &str| {
        let p = dir.join(name);
        std::fs::write(&p, text).unwrap();
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o600)).unwrap();
        }
        p.display().to_string()
    };
    let file = secret("db-password", &format!("{password}\n"));
    let pgpass = secret("pgpass", &format!("127.0.0.1:*:*:postgres:{password}\n"));
    let nothing = dir.join("no-pgpass").display().to_string();

    // Each source on its own: the hub starts and answers.
    for (flags, env) in [
        (
            vec!["--db-password-file", file.as_str()],
            vec![("PGPASSFILE", nothing.as_str())],
        ),
        (
            vec![],
            vec![
                ("PGPASSWORD", password.as_str()),
                ("PGPASSFILE", nothing.as_str()),
            ],
        ),
        (vec![], vec![("PGPASSFILE", pgpass.as_str())]),
    ] {
        let mut child = Command::new(env!("CARGO_BIN_EXE_ostatus-server"));
        child
            .env_remove("PGPASSWORD")
            .env_remove("OSTATUS_DB_PASSWORD_FILE");
        for (k, v) in &env {
            child.env(k, v);
        }
        let mut hub = common::HubProcess::spawn(child, &bare, &flags);
        let rt = tokio::runtime::Runtime::new().unwrap();
        let ready = rt.block_on(async {
            reqwest::get(hub.url.replace("/hub", "/readyz"))
                .await
                .unwrap()
                .status()
        });
        assert_eq!(ready, 200, "{flags:?} {env:?}");
        hub.child.kill().unwrap();
        let _ = hub.child.wait();
    }

    // No password anywhere: refused by the server, and said so.
    let out = Command::new(env!("CARGO_BIN_EXE_ostatus-server"))
        .args([
            "hub",
            "--listen",
            "127.0.0.1:0",
            "--public-url",
            "http://hub.test/hub",
            "--db",
            &bare,
        ])
        .env_remove("PGPASSWORD")
        .env_remove("OSTATUS_DB_PASSWORD_FILE")
        .env("PGPASSFILE", &nothing)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("password") || err.contains("authentication"),
        "{err}"
    );
    assert!(!err.contains(&password), "{err}");
    let _ = std::fs::remove_dir_all(&dir);
}
