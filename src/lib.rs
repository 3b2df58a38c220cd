//! N-API binding of clerk-native. Only conversions between JS and the core live here; all behaviour is in
//! `clerk_native_core`.
#![deny(clippy::all)]
// `#[napi]` exports are only called from JS, so the unit-test build sees them as unused.
#![cfg_attr(test, allow(dead_code))]

/// mimalloc for every Rust allocation of the addon: buffers and exchanges are allocated on the JS thread and
/// freed on tokio workers (and back), which made glibc's arena locks a measurable part of each request.
///
/// It is napi-rs's `mimalloc-safe` with mimalloc v3.6 (`features = ["v3"]`), not the `mimalloc` crate: that one
/// vendors mimalloc v3.3.2, whose main-thread heap is torn down with the first thread that used it and then adopted
/// by the next thread that reuses its id, so a second worker thread loading the addon crashed
/// (`__test__/workers.test.js`). Its v2 line avoids the crash but held six times the RSS on a 100 MB download (66 MB
/// against 10.9 MB). mimalloc-safe builds mimalloc with CMake.
#[global_allocator]
static GLOBAL: mimalloc_safe::MiMalloc = mimalloc_safe::MiMalloc;

mod cache;
mod error;
mod headers;
mod metrics;
mod proxy;
mod token;
mod webhook;

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

#[cfg(test)]
mod allocator_tests {
    /// `mi_option_arena_eager_commit` in mimalloc v3's `mi_option_e` (the version `libmimalloc-sys2` builds with
    /// its `v3` feature); libmimalloc-sys2 has no constant for it. Without the define this test reads 2, mimalloc's default
    /// for this option, which confirms the number.
    const MI_OPTION_ARENA_EAGER_COMMIT: libmimalloc_sys2::mi_option_t = 4;

    #[test]
    fn mimalloc_commits_its_arena_on_demand() {
        // The environment variable would override the compiled default; the build default is what is checked.
        if std::env::var_os("MIMALLOC_ARENA_EAGER_COMMIT").is_some() {
            return;
        }
        // 2 (mimalloc's own default) means "eagerly on Linux": the define from .cargo/config.toml did not reach
        // the C build.
        let value = unsafe { libmimalloc_sys2::mi_option_get(MI_OPTION_ARENA_EAGER_COMMIT) };
        assert_eq!(
            value, 0,
            "mimalloc was built without -DMI_DEFAULT_ARENA_EAGER_COMMIT=0 (.cargo/config.toml)"
        );
    }
}
