//! [`SharedTier`]: one process's connection to the shared Redis tier. Every call runs on the tier's own small
//! tokio runtime (one worker thread), so Redis can neither block nor slow the caller's runtime, and every call is
//! bounded: lookups by `lookupTimeoutMs`, background writes by [`WRITE_TIMEOUT`]. A failure or a lookup over
//! budget is never an error for the caller: it is a miss (the request goes on with local state), counted in
//! [`Counters`] and fed to the [`Breaker`].

use std::collections::HashSet;
use std::future::Future;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use redis::aio::{ConnectionManager, ConnectionManagerConfig};
use redis::RedisResult;
use ring::rand::{SecureRandom, SystemRandom};

use super::breaker::Breaker;
use super::config::CheckedShared;
use super::keys::{hex, Keys, Message};
use crate::cache::token_key::{Scope, TokenKey};
use crate::clock::SystemClock;

/// Budget of the background writes (negative entries, resolved users, invalidations).
pub const WRITE_TIMEOUT: Duration = Duration::from_secs(2);
/// Tries of one fleet invalidation's `PUBLISH` (100, 200, 400 ms apart).
pub const PUBLISH_ATTEMPTS: u32 = 4;
/// Compare-and-delete of a lock: only the holder's lease id releases it.
const RELEASE_SCRIPT: &str =
    "if redis.call('get', KEYS[1]) == ARGV[1] then return redis.call('del', KEYS[1]) else return 0 end";

/// The tier's counters (`cacheStats().shared`, `metrics()`).
#[derive(Debug, Default)]
pub struct Counters {
    /// Lookups answered by Redis.
    pub hits: AtomicU64,
    /// Lookups Redis did not answer (absent).
    pub misses: AtomicU64,
    /// Calls that failed (connection, protocol, unexpected reply), lookups and writes.
    pub errors: AtomicU64,
    /// Lookups that ran over `lookupTimeoutMs` (the request went on without Redis).
    pub timeouts: AtomicU64,
    /// Calls skipped because the breaker was open.
    pub skipped: AtomicU64,
    /// Entries written.
    pub writes: AtomicU64,
    /// Invalidations sent to the fleet.
    pub published: AtomicU64,
    /// Invalidations received from other processes and applied.
    pub received: AtomicU64,
    /// `resolveUser` calls that waited for another process's result.
    pub lock_waits: AtomicU64,
    /// Times the breaker opened.
    pub breaker_opens: AtomicU64,
    /// The last call reached Redis.
    pub connected: AtomicBool,
    /// The invalidation subscription is live.
    pub subscribed: AtomicBool,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

/// Why a call gave no answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Fail {
    /// The breaker is open.
    Skipped,
    /// Over budget.
    Timeout,
    /// Redis failed or answered something unexpected.
    Error,
}

/// What [`SharedTier::identity_acquire`] decided.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Acquired {
    /// Another process resolved this identity: its JSON and remaining TTL in ms.
    Value(String, i64),
    /// This process holds the lock: resolve, then put with this lease id.
    Lease(String),
    /// Redis cannot help now (down, slow, or the holder outlived its lease): resolve locally.
    Unavailable,
}

/// How often the health check looks at the breaker, and how long its `PING` may take.
const HEALTH_INTERVAL: Duration = Duration::from_millis(100);
const PROBE_TIMEOUT: Duration = Duration::from_secs(1);

/// Probes Redis (`PING`) whenever the breaker's cooldown is over; closes or reopens it. Ends with the tier.
async fn health_check(tier: std::sync::Weak<SharedTier>) {
    loop {
        tokio::time::sleep(HEALTH_INTERVAL).await;
        let Some(t) = tier.upgrade() else { return };
        if t.breaker.probe_due() {
            let ping = t
                .call_always(PROBE_TIMEOUT, |mut c| async move {
                    redis::cmd("PING").query_async::<String>(&mut c).await
                })
                .await;
            if ping.is_err() {
                // call_always already reopened it (a failure while half-open doubles the cooldown).
                continue;
            }
        }
    }
}

/// One process's shared tier. See the module docs.
pub struct SharedTier {
    pub(crate) rt: tokio::runtime::Handle,
    conn: ConnectionManager,
    pub(crate) client: redis::Client,
    pub(crate) keys: Keys,
    pub(crate) budget: Duration,
    pub(crate) budget_ms: u64,
    lease_ms: u64,
    pub(crate) origin: String,
    pub(crate) breaker: Breaker,
    pub(crate) counters: Arc<Counters>,
    known_scopes: Mutex<HashSet<Scope>>,
    /// The subscriber and health-check tasks, aborted on drop.
    subscriber: Mutex<Vec<tokio::task::AbortHandle>>,
    rng: SystemRandom,
}

impl std::fmt::Debug for SharedTier {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SharedTier")
            .field("keys", &self.keys)
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl Drop for SharedTier {
    fn drop(&mut self) {
        for h in self
            .subscriber
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .drain(..)
        {
            h.abort();
        }
    }
}

impl SharedTier {
    /// Connects lazily (the first call connects; reconnection is automatic) on `rt`.
    pub(crate) fn start(
        rt: &tokio::runtime::Handle,
        settings: CheckedShared,
    ) -> RedisResult<Arc<Self>> {
        let config = ConnectionManagerConfig::new()
            .set_connection_timeout(Some(Duration::from_millis(500)))
            .set_response_timeout(Some(Duration::from_secs(1)))
            .set_number_of_retries(2)
            .set_max_delay(Duration::from_millis(500));
        let conn = {
            let _entered = rt.enter();
            ConnectionManager::new_lazy_with_config(settings.client.clone(), config)?
        };
        let rng = SystemRandom::new();
        let mut id = [0u8; 8];
        let _ = rng.fill(&mut id);
        let tier = Arc::new(Self {
            rt: rt.clone(),
            conn,
            client: settings.client,
            keys: Keys::new(&settings.key_prefix),
            budget: Duration::from_millis(settings.lookup_timeout_ms),
            budget_ms: settings.lookup_timeout_ms,
            lease_ms: settings.lock_lease_ms,
            origin: hex(&id),
            breaker: Breaker::new(Arc::new(SystemClock)),
            counters: Arc::new(Counters::default()),
            known_scopes: Mutex::new(HashSet::new()),
            subscriber: Mutex::new(Vec::new()),
            rng,
        });
        let subscriber = rt.spawn(super::subscriber::run(Arc::downgrade(&tier)));
        let health = rt.spawn(health_check(Arc::downgrade(&tier)));
        tier.subscriber
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .extend([subscriber.abort_handle(), health.abort_handle()]);
        Ok(tier)
    }

    /// The lookup budget (`lookupTimeoutMs`).
    pub fn lookup_timeout_ms(&self) -> u64 {
        self.budget_ms
    }

    /// The counters.
    pub fn counters(&self) -> &Counters {
        &self.counters
    }

    /// Runs one Redis call within `budget` (on the tier's runtime), through the breaker.
    async fn call<T, F, Fut>(&self, budget: Duration, f: F) -> Result<T, Fail>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        if !self.breaker.allow() {
            bump(&self.counters.skipped);
            return Err(Fail::Skipped);
        }
        self.call_always(budget, f).await
    }

    /// As [`call`](Self::call), but tried even while the breaker is open (invalidations: dropping one would leave
    /// other processes serving what was invalidated). The outcome still feeds the breaker.
    async fn call_always<T, F, Fut>(&self, budget: Duration, f: F) -> Result<T, Fail>
    where
        F: FnOnce(ConnectionManager) -> Fut,
        Fut: Future<Output = RedisResult<T>>,
    {
        let started = Instant::now();
        let result = tokio::time::timeout(budget, f(self.conn.clone())).await;
        crate::metrics::SHARED_CALL_SECONDS.observe(started.elapsed());
        match result {
            Ok(Ok(v)) => {
                self.breaker.success();
                self.counters.connected.store(true, Ordering::Relaxed);
                Ok(v)
            }
            Ok(Err(_)) => {
                bump(&self.counters.errors);
                self.counters.connected.store(false, Ordering::Relaxed);
                self.failed();
                Err(Fail::Error)
            }
            Err(_) => {
                bump(&self.counters.timeouts);
                self.failed();
                Err(Fail::Timeout)
            }
        }
    }

    fn failed(&self) {
        if self.breaker.failure() {
            bump(&self.counters.breaker_opens);
        }
    }

    /// Runs `work` on the tier's runtime and waits for it (a panic or shutdown there is a `None`).
    async fn on_tier<T: Send + 'static>(
        self: &Arc<Self>,
        work: impl FnOnce(Arc<Self>) -> std::pin::Pin<Box<dyn Future<Output = T> + Send>>,
    ) -> Option<T> {
        let fut = work(Arc::clone(self));
        self.rt.spawn(fut).await.ok()
    }

    /// Runs `work` on the tier's runtime without waiting.
    fn in_background(
        self: &Arc<Self>,
        work: impl FnOnce(Arc<Self>) -> std::pin::Pin<Box<dyn Future<Output = ()> + Send>>,
    ) {
        let fut = work(Arc::clone(self));
        drop(self.rt.spawn(fut));
    }

    fn hit_or_miss<T>(&self, found: Option<T>) -> Option<T> {
        bump(if found.is_some() {
            &self.counters.hits
        } else {
            &self.counters.misses
        });
        found
    }

    // ---- negative cache ----

    /// Whether the negative entry `key` is in Redis: its remaining TTL in ms on a hit.
    pub async fn negative_lookup(self: &Arc<Self>, key: &TokenKey) -> Option<i64> {
        let name = self.keys.negative(key);
        self.on_tier(move |me| {
            Box::pin(async move {
                let pttl = me
                    .call(me.budget, |mut c| async move {
                        redis::cmd("PTTL")
                            .arg(&name)
                            .query_async::<i64>(&mut c)
                            .await
                    })
                    .await
                    .ok()?;
                me.hit_or_miss((pttl > 0).then_some(pttl))
            })
        })
        .await
        .flatten()
    }

    /// Writes the negative entry `key` (of `scope`) for `ttl_ms`, in the background.
    pub fn negative_put(self: &Arc<Self>, scope: &Scope, key: &TokenKey, ttl_ms: i64) {
        let name = self.keys.negative(key);
        let new_scope = self
            .known_scopes
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(*scope);
        let scope_hex = new_scope.then(|| hex(scope.as_bytes()));
        self.in_background(move |me| {
            Box::pin(async move {
                let scopes = me.keys.negative_scopes();
                let done = me
                    .call(WRITE_TIMEOUT, |mut c| async move {
                        let mut p = redis::pipe();
                        p.cmd("SET")
                            .arg(&name)
                            .arg("1")
                            .arg("PX")
                            .arg(ttl_ms.max(1))
                            .ignore();
                        if let Some(s) = &scope_hex {
                            p.cmd("SADD").arg(&scopes).arg(s).ignore();
                        }
                        p.query_async::<()>(&mut c).await
                    })
                    .await;
                if done.is_ok() {
                    bump(&me.counters.writes);
                } else if new_scope {
                    // Record the scope again with the next write.
                    if let Ok(mut known) = me.known_scopes.lock() {
                        known.clear();
                    }
                }
            })
        });
    }

    // ---- identity cache ----

    fn lease_id(&self) -> String {
        let mut b = [0u8; 16];
        let _ = self.rng.fill(&mut b);
        hex(&b)
    }

    /// The resolved user under `hash`, or the lock to resolve it, or [`Acquired::Unavailable`]. Waits (polling,
    /// at most the lease plus one budget) while another process holds the lock; a holder that dies never blocks
    /// beyond its lease.
    pub async fn identity_acquire(self: &Arc<Self>, hash: [u8; 32]) -> Acquired {
        self.on_tier(move |me| Box::pin(async move { me.acquire(hash).await }))
            .await
            .unwrap_or(Acquired::Unavailable)
    }

    async fn acquire(self: Arc<Self>, hash: [u8; 32]) -> Acquired {
        let (value_key, lock_key) = (self.keys.identity(&hash), self.keys.lock(&hash));
        let deadline = Instant::now() + Duration::from_millis(self.lease_ms) + self.budget;
        let mut waited = false;
        loop {
            // Value, and whether the lock is held, in one round trip.
            let (v, k) = (value_key.clone(), lock_key.clone());
            let Ok((value, value_ttl, lock_ttl)) = self
                .call(self.budget, |mut c| async move {
                    redis::pipe()
                        .cmd("GET")
                        .arg(&v)
                        .cmd("PTTL")
                        .arg(&v)
                        .cmd("PTTL")
                        .arg(&k)
                        .query_async::<(Option<String>, i64, i64)>(&mut c)
                        .await
                })
                .await
            else {
                return Acquired::Unavailable;
            };
            if let Some(json) = value {
                bump(&self.counters.hits);
                return Acquired::Value(json, value_ttl);
            }
            if lock_ttl <= 0 {
                let lease = self.lease_id();
                let (k, l, px) = (lock_key.clone(), lease.clone(), self.lease_ms);
                let taken = self
                    .call(self.budget, |mut c| async move {
                        redis::cmd("SET")
                            .arg(&k)
                            .arg(&l)
                            .arg("NX")
                            .arg("PX")
                            .arg(px)
                            .query_async::<Option<String>>(&mut c)
                            .await
                    })
                    .await;
                match taken {
                    Ok(Some(_)) => {
                        bump(&self.counters.misses);
                        return Acquired::Lease(lease);
                    }
                    Ok(None) => {} // another process won the race: wait for it
                    Err(_) => return Acquired::Unavailable,
                }
            }
            if !waited {
                waited = true;
                bump(&self.counters.lock_waits);
            }
            let now = Instant::now();
            if now >= deadline {
                return Acquired::Unavailable;
            }
            tokio::time::sleep(Duration::from_millis(5).min(deadline - now)).await;
        }
    }

    /// Stores a resolved user under `hash` for `ttl_ms` (indexed by its hashed user and organization, whose
    /// indexes live `index_ttl_ms`), then releases `lease` if given. In the background.
    pub fn identity_put(
        self: &Arc<Self>,
        hash: [u8; 32],
        index: ([u8; 32], Option<[u8; 32]>),
        json: String,
        ttl_ms: i64,
        index_ttl_ms: i64,
        lease: Option<String>,
    ) {
        self.in_background(move |me| {
            Box::pin(async move {
                let keys = me.keys.clone();
                let value_key = keys.identity(&hash);
                let lock_key = keys.lock(&hash);
                let done = me
                    .call(WRITE_TIMEOUT, |mut c| async move {
                        let mut p = redis::pipe();
                        p.cmd("SET")
                            .arg(&value_key)
                            .arg(&json)
                            .arg("PX")
                            .arg(ttl_ms.max(1))
                            .ignore();
                        let mut idx = vec![keys.user_index(&index.0)];
                        idx.extend(index.1.map(|o| keys.org_index(&o)));
                        for i in &idx {
                            p.cmd("SADD").arg(i).arg(&value_key).ignore();
                            p.cmd("PEXPIRE")
                                .arg(i)
                                .arg(index_ttl_ms.max(ttl_ms).max(1))
                                .ignore();
                        }
                        if let Some(l) = &lease {
                            p.cmd("EVAL")
                                .arg(RELEASE_SCRIPT)
                                .arg(1)
                                .arg(&lock_key)
                                .arg(l)
                                .ignore();
                        }
                        p.query_async::<()>(&mut c).await
                    })
                    .await;
                if done.is_ok() {
                    bump(&me.counters.writes);
                }
            })
        });
    }

    /// Releases the lock under `hash` if `lease` still holds it (resolveUser failed or gave nothing to share);
    /// tried past an open breaker, so waiters are not held until the lease ends.
    pub fn identity_release(self: &Arc<Self>, hash: [u8; 32], lease: String) {
        self.in_background(move |me| {
            Box::pin(async move {
                let key = me.keys.lock(&hash);
                let _ = me
                    .call_always(WRITE_TIMEOUT, |mut c| async move {
                        redis::cmd("EVAL")
                            .arg(RELEASE_SCRIPT)
                            .arg(1)
                            .arg(&key)
                            .arg(&lease)
                            .query_async::<i64>(&mut c)
                            .await
                    })
                    .await;
            })
        });
    }

    // ---- fleet invalidation ----

    /// Removes what `msg` invalidates from Redis, then publishes it to every process (past an open breaker,
    /// with up to [`PUBLISH_ATTEMPTS`] tries). In the background; the caller has already applied it locally.
    pub fn invalidate(self: &Arc<Self>, msg: Message) {
        self.in_background(move |me| {
            Box::pin(async move {
                let _ = me.delete_for(&msg).await;
                let (channel, text) = (me.keys.channel(), msg.encode(&me.origin));
                for attempt in 0..PUBLISH_ATTEMPTS {
                    let (channel, text) = (channel.clone(), text.clone());
                    let sent = me
                        .call_always(WRITE_TIMEOUT, |mut c| async move {
                            redis::cmd("PUBLISH")
                                .arg(&channel)
                                .arg(&text)
                                .query_async::<i64>(&mut c)
                                .await
                        })
                        .await;
                    if sent.is_ok() {
                        bump(&me.counters.published);
                        return;
                    }
                    tokio::time::sleep(Duration::from_millis(100 << attempt)).await;
                }
            })
        });
    }

    async fn delete_for(&self, msg: &Message) -> Result<(), Fail> {
        // Past an open breaker too (see `call_always`).
        let keys = self.keys.clone();
        match msg.clone() {
            Message::Token { raw, .. } => {
                let set = keys.negative_scopes();
                let mut scopes: Vec<String> = self
                    .call_always(WRITE_TIMEOUT, |mut c| async move {
                        redis::cmd("SMEMBERS")
                            .arg(&set)
                            .query_async::<Vec<String>>(&mut c)
                            .await
                    })
                    .await?;
                scopes.extend(
                    self.known_scopes
                        .lock()
                        .unwrap_or_else(PoisonError::into_inner)
                        .iter()
                        .map(|s| hex(s.as_bytes())),
                );
                let names: Vec<String> = scopes
                    .iter()
                    .filter_map(|s| keys.negative_in(s, &raw))
                    .collect();
                self.unlink(names).await
            }
            Message::Identity { org, user } => {
                let mut sets: Vec<String> = Vec::new();
                sets.extend(user.map(|u| keys.user_index(&u)));
                sets.extend(org.map(|o| keys.org_index(&o)));
                if sets.is_empty() {
                    return Ok(());
                }
                let members_of = sets.clone();
                let members: Vec<String> = self
                    .call_always(WRITE_TIMEOUT, |mut c| async move {
                        redis::cmd("SINTER")
                            .arg(&members_of)
                            .query_async::<Vec<String>>(&mut c)
                            .await
                    })
                    .await?;
                let mut names = members;
                if sets.len() == 1 {
                    names.extend(sets);
                }
                self.unlink(names).await
            }
            Message::Clear(name) => {
                let kinds: &[&str] = match name.as_deref() {
                    None => &["neg", "id", "idx", "scopes"],
                    Some("negative") => &["neg", "scopes"],
                    Some("identity") => &["id", "idx"],
                    Some(_) => &[],
                };
                for kind in kinds {
                    self.scan_unlink(keys.pattern(kind)).await?;
                }
                Ok(())
            }
        }
    }

    async fn unlink(&self, names: Vec<String>) -> Result<(), Fail> {
        for chunk in names.chunks(500) {
            let chunk = chunk.to_vec();
            self.call_always(WRITE_TIMEOUT, |mut c| async move {
                redis::cmd("UNLINK")
                    .arg(&chunk)
                    .query_async::<i64>(&mut c)
                    .await
            })
            .await?;
        }
        Ok(())
    }

    async fn scan_unlink(&self, pattern: String) -> Result<(), Fail> {
        let mut cursor: u64 = 0;
        loop {
            let p = pattern.clone();
            let (next, names): (u64, Vec<String>) = self
                .call_always(WRITE_TIMEOUT, |mut c| async move {
                    redis::cmd("SCAN")
                        .arg(cursor)
                        .arg("MATCH")
                        .arg(&p)
                        .arg("COUNT")
                        .arg(1000)
                        .query_async(&mut c)
                        .await
                })
                .await?;
            self.unlink(names).await?;
            if next == 0 {
                return Ok(());
            }
            cursor = next;
        }
    }
}
