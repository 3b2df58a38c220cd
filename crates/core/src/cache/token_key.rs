//! Hashed cache keys for tokens: no raw token or secret is ever held by a cache.
//!
//! - [`Scope`]: a 32-byte namespace. For the negative cache it is the Clerk instance
//!   ([`Scope::instance`]: SHA-256 of `apiUrl`, NUL, SHA-256(secretKey)); for the verified cache it is the
//!   fingerprint of the verification options ([`Scope::from_parts`]).
//! - [`TokenDigest`]: SHA-256 of the token alone, what a fleet invalidation message carries (`shared`), so that
//!   a receiving process can find the token under each of *its* scopes without the raw token crossing Redis.
//! - [`TokenKey`]: SHA-256 of (scope, 0x00, SHA-256(token)). Both parts have a fixed length, so the encoding is
//!   unambiguous; the same key names the entry locally and (hex) in the shared tier.
//!
//! `Debug` shows only the first 4 bytes in hex.

use std::fmt;
use std::hash::{Hash, Hasher};

use ring::digest::{digest, Context, SHA256};

fn sha256(ctx: Context) -> [u8; 32] {
    let mut out = [0u8; 32];
    out.copy_from_slice(ctx.finish().as_ref());
    out
}

fn short_hex(f: &mut fmt::Formatter<'_>, name: &str, bytes: &[u8; 32]) -> fmt::Result {
    write!(
        f,
        "{name}({:02x}{:02x}{:02x}{:02x}…)",
        bytes[0], bytes[1], bytes[2], bytes[3]
    )
}

/// A 32-byte namespace for token keys: an instance, or a verification-options fingerprint.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Scope([u8; 32]);

impl Scope {
    /// The scope of a Clerk instance: SHA-256(`api_url` ‖ 0x00 ‖ SHA-256(`secret_key`)). The raw secret is not
    /// kept. The inner hash has a fixed length, so no two (url, key) pairs share an encoding.
    pub fn instance(api_url: &str, secret_key: &str) -> Self {
        let secret = digest(&SHA256, secret_key.as_bytes());
        let mut ctx = Context::new(&SHA256);
        ctx.update(api_url.as_bytes());
        ctx.update(&[0]);
        ctx.update(secret.as_ref());
        Self(sha256(ctx))
    }

    /// A scope from any number of byte strings, each prefixed by its length (u64, big-endian), so distinct lists
    /// never collide: e.g. the verification options that matter (key source, authorized parties, audience,
    /// header type, skew) for the verified cache. Hash secrets (e.g. a secret key) before passing them.
    pub fn from_parts<'a>(parts: impl IntoIterator<Item = &'a [u8]>) -> Self {
        let mut ctx = Context::new(&SHA256);
        for part in parts {
            ctx.update(&(part.len() as u64).to_be_bytes());
            ctx.update(part);
        }
        Self(sha256(ctx))
    }

    /// A scope from a digest the caller computed (e.g. read back from the shared tier's scope set).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for Scope {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        short_hex(f, "Scope", &self.0)
    }
}

/// SHA-256 of a token: what fleet invalidations carry instead of the token (see the module docs).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenDigest([u8; 32]);

impl TokenDigest {
    /// The digest of `token`.
    pub fn of(token: &str) -> Self {
        let mut out = [0u8; 32];
        out.copy_from_slice(digest(&SHA256, token.as_bytes()).as_ref());
        Self(out)
    }

    /// A digest received from elsewhere (a fleet message).
    pub const fn from_bytes(bytes: [u8; 32]) -> Self {
        Self(bytes)
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

impl fmt::Debug for TokenDigest {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        short_hex(f, "TokenDigest", &self.0)
    }
}

/// The key of one token in one scope: SHA-256(scope ‖ 0x00 ‖ SHA-256(token)).
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct TokenKey([u8; 32]);

impl TokenKey {
    /// The key of `token` within `scope`.
    pub fn new(scope: &Scope, token: &str) -> Self {
        Self::from_digest(scope, &TokenDigest::of(token))
    }

    /// The key of the token whose [`TokenDigest`] is `token` within `scope`.
    pub fn from_digest(scope: &Scope, token: &TokenDigest) -> Self {
        let mut ctx = Context::new(&SHA256);
        ctx.update(&scope.0);
        ctx.update(&[0]);
        ctx.update(&token.0);
        Self(sha256(ctx))
    }

    /// The 32 bytes.
    pub const fn as_bytes(&self) -> &[u8; 32] {
        &self.0
    }
}

/// Feeds only the first 8 bytes to the (randomly keyed) hasher: the key is already a uniform SHA-256 output, and
/// equality still compares all 32 bytes.
impl Hash for TokenKey {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut head = [0u8; 8];
        head.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(head));
    }
}

impl fmt::Debug for TokenKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        short_hex(f, "TokenKey", &self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        b.iter().map(|x| format!("{x:02x}")).collect()
    }

    #[test]
    fn token_key_is_sha256_of_scope_nul_token_digest() {
        let scope = Scope::from_bytes([7u8; 32]);
        let mut input = vec![7u8; 32];
        input.push(0);
        input.extend_from_slice(digest(&SHA256, b"oat_abc").as_ref());
        let expected = digest(&SHA256, &input);
        assert_eq!(
            TokenKey::new(&scope, "oat_abc").as_bytes(),
            expected.as_ref()
        );
    }

    #[test]
    fn instance_scope_hashes_the_secret() {
        let sk = digest(&SHA256, b"sk_test_xxx");
        let mut input = b"https://api.clerk.com".to_vec();
        input.push(0);
        input.extend_from_slice(sk.as_ref());
        assert_eq!(
            Scope::instance("https://api.clerk.com", "sk_test_xxx").as_bytes(),
            digest(&SHA256, &input).as_ref()
        );
        assert_ne!(
            Scope::instance("https://api.clerk.com", "sk_test_xxx"),
            Scope::instance("https://api.clerk.com", "sk_test_yyy")
        );
        assert_ne!(
            Scope::instance("https://api.clerk.com", "sk_test_xxx"),
            Scope::instance("https://api.clerkstage.dev", "sk_test_xxx")
        );
    }

    #[test]
    fn scopes_and_tokens_separate() {
        let a = Scope::instance("u", "a");
        let b = Scope::instance("u", "b");
        assert_ne!(TokenKey::new(&a, "oat_1"), TokenKey::new(&b, "oat_1"));
        assert_ne!(TokenKey::new(&a, "oat_1"), TokenKey::new(&a, "oat_2"));
        assert_eq!(TokenKey::new(&a, "oat_1"), TokenKey::new(&a, "oat_1"));
    }

    #[test]
    fn parts_are_length_prefixed() {
        let ab_c = Scope::from_parts([b"ab".as_slice(), b"c".as_slice()]);
        let a_bc = Scope::from_parts([b"a".as_slice(), b"bc".as_slice()]);
        let abc = Scope::from_parts([b"abc".as_slice()]);
        assert_ne!(ab_c, a_bc);
        assert_ne!(ab_c, abc);
        assert_eq!(ab_c, Scope::from_parts([b"ab".as_slice(), b"c".as_slice()]));
    }

    #[test]
    fn debug_shows_only_a_short_prefix() {
        let key = TokenKey::new(&Scope::instance("u", "sk_live_secret"), "oat_secret_token");
        let full = hex(key.as_bytes());
        let shown = format!("{key:?}");
        assert_eq!(shown, format!("TokenKey({}…)", &full[..8]));
        assert!(!shown.contains("secret"));
        let scope = Scope::instance("u", "sk_live_secret");
        assert_eq!(
            format!("{scope:?}"),
            format!("Scope({}…)", &hex(scope.as_bytes())[..8])
        );
    }
}
