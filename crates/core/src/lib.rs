//! `clerk_native_core`: the pure-Rust core of clerk-native (no napi).
//!
//! Layers, lowest first; a module may use only the layers before it (checked by the `layering` unit test, which reads the sources):
//! 1. [`clock`](crate::clock), [`codec`](crate::codec), [`transport`]: time, encodings, the HTTP clients;
//! 2. [`cache`](crate::cache): bounded TTL caches, generic over what they hold;
//! 3. [`jwt`](crate::jwt): decoding, keys, the error vocabulary;
//! 4. [`jwks`](crate::jwks): remote key sets and the Backend API client state;
//! 5. [`token`](crate::token): `verifyToken`, machine tokens, claims and the auth object;
//! 6. [`auth`](crate::auth): `authenticateRequest`, and the policy of what the negative cache remembers.
//!
//! [`proxy`] stands apart: it uses layer 1 only.

// Layer 1.
pub mod clock;
pub mod codec;
pub mod transport;

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
