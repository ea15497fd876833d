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

use ostatus_websub::hub_store::{HubStore, HubSubscription, MemoryHubStore};
use url::Url;

fn u(s: &str) -> Url {
    Url::parse(s).unwrap()
}

fn sub(topic: &str, cb: &str, expires_at: u64) -> HubSubscription {
    HubSubscription {
        topic: u(topic),
        callback: u(cb),
        secret: Some("s".into()),
        expires_at,
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
}

#[cfg(feature = "sqlite")]
#[tokio::test]
async fn sqlite_hub_store_and_durability() {
    use ostatus_websub::hub_store::SqliteHubStore;
    suite(&SqliteHubStore::in_memory().unwrap()).await;
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
