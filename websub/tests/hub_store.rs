//! One suite for both hub stores: subscriptions keyed by (topic, callback),
//! and the queue's at-least-once rules (claims hold, lapse and come back;
//! retries reschedule; finish removes), plus SQLite durability.
#![cfg(feature = "hub")]
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing
)]

use ostatus_websub::hub_store::{HubStore, HubSubscription, Job, MemoryHubStore};
use url::Url;

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn sub(topic: &str, cb: &str, expires_at: u64) -> HubSubscription {
    HubSubscription {
        topic: u(topic),
        callback: u(cb),
        secret: Some("s".into()),
        signature_alg: None,
        expires_at,
    }
}

/// Issue 22 item 5: a subscription's own signature algorithm (sha1 for
/// PuSH 0.3/0.4 subscribers) is kept by the store and carried by its jobs.
async fn signature_algorithms_are_kept(s: &impl HubStore) {
    let t = "https://algs.example/feed";
    s.upsert(HubSubscription {
        signature_alg: Some(ostatus_websub::SignatureAlg::Sha1),
        ..sub(t, "https://legacy.example/cb", 1000)
    })
    .await
    .unwrap();
    s.upsert(sub(t, "https://modern.example/cb", 1000)).await.unwrap();
    let mut active = s.active(&u(t), 100).await.unwrap();
    active.sort_by(|a, b| a.callback.as_str().cmp(b.callback.as_str()));
    assert_eq!(active[0].signature_alg, Some(ostatus_websub::SignatureAlg::Sha1));
    assert_eq!(active[1].signature_alg, None);
    assert_eq!(s.enqueue(&u(t), None, b"x".to_vec(), 100).await.unwrap(), 2);
    let mut jobs = s.claim(100, 10, 30).await.unwrap();
    jobs.retain(|j| j.subscription.topic == u(t));
    jobs.sort_by(|a, b| {
        a.subscription
            .callback
            .as_str()
            .cmp(b.subscription.callback.as_str())
    });
    assert_eq!(jobs.len(), 2);
    assert_eq!(
        jobs[0].subscription.signature_alg,
        Some(ostatus_websub::SignatureAlg::Sha1)
    );
    assert_eq!(jobs[1].subscription.signature_alg, None);
    let ids: Vec<u64> = jobs.iter().map(|j| j.id).collect();
    s.finish_many(&ids).await.unwrap();
}

/// Issue 22: a claim spreads over callback hosts. A publish to 3 hosts
/// (4 callbacks each, one of them on a port of its own) queues the jobs
/// mixed; a claim takes at most `per_host` of one host and none of a host
/// in `skip`; what is claimed is not claimed again, and what is left comes
/// to later claims.
async fn claims_spread_over_hosts(s: &impl HubStore) {
    let t = "https://spread.example/feed";
    for h in ["a.example", "b.example", "c.example:8443"] {
        for i in 0..4 {
            s.upsert(sub(t, &format!("https://{h}/cb/{i}"), 1000))
                .await
                .unwrap();
        }
    }
    assert_eq!(s.enqueue(&u(t), None, b"x".to_vec(), 10).await.unwrap(), 12);
    let host = |j: &Job| ostatus_websub::hub_store::callback_host(&j.subscription.callback).to_owned();
    let first = s
        .claim_spread(10, 100, 30, 2, &["b.example".to_owned()])
        .await
        .unwrap();
    let mut hosts: Vec<String> = first.iter().map(host).collect();
    hosts.sort();
    assert_eq!(
        hosts,
        ["a.example", "a.example", "c.example:8443", "c.example:8443"]
    );
    // One per host: three jobs on three hosts.
    let next = s.claim_spread(10, 3, 30, 1, &[]).await.unwrap();
    let mut hosts: Vec<String> = next.iter().map(host).collect();
    hosts.sort();
    hosts.dedup();
    assert_eq!(hosts.len(), 3, "{hosts:?}");
    let rest = s.claim(10, 100, 30).await.unwrap();
    assert_eq!(first.len() + next.len() + rest.len(), 12);
    let ids: Vec<u64> = first.iter().chain(&next).chain(&rest).map(|j| j.id).collect();
    s.finish_many(&ids).await.unwrap();
    assert!(s.claim(100, 100, 30).await.unwrap().is_empty());
    for h in ["a.example", "b.example", "c.example:8443"] {
        for i in 0..4 {
            s.remove(&u(t), &u(&format!("https://{h}/cb/{i}"))).await.unwrap();
        }
    }
}

async fn suite(s: &impl HubStore) {
    let t = "https://blog.example/feed";
    s.upsert(sub(t, "https://a.example/cb", 1000)).await.unwrap();
    s.upsert(sub(t, "https://b.example/cb", 1000)).await.unwrap();
    // WS-HUB-03: a re-subscription replaces, it does not add.
    s.upsert(sub(t, "https://a.example/cb?x", 2000)).await.unwrap();
    s.upsert(sub(t, "https://a.example/cb?x", 3000)).await.unwrap();
    s.upsert(sub("https://other.example/", "https://a.example/cb", 1000))
        .await
        .unwrap();
    s.upsert(sub(t, "https://expired.example/cb", 10)).await.unwrap();
    assert_eq!(s.count().await.unwrap(), 5);
    let mut active = s.active(&u(t), 100).await.unwrap();
    active.sort_by(|a, b| a.callback.as_str().cmp(b.callback.as_str()));
    assert_eq!(active.len(), 3);
    assert_eq!(active[1].expires_at, 3000);

    // One job per active subscription, none for the expired one.
    assert_eq!(
        s.enqueue(&u(t), Some("text/plain"), b"hello".to_vec(), 100)
            .await
            .unwrap(),
        3
    );
    assert_eq!(
        s.enqueue(&u("https://nobody.example/"), None, b"x".to_vec(), 100)
            .await
            .unwrap(),
        0
    );
    assert_eq!(s.queue_depth().await.unwrap(), 3);
    let first = s.claim(100, 2, 30).await.unwrap();
    assert_eq!(first.len(), 2);
    assert_eq!(&first[0].body[..], b"hello");
    assert_eq!(first[0].content_type.as_deref(), Some("text/plain"));
    // Claimed jobs are not handed out again while the claim holds...
    let rest = s.claim(110, 10, 30).await.unwrap();
    assert_eq!(rest.len(), 1);
    assert!(s.claim(120, 10, 30).await.unwrap().is_empty());
    // ...and come back when it lapses (a worker died).
    let back = s.claim(131, 10, 30).await.unwrap();
    assert_eq!(back.len(), 2);
    s.finish(first[0].id).await.unwrap();
    s.retry(first[1].id, 1, 500).await.unwrap();
    assert_eq!(s.queue_depth().await.unwrap(), 3 - 1);
    assert!(
        s.claim(499, 10, 30)
            .await
            .unwrap()
            .iter()
            .all(|j| j.id != first[1].id)
    );
    let retried = s.claim(500, 10, 30).await.unwrap();
    let r = retried.iter().find(|j| j.id == first[1].id).unwrap();
    assert_eq!(r.attempts, 1);
    s.finish_many(&[first[1].id, rest[0].id, 987_654]).await.unwrap();
    assert_eq!(s.queue_depth().await.unwrap(), 0);

    assert_eq!(s.last_content(&u(t)).await.unwrap(), None);
    s.set_last_content(&u(t), b"v1".to_vec()).await.unwrap();
    s.set_last_content(&u(t), b"v2".to_vec()).await.unwrap();
    assert_eq!(s.last_content(&u(t)).await.unwrap().as_deref(), Some(&b"v2"[..]));

    s.remove(&u(t), &u("https://b.example/cb")).await.unwrap();
    assert_eq!(s.sweep(1500).await.unwrap(), 3);
    assert_eq!(s.count().await.unwrap(), 1);
}

#[tokio::test]
async fn memory_hub_store() {
    suite(&MemoryHubStore::default()).await;
    signature_algorithms_are_kept(&MemoryHubStore::default()).await;
    claims_spread_over_hosts(&MemoryHubStore::default()).await;
}

#[cfg(feature = "sqlite")]
/// Issue 20 item 4: a hub file made by the previous release (no schema
/// version) is upgraded in place, its subscriptions kept; a file from a
/// newer build is refused.
#[cfg(feature = "sqlite")]
#[tokio::test]
async fn a_sqlite_hub_file_of_the_previous_version_is_upgraded() {
    use ostatus_websub::hub_store::SqliteHubStore;
    let dir = std::env::temp_dir().join(format!("ostatus-hub-upgrade-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hub.db");
    rusqlite::Connection::open(&path)
        .unwrap()
        .execute_batch(include_str!("fixtures/hub-db-0.1.0.sql"))
        .unwrap();
    let s = SqliteHubStore::open(&path).unwrap();
    let active = s.active(&u("https://old.example/feed"), 100).await.unwrap();
    assert_eq!(active.len(), 1);
    assert_eq!(active[0].signature_alg, None);
    signature_algorithms_are_kept(&s).await;
    // Version 3: jobs carry their callback's host, subscriptions a rank.
    assert_eq!(
        s.enqueue(&u("https://old.example/feed"), None, b"x".to_vec(), 100)
            .await
            .unwrap(),
        1
    );
    assert!(
        s.claim_spread(100, 10, 30, 5, &["sub.example".to_owned()])
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(s.claim_spread(100, 10, 30, 5, &[]).await.unwrap().len(), 1);
    drop(s);
    let version: i64 = rusqlite::Connection::open(&path)
        .unwrap()
        .query_row("PRAGMA user_version", [], |r| r.get(0))
        .unwrap();
    assert_eq!(version, 3);
    rusqlite::Connection::open(&path)
        .unwrap()
        .pragma_update(None, "user_version", 99)
        .unwrap();
    let err = SqliteHubStore::open(&path).err().unwrap();
    assert!(err.to_string().contains("newer build"), "{err}");
    // Issue 16 item 5: a kind a caller can match, not only a message.
    assert!(
        matches!(
            err,
            ostatus_websub::StoreError::NewerSchema { found: 99, known: 3 }
        ),
        "{err:?}"
    );
    // A database failure keeps the driver's error as its source.
    let err = SqliteHubStore::open(dir.join("no/such/dir/hub.db"))
        .err()
        .unwrap();
    assert!(matches!(err, ostatus_websub::StoreError::Database(_)), "{err:?}");
    assert!(std::error::Error::source(&err).is_some());
    std::fs::remove_dir_all(&dir).ok();
}

#[tokio::test]
async fn sqlite_hub_store_and_durability() {
    use ostatus_websub::hub_store::SqliteHubStore;
    suite(&SqliteHubStore::in_memory().unwrap()).await;
    signature_algorithms_are_kept(&SqliteHubStore::in_memory().unwrap()).await;
    claims_spread_over_hosts(&SqliteHubStore::in_memory().unwrap()).await;
    let dir = std::env::temp_dir().join(format!("websub-hub-store-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("hub.db");
    {
        let s = SqliteHubStore::open(&path).unwrap();
        s.upsert(sub("https://t.example/", "https://c.example/", 1000))
            .await
            .unwrap();
        s.enqueue(&u("https://t.example/"), None, b"kept".to_vec(), 1)
            .await
            .unwrap();
        // Claimed by a worker that then "crashes".
        assert_eq!(s.claim(1, 10, 30).await.unwrap().len(), 1);
    }
    // Reopening (the next process) releases the dead process's claims.
    let s = SqliteHubStore::open(&path).unwrap();
    assert_eq!(s.count().await.unwrap(), 1);
    let jobs = s.claim(2, 10, 30).await.unwrap();
    assert_eq!(&jobs[0].body[..], b"kept");
    std::fs::remove_dir_all(&dir).ok();
}

/// The PostgreSQL tests need a server: `.ci/postgres.sh start` runs one and
/// prints the URL to put in `OSTATUS_TEST_POSTGRES_URL`.
#[cfg(feature = "postgres")]
mod postgres {
    use super::*;
    use ostatus_websub::hub_store::PostgresHubStore;
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex};

    /// The server these `#[ignore]`d tests need; they fail without it.
    fn database() -> String {
        std::env::var("OSTATUS_TEST_POSTGRES_URL")
            .ok()
            .filter(|u| !u.is_empty())
            .expect("this test needs a PostgreSQL server: set OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one)")
    }

    fn fresh_schema(name: &str) -> String {
        let nanos = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .subsec_nanos();
        format!("t_{name}_{}_{nanos}", std::process::id())
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL: OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one); .ci/run runs it"]
    async fn postgres_hub_store_passes_the_suite() {
        let url = database();
        let s = PostgresHubStore::connect_in_schema(&url, &fresh_schema("suite"), 4)
            .await
            .unwrap();
        suite(&s).await;
        signature_algorithms_are_kept(&s).await;
        claims_spread_over_hosts(&s).await;
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL: OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one); .ci/run runs it"]
    async fn claims_survive_a_reconnect_and_lapse() {
        let url = database();
        let schema = fresh_schema("durable");
        {
            let s = PostgresHubStore::connect_in_schema(&url, &schema, 2)
                .await
                .unwrap();
            s.upsert(sub("https://t.example/", "https://c.example/", 1000))
                .await
                .unwrap();
            s.enqueue(&u("https://t.example/"), None, b"kept".to_vec(), 1)
                .await
                .unwrap();
            // Claimed by a process that then dies.
            assert_eq!(s.claim(1, 10, 30).await.unwrap().len(), 1);
        }
        // Another process may be alive: the claim holds until it lapses...
        let s = PostgresHubStore::connect_in_schema(&url, &schema, 2)
            .await
            .unwrap();
        assert_eq!(s.count().await.unwrap(), 1);
        assert!(s.claim(2, 10, 30).await.unwrap().is_empty());
        let jobs = s.claim(31, 10, 30).await.unwrap();
        assert_eq!(&jobs[0].body[..], b"kept");
        // ...or an operator who knows it is alone releases it at once.
        assert_eq!(s.release_all_claims().await.unwrap(), 1);
        assert_eq!(s.claim(32, 10, 30).await.unwrap().len(), 1);
    }

    /// Queueing in one process wakes the other's worker at once
    /// (`NOTIFY websub_hub_work`), instead of at its next poll.
    #[tokio::test]
    #[ignore = "needs PostgreSQL: OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one); .ci/run runs it"]
    async fn two_processes_publishing_one_topic_at_once_queue_its_entries_once() {
        // Issue 22 item 4: two stores (two processes' pools) diff and queue
        // the same new content at the same moment; the topic lock lets one
        // queue it and the other find nothing new.
        let url = database();
        let schema = fresh_schema("publish");
        let a = PostgresHubStore::connect_in_schema(&url, &schema, 2)
            .await
            .unwrap();
        let b = PostgresHubStore::connect_in_schema(&url, &schema, 2)
            .await
            .unwrap();
        let t = u("https://t.example/feed");
        for i in 0..50 {
            a.upsert(sub(t.as_str(), &format!("https://c{i}.example/cb"), u64::MAX / 2))
                .await
                .unwrap();
        }
        // What changed since last time, as the Atom diff would say.
        let diff =
            |previous: Option<&[u8]>, current: &[u8]| (previous != Some(current)).then(|| current.to_vec());
        for round in 0..20u8 {
            let body = vec![b'0' + round % 10, round];
            let (x, y) = tokio::join!(
                a.enqueue_changed(&t, None, body.clone(), 1, &diff),
                b.enqueue_changed(&t, None, body.clone(), 1, &diff)
            );
            let (x, y) = (x.unwrap(), y.unwrap());
            assert_eq!(x + y, 50, "round {round}: {x} + {y} jobs");
        }
        assert_eq!(a.queue_depth().await.unwrap(), 20 * 50);
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL: OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one); .ci/run runs it"]
    async fn work_queued_by_one_process_wakes_the_other() {
        let url = database();
        let schema = fresh_schema("notify");
        let a = PostgresHubStore::connect_in_schema(&url, &schema, 2)
            .await
            .unwrap();
        let b = PostgresHubStore::connect_in_schema(&url, &schema, 2)
            .await
            .unwrap();
        let signal = b.work_signal().expect("a store with its own settings listens");
        a.upsert(sub("https://t.example/", "https://c.example/", u64::MAX / 2))
            .await
            .unwrap();
        // The listener connects in the background; queue until it hears.
        let heard = tokio::time::timeout(std::time::Duration::from_secs(20), async {
            loop {
                a.enqueue(&u("https://t.example/"), None, b"x".to_vec(), 1)
                    .await
                    .unwrap();
                if tokio::time::timeout(std::time::Duration::from_millis(500), signal.notified())
                    .await
                    .is_ok()
                {
                    break;
                }
            }
        })
        .await;
        assert!(heard.is_ok(), "no notification reached the other store");
    }

    #[tokio::test]
    #[ignore = "needs PostgreSQL: OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one); .ci/run runs it"]
    async fn schema_names_must_be_plain() {
        let url = database();
        for bad in ["", "1abc", "a;drop table x", "a\"b"] {
            assert!(
                PostgresHubStore::connect_in_schema(&url, bad, 1).await.is_err(),
                "{bad}"
            );
        }
    }

    /// WS-HUB-16 at scale: two stores (two processes' pools) and eight
    /// workers claim from one queue at once; every job is handed out
    /// exactly once, and the contents go with the last job.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    #[ignore = "needs PostgreSQL: OSTATUS_TEST_POSTGRES_URL (.ci/postgres.sh start DIR prints one); .ci/run runs it"]
    async fn concurrent_claimers_share_the_queue_without_overlap() {
        let url = database();
        let schema = fresh_schema("share");
        let a = Arc::new(
            PostgresHubStore::connect_in_schema(&url, &schema, 4)
                .await
                .unwrap(),
        );
        let b = Arc::new(
            PostgresHubStore::connect_in_schema(&url, &schema, 4)
                .await
                .unwrap(),
        );
        let topic = "https://blog.example/feed";
        let subscribers = 250;
        for i in 0..subscribers {
            a.upsert(sub(topic, &format!("https://s{i}.example/cb"), 10_000))
                .await
                .unwrap();
        }
        for n in 0..4 {
            let queued = b
                .enqueue(&u(topic), None, format!("v{n}").into_bytes(), 100)
                .await
                .unwrap();
            assert_eq!(queued, subscribers);
        }
        let seen: Arc<Mutex<HashMap<u64, usize>>> = Arc::default();
        let mut workers = Vec::new();
        for w in 0..8 {
            let store = if w % 2 == 0 { a.clone() } else { b.clone() };
            let seen = seen.clone();
            workers.push(tokio::spawn(async move {
                let mut mine = 0;
                loop {
                    let jobs = store.claim(200, 37, 3600).await.unwrap();
                    if jobs.is_empty() {
                        break mine;
                    }
                    mine += jobs.len();
                    let ids: Vec<u64> = jobs.iter().map(|j| j.id).collect();
                    {
                        let mut seen = seen.lock().unwrap();
                        for id in &ids {
                            *seen.entry(*id).or_default() += 1;
                        }
                    }
                    store.finish_many(&ids).await.unwrap();
                }
            }));
        }
        let mut per_worker = Vec::new();
        for w in workers {
            per_worker.push(w.await.unwrap());
        }
        let seen = seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 4 * subscribers, "every job claimed");
        assert!(seen.values().all(|&n| n == 1), "no job claimed twice");
        assert!(
            per_worker.iter().filter(|&&n| n > 0).count() > 1,
            "{per_worker:?}"
        );
        assert_eq!(a.queue_depth().await.unwrap(), 0);

        // No content is left behind without its jobs.
        let mut config: tokio_postgres::Config = url.parse().unwrap();
        config.options(format!("-csearch_path={schema}"));
        let (client, conn) = config.connect(tokio_postgres::NoTls).await.unwrap();
        tokio::spawn(conn);
        let left: i64 = client
            .query_one("SELECT COUNT(*) FROM websub_hub_contents", &[])
            .await
            .unwrap()
            .get(0);
        assert_eq!(left, 0);
    }
}
