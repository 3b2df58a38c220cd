//! `authenticateRequest` (SPEC 3.5): where tokens come from, which kinds are accepted, the signed-in /
//! signed-out / handshake outcome. Verification itself is in [`crate::token`].

pub(crate) mod accepts;
pub(crate) mod authenticate;
pub mod cookies;
pub mod extract;
pub mod handshake;
pub mod instance;
pub(crate) mod negative_policy;
pub mod request;
mod resolution;
pub mod resolve;

pub use accepts::AcceptsToken;
pub use authenticate::{
    AuthDecision, AuthInput, AuthOutcome, Authenticator, Carrier, Deferred, Pending,
    SignedOutReason,
};
pub use handshake::{HandshakeReason, StateHeaders};
pub use instance::{Instance, InstanceOptions, InstanceType};
pub use negative_policy::{cached_rejection, is_cacheable_failure};
pub use request::{OrgTarget, RequestContext};
