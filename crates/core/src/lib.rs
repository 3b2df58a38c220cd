//! `clerk_native_core`: the pure-Rust core of clerk-native (no napi).
//!
//! Layers, lowest first; a module may use only the layers before it (checked by the `layering` unit test, which
//! reads the sources):
//! 1. counters, time, encodings, the HTTP clients and webhook signatures: [`metrics`], [`clock`], [`codec`],
//!    [`transport`], [`webhook`];
//! 2. bounded TTL caches, generic over what they hold: [`cache`];
//! 3. decoding, keys and the error vocabulary: [`jwt`];
//! 4. remote key sets and the Backend API client state: [`jwks`];
//! 5. `verifyToken`, machine tokens, claims and the auth object: [`token`];
//! 6. `authenticateRequest` with the handshake family (cookies, instance, request facts, handshake, resolution
//!    and refresh over the Backend API), and the policy of what the negative cache remembers: [`auth`].
//!
//! [`proxy`] stands apart: it uses layer 1 only.

#![forbid(unsafe_code)]

// Layer 1.
pub mod clock;
pub mod codec;
pub mod metrics;
pub mod transport;
pub mod webhook;

// Layer 2.
pub mod cache;

// Layer 3.
pub mod jwt;

// Layer 4.
pub mod jwks;

// Layer 5.
pub mod token;

// Layer 6.
pub mod auth;

// Beside the layers, on layer 1 only.
pub mod proxy;

#[cfg(test)]
mod layering;
