//! N-API binding of clerk-native. Only conversions between JS and the core live here; all behaviour is in
//! `clerk_native_core`.
#![deny(clippy::all)]

mod headers;
mod proxy;
