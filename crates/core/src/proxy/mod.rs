//! Frontend API proxy: everything between the app's request and Clerk's Frontend API (SPEC §1).
//!
//! Request side: [`config`] (options, validation, the upstream request), [`path`], [`fapi_url`],
//! [`publishable_key`], [`headers`] (hygiene). Response side: [`response`] (the client-facing head, pure),
//! [`location`]. The engine: [`exchange`] (the caller's handle), [`task`] (the background work), [`upload`] (the
//! streamed request body), [`client`] (the shared upstream client). Failures: [`error`].

pub mod client;
pub mod config;
pub mod error;
pub mod exchange;
pub mod fapi_url;
pub mod headers;
pub mod location;
pub mod path;
pub mod publishable_key;
pub mod response;
mod task;
mod upload;

pub use config::{IncomingRequest, PreparedRequest, ProxyConfig, ProxyOptions};
pub use error::{BodyError, ProxyError};
pub use exchange::{exchange_counts, BodyInput, Exchange, ExchangeCounts, ReadInto, WriteOutcome};
pub use response::ResponseHead;
