//! Frontend API proxy: everything between the app's request and Clerk's Frontend API (SPEC §1).

pub mod config;
pub mod error;
pub mod fapi_url;
pub mod forward;
pub mod headers;
pub mod location;
pub mod path;
pub mod publishable_key;

pub use config::{IncomingRequest, PreparedRequest, ProxyConfig, ProxyOptions};
pub use error::ProxyError;
pub use forward::{
    exchange_counts, BodyError, BodyInput, Exchange, ExchangeCounts, ReadInto, ResponseHead,
    WriteOutcome,
};
