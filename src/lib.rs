//! N-API binding of clerk-native. Only conversions between JS and the core live here; all behaviour is in
//! `clerk_native_core`.
#![deny(clippy::all)]
// `#[napi]` exports are only called from JS, so the unit-test build sees them as unused.
#![cfg_attr(test, allow(dead_code))]

/// mimalloc for every Rust allocation of the addon: buffers and exchanges are allocated on the JS thread and
/// freed on tokio workers (and back), which made glibc's arena locks a measurable part of each request.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod cache;
mod headers;
mod proxy;
mod token;
