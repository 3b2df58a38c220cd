//! The process-wide upstream HTTP client of the proxy.

use std::sync::OnceLock;
use std::time::Duration;

/// The process-wide upstream client: keep-alive pool, no redirects, no system proxy, identity encoding
/// requested by the caller's headers, gzip/deflate/br decoded if the upstream sends them anyway.
pub fn shared_client() -> &'static reqwest::Client {
    static CLIENT: OnceLock<reqwest::Client> = OnceLock::new();
    CLIENT.get_or_init(|| {
        let _ = rustls::crypto::ring::default_provider().install_default();
        reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .no_proxy()
            .tcp_nodelay(true)
            .pool_idle_timeout(Duration::from_secs(60))
            .pool_max_idle_per_host(256)
            .connect_timeout(Duration::from_secs(10))
            .build()
            .unwrap_or_else(|_| reqwest::Client::new())
    })
}
