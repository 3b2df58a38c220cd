//! The process-wide upstream HTTP client of the proxy, built by the core's one client builder
//! ([`crate::transport::proxy_client`]: no redirects, no system proxy, keep-alive pool, 10 s connect timeout).

use std::sync::OnceLock;

use crate::transport::{proxy_client, ClientError};

/// The process-wide upstream client, or why it could not be built (then every exchange answers 502: there is no
/// silent fallback to a client with another policy).
pub fn shared_client() -> Result<&'static reqwest::Client, &'static ClientError> {
    static CLIENT: OnceLock<Result<reqwest::Client, ClientError>> = OnceLock::new();
    CLIENT.get_or_init(proxy_client).as_ref()
}
