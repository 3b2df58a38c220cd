//! [`VerifyOptions`]: the options of `verifyToken` and their defaults, and [`KeyChoice`], the one rule for which
//! option supplies the key (`jwtKey` > `jwksUrl` > `secretKey`).

use std::fmt;

use crate::jwks::{
    JwksLookup, DEFAULT_API_URL, DEFAULT_API_VERSION, DEFAULT_CACHE_TTL_MS, DEFAULT_COOLDOWN_MS,
};

/// Options of `verifyToken` (Clerk's names in camelCase on the JS side). Empty strings count as unset, as
/// Clerk's `||` does. `Debug` redacts the keys.
#[derive(Clone, PartialEq)]
pub struct VerifyOptions {
    /// `jwtKey`: PEM public key (SPKI or PKCS#1); networkless; takes precedence over everything else.
    pub jwt_key: Option<String>,
    /// `secretKey`: fetches the instance JWKS from the Backend API; also authorizes Backend API machine-token calls.
    pub secret_key: Option<String>,
    /// `machineSecretKey`: authorizes `mt_` verification (falls back to `secret_key`).
    pub machine_secret_key: Option<String>,
    /// `apiUrl` (default `https://api.clerk.com`).
    pub api_url: String,
    /// `apiVersion` (default `v1`).
    pub api_version: String,
    /// `jwksUrl` (ours): any JWKS endpoint, fetched without credentials; preferred over `secretKey` for keys.
    pub jwks_url: Option<String>,
    /// `audience`: accepted `aud` values (checked only when both this and the claim are non-empty).
    pub audience: Vec<String>,
    /// `authorizedParties`: accepted `azp` values; when non-empty, `azp` is required.
    pub authorized_parties: Vec<String>,
    /// `issuer`: accepted `iss` values (a string or a list; empty strings are dropped, as Clerk's
    /// `[issuer].flat().filter(Boolean)`); when non-empty, `iss` must be a string equal to one of them.
    pub issuer: Vec<String>,
    /// `clockSkewInMs` (default 5000; 0 and negative allowed).
    pub clock_skew_ms: i64,
    /// `headerType`: accepted `typ` values. `None` = `["JWT"]`, except that a token without `typ` is then accepted.
    pub header_type: Option<Vec<String>>,
    /// `skipJwksCache`: always refetch the JWKS (the result is still cached).
    pub skip_jwks_cache: bool,
    /// `jwksCacheTtlMs` (ours, default 300000).
    pub jwks_cache_ttl_ms: u64,
    /// `jwksCooldownMs` (ours, default 30000): minimum gap between refetches caused by unknown `kid`s.
    pub jwks_cooldown_ms: u64,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        Self {
            jwt_key: None,
            secret_key: None,
            machine_secret_key: None,
            api_url: DEFAULT_API_URL.to_owned(),
            api_version: DEFAULT_API_VERSION.to_owned(),
            jwks_url: None,
            audience: Vec::new(),
            authorized_parties: Vec::new(),
            issuer: Vec::new(),
            clock_skew_ms: 5_000,
            header_type: None,
            skip_jwks_cache: false,
            jwks_cache_ttl_ms: DEFAULT_CACHE_TTL_MS,
            jwks_cooldown_ms: DEFAULT_COOLDOWN_MS,
        }
    }
}

impl fmt::Debug for VerifyOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let set = |o: &Option<String>| o.as_deref().is_some_and(|s| !s.is_empty());
        f.debug_struct("VerifyOptions")
            .field("jwt_key", &set(&self.jwt_key))
            .field("secret_key", &set(&self.secret_key).then_some("<redacted>"))
            .field(
                "machine_secret_key",
                &set(&self.machine_secret_key).then_some("<redacted>"),
            )
            .field("api_url", &self.api_url)
            .field("api_version", &self.api_version)
            .field("jwks_url", &self.jwks_url)
            .field("audience", &self.audience)
            .field("authorized_parties", &self.authorized_parties)
            .field("issuer", &self.issuer)
            .field("clock_skew_ms", &self.clock_skew_ms)
            .field("header_type", &self.header_type)
            .field("skip_jwks_cache", &self.skip_jwks_cache)
            .field("jwks_cache_ttl_ms", &self.jwks_cache_ttl_ms)
            .field("jwks_cooldown_ms", &self.jwks_cooldown_ms)
            .finish()
    }
}

/// An option's value, `None` when unset or empty (Clerk's `||`).
pub(crate) fn non_empty(o: &Option<String>) -> Option<&str> {
    o.as_deref().filter(|s| !s.is_empty())
}

/// Which option supplies the verification key (SPEC 3.2 step 3): `jwtKey`, else `jwksUrl`, else `secretKey`, else
/// none. Empty strings count as unset. The one home of this rule: `Verifier` builds its key source from it and
/// `options_fingerprint` keys the verified-token cache by it, so the cache can never answer under another key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum KeyChoice<'a> {
    /// `jwtKey`: a PEM public key, no network.
    JwtKey(&'a str),
    /// `jwksUrl`: any JWKS endpoint, fetched without credentials.
    JwksUrl(&'a str),
    /// `secretKey`: the instance JWKS from the Backend API (`apiUrl`, `apiVersion`).
    SecretKey(&'a str),
    /// No key source: every verification fails with `jwk-failed-to-resolve`.
    Unresolvable,
}

impl VerifyOptions {
    /// The key source these options select ([`KeyChoice`]).
    pub fn key_choice(&self) -> KeyChoice<'_> {
        if let Some(pem) = non_empty(&self.jwt_key) {
            KeyChoice::JwtKey(pem)
        } else if let Some(url) = non_empty(&self.jwks_url) {
            KeyChoice::JwksUrl(url)
        } else if let Some(sk) = non_empty(&self.secret_key) {
            KeyChoice::SecretKey(sk)
        } else {
            KeyChoice::Unresolvable
        }
    }

    /// The JWKS cache policy of these options.
    pub fn jwks_lookup(&self) -> JwksLookup {
        JwksLookup {
            ttl_ms: self.jwks_cache_ttl_ms,
            cooldown_ms: self.jwks_cooldown_ms,
            skip_cache: self.skip_jwks_cache,
        }
    }
}
