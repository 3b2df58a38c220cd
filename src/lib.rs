//! N-API binding of clerk-native. Only conversions between JS and the core live here; all behaviour is in
//! `clerk_native_core`.
#![deny(clippy::all)]
// `#[napi]` exports are only called from JS, so the unit-test build sees them as unused.
#![cfg_attr(test, allow(dead_code))]

mod headers;
mod proxy;
mod token;
