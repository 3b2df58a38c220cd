//! The invalidation subscriber: one pub/sub connection per process on `<prefix>invalidate`, reconnecting with
//! backoff. A message from another process is applied to the local caches (never re-published). When the
//! subscription comes back after a loss, invalidations sent meanwhile may have been missed, so the local
//! negative, verified and identity caches are cleared (they only save work; correctness never depends on them).

use std::sync::atomic::Ordering;
use std::sync::Weak;
use std::time::Duration;

use futures_util::StreamExt;

use super::keys::Message;
use super::tier::SharedTier;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
const MIN_BACKOFF: Duration = Duration::from_millis(50);
const MAX_BACKOFF: Duration = Duration::from_secs(1);

/// Runs until the tier is dropped (its handle aborts this task).
pub(crate) async fn run(tier: Weak<SharedTier>) {
    let mut backoff = MIN_BACKOFF;
    let mut subscribed_before = false;
    loop {
        let Some(t) = tier.upgrade() else { return };
        let (client, channel, origin, counters) = (
            t.client.clone(),
            t.keys.channel(),
            t.origin.clone(),
            t.counters.clone(),
        );
        drop(t);
        if let Ok(Ok(mut pubsub)) =
            tokio::time::timeout(CONNECT_TIMEOUT, client.get_async_pubsub()).await
        {
            let subscribed =
                tokio::time::timeout(CONNECT_TIMEOUT, pubsub.subscribe(&channel)).await;
            if matches!(subscribed, Ok(Ok(()))) {
                if subscribed_before {
                    super::apply_missed();
                }
                subscribed_before = true;
                backoff = MIN_BACKOFF;
                counters.subscribed.store(true, Ordering::Relaxed);
                counters.connected.store(true, Ordering::Relaxed);
                let mut messages = pubsub.into_on_message();
                while let Some(msg) = messages.next().await {
                    let decoded = msg
                        .get_payload::<String>()
                        .ok()
                        .and_then(|text| Message::decode(&text).map(|(o, m)| (o != origin, m)));
                    match decoded {
                        Some((true, m)) => {
                            super::apply(m);
                            counters.received.fetch_add(1, Ordering::Relaxed);
                        }
                        Some((false, _)) => {}
                        None => {
                            counters.errors.fetch_add(1, Ordering::Relaxed);
                        }
                    }
                }
                counters.subscribed.store(false, Ordering::Relaxed);
            }
        }
        tokio::time::sleep(backoff).await;
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}
