//! cargo-fuzz target `claims`. The input decoding and the invariants are in crates/core/tests/prop_support/mod.rs
//! (`fuzz_one("claims", ..)`), shared with the proptest suite and the corpus replay in `cargo test`.
#![no_main]

#[path = "../../crates/core/tests/prop_support/mod.rs"]
mod support;

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| support::fuzz_one("claims", data));
