//! Pure encodings shared by every layer above: base64 decoders ([`base64url`]) and JavaScript's formatting of
//! values, numbers and dates in Clerk's messages ([`jsfmt`]). No dependency on the rest of the crate.

pub mod base64url;
pub mod jsfmt;
