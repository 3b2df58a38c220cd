pub mod auth;
pub mod cache;
pub mod clock;
pub mod jwks;
pub mod proxy;
pub mod token;
pub mod transport;
