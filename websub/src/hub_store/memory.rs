//! The in-memory hub store: for tests and ephemeral hubs.

use std::collections::HashMap;
use std::sync::Mutex;

use url::Url;

use super::{HubStore, HubSubscription, Job, lock};
use crate::store::StoreError;

#[derive(Debug)]
struct MemJob {
    job: Job,
    next_at: u64,
    claimed_until: u64,
}

#[derive(Debug, Default)]
struct Mem {
    subs: HashMap<(String, String), HubSubscription>,
    jobs: Vec<MemJob>,
    next_id: u64,
    contents: HashMap<String, Vec<u8>>,
}

/// An in-memory [`HubStore`] for tests and ephemeral hubs: nothing
/// survives the process.
#[derive(Debug, Default)]
pub struct MemoryHubStore {
    inner: Mutex<Mem>,
}

impl MemoryHubStore {
    fn lock(&self) -> std::sync::MutexGuard<'_, Mem> {
        lock(&self.inner)
    }
}

impl HubStore for MemoryHubStore {
    async fn upsert(&self, s: HubSubscription) -> Result<(), StoreError> {
        self.lock()
            .subs
            .insert((s.topic.to_string(), s.callback.to_string()), s);
        Ok(())
    }

    async fn remove(&self, topic: &Url, callback: &Url) -> Result<(), StoreError> {
        self.lock()
            .subs
            .remove(&(topic.to_string(), callback.to_string()));
        Ok(())
    }

    async fn active(&self, topic: &Url, now: u64) -> Result<Vec<HubSubscription>, StoreError> {
        Ok(self
            .lock()
            .subs
            .values()
            .filter(|s| s.topic == *topic && s.expires_at > now)
            .cloned()
            .collect())
    }

    async fn sweep(&self, now: u64) -> Result<usize, StoreError> {
        let mut m = self.lock();
        let before = m.subs.len();
        m.subs.retain(|_, s| s.expires_at > now);
        Ok(before - m.subs.len())
    }

    async fn count(&self) -> Result<usize, StoreError> {
        Ok(self.lock().subs.len())
    }

    async fn enqueue(
        &self,
        topic: &Url,
        content_type: Option<&str>,
        body: Vec<u8>,
        now: u64,
    ) -> Result<usize, StoreError> {
        let mut m = self.lock();
        let body = bytes::Bytes::from(body);
        let subs: Vec<HubSubscription> = m
            .subs
            .values()
            .filter(|s| s.topic == *topic && s.expires_at > now)
            .cloned()
            .collect();
        let n = subs.len();
        for subscription in subs {
            m.next_id += 1;
            let id = m.next_id;
            m.jobs.push(MemJob {
                job: Job {
                    id,
                    subscription,
                    content_type: content_type.map(str::to_owned),
                    body: body.clone(),
                    attempts: 0,
                },
                next_at: now,
                claimed_until: 0,
            });
        }
        Ok(n)
    }

    async fn claim(&self, now: u64, limit: usize, hold: u64) -> Result<Vec<Job>, StoreError> {
        self.claim_spread(now, limit, hold, usize::MAX, &[]).await
    }

    async fn claim_spread(
        &self,
        now: u64,
        limit: usize,
        hold: u64,
        per_host: usize,
        skip: &[String],
    ) -> Result<Vec<Job>, StoreError> {
        let mut m = self.lock();
        let mut out = Vec::new();
        let mut taken: HashMap<String, usize> = HashMap::new();
        for j in m.jobs.iter_mut() {
            if out.len() >= limit {
                break;
            }
            if j.next_at <= now && j.claimed_until <= now {
                let host = super::callback_host(&j.job.subscription.callback);
                if skip.iter().any(|s| s == host) {
                    continue;
                }
                let n = taken.entry(host.to_owned()).or_default();
                if *n >= per_host {
                    continue;
                }
                *n += 1;
                j.claimed_until = now.saturating_add(hold.max(1));
                out.push(j.job.clone());
            }
        }
        Ok(out)
    }

    async fn finish(&self, id: u64) -> Result<(), StoreError> {
        self.lock().jobs.retain(|j| j.job.id != id);
        Ok(())
    }

    async fn finish_many(&self, ids: &[u64]) -> Result<(), StoreError> {
        // One pass over the queue, not one per id.
        let ids: std::collections::HashSet<u64> = ids.iter().copied().collect();
        self.lock().jobs.retain(|j| !ids.contains(&j.job.id));
        Ok(())
    }

    async fn retry(&self, id: u64, attempts: u32, next_at: u64) -> Result<(), StoreError> {
        if let Some(j) = self.lock().jobs.iter_mut().find(|j| j.job.id == id) {
            j.job.attempts = attempts;
            j.next_at = next_at;
            j.claimed_until = 0;
        }
        Ok(())
    }

    async fn queue_depth(&self) -> Result<usize, StoreError> {
        Ok(self.lock().jobs.len())
    }

    async fn last_content(&self, topic: &Url) -> Result<Option<Vec<u8>>, StoreError> {
        Ok(self.lock().contents.get(topic.as_str()).cloned())
    }

    async fn set_last_content(&self, topic: &Url, body: Vec<u8>) -> Result<(), StoreError> {
        self.lock().contents.insert(topic.to_string(), body);
        Ok(())
    }
}
