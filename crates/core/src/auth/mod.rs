//! `authenticateRequest` (SPEC 3.5): where tokens come from, which kinds are accepted, and the signed-in /
//! signed-out outcome. Verification itself is in [`crate::token`].

pub(crate) mod accepts;
pub(crate) mod authenticate;
pub mod extract;
pub(crate) mod negative_policy;
pub mod resolve;

pub use accepts::AcceptsToken;
pub use authenticate::{AuthInput, AuthOutcome, Authenticator, Pending, SignedOutReason};
pub use negative_policy::{cached_rejection, is_cacheable_failure};
