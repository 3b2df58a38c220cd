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

/// Test hook: panics on purpose so tests can prove a Rust panic becomes a JS error and never kills the process.
/// Does nothing unless the environment variable `CLERK_NATIVE_TEST_PANIC=1` is set at call time.
#[napi_derive::napi(catch_unwind)]
pub fn __test_panic(kind: String) -> napi::Result<()> {
    if std::env::var("CLERK_NATIVE_TEST_PANIC").as_deref() != Ok("1") {
        return Err(napi::Error::new(
            napi::Status::GenericFailure,
            "test hook disabled (set CLERK_NATIVE_TEST_PANIC=1)",
        ));
    }
    panic!("clerk-native test panic ({kind})");
}

/// Async variant of [`__test_panic`]: the panic happens on a tokio worker and must reject the promise.
#[napi_derive::napi]
pub async fn __test_panic_async(kind: String) -> napi::Result<()> {
    if std::env::var("CLERK_NATIVE_TEST_PANIC").as_deref() != Ok("1") {
        return Err(napi::Error::new(
            napi::Status::GenericFailure,
            "test hook disabled (set CLERK_NATIVE_TEST_PANIC=1)",
        ));
    }
    panic!("clerk-native test panic ({kind})");
}
