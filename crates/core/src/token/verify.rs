//! `verifyToken` (SPEC 3.1-3.3): options, key selection, and the checks in Clerk's order.
//!
//! Order: decode → category (`cat` = M2M rejected before any key lookup) → key selection (`jwtKey`, else
//! `jwksUrl`, else `secretKey` JWKS, else `jwk-failed-to-resolve`) → `typ` → `alg` allow-list → signature (before
//! any claim) → `sub` → `aud` → `azp` → `exp` (required) → `nbf` → `iat`, with clock skew and seconds truncated.
//!
//! [`verify_with_key`] and [`Verifier::verify_cached`] are synchronous and never touch the network: with a known
//! key a verification needs no thread hop. Only a JWKS fetch ([`Verifier::verify`]) is async.

use std::sync::Arc;

use serde_json::Value;

use super::options::KeyChoice;
use super::options::VerifyOptions;
use super::verified::options_fingerprint;
use crate::cache::token_key::Scope;
use crate::cache::verified::{VerifiedCache, VerifiedEntry};
use crate::codec::jsfmt;
use crate::jwks::{CachedKey, JwksClient, JwksSource};
use crate::jwt::error::{action, Reason, TokenVerificationError};
use crate::jwt::keys::{pem_key_cached, KeyError, KeyHandle, SignatureCheck, VerifierKey};
use crate::jwt::{self, category, Algorithm, Jwt, JwtPayload};

/// Where a [`Verifier`] takes its key from (SPEC 3.2 step 3).
#[derive(Debug, Clone)]
enum KeySource {
    Pem(KeyHandle),
    /// A `jwtKey` that is not a usable RSA public key: every verification fails at key selection with
    /// [`invalid_jwt_key`], naming the option (not the token).
    InvalidPem(TokenVerificationError),
    Jwks(Result<JwksSource, TokenVerificationError>),
    Unresolvable,
}

/// Clerk's `jwk-failed-to-resolve` error when no key source is configured (no `jwtKey`, `jwksUrl` or
/// `secretKey`): Clerk's message, with an action that says which options to set
/// ([`action::SET_JWT_KEY_OR_SECRET_KEY`]) instead of Clerk's "Set the CLERK_JWT_KEY environment variable.",
/// which is wrong for `verifyToken` (it never reads the environment) and leaves out the secret key.
pub fn failed_to_resolve() -> TokenVerificationError {
    TokenVerificationError::with_action(
        Reason::JwkFailedToResolve,
        "Failed to resolve JWK during verification.",
        action::SET_JWT_KEY_OR_SECRET_KEY,
    )
}

/// The error for a `jwtKey` that cannot verify anything (blank, not PEM, not RSA, a private key, a modulus
/// outside 2048-8192 bits): `jwk-failed-to-resolve` with a message naming the option and what is wrong, and
/// [`action::FIX_JWT_KEY`]. The key itself is never part of the message.
///
/// Clerk accepts any non-empty string here and fails later, at the signature step, with
/// `token-verification-failed` "Error verifying JWT signature. ..." and "Make sure that this is a valid
/// Clerk-generated JWT.", which blames the token for a configuration error.
pub fn invalid_jwt_key(error: &KeyError) -> TokenVerificationError {
    let what = match error {
        KeyError::LocalMissing => "it is blank".to_owned(),
        other => format!("it is not an RSA public key PEM (SPKI or PKCS#1): {other}"),
    };
    TokenVerificationError::with_action(
        Reason::JwkFailedToResolve,
        format!("Invalid jwtKey (CLERK_JWT_KEY): {what}."),
        action::FIX_JWT_KEY,
    )
}

/// Whether `pem` (a `jwtKey` value) is a usable RSA public key: `Err(`[`invalid_jwt_key`]`)` otherwise. Parses
/// through the same memo as verification ([`pem_key_cached`]), so checking options before building a verifier
/// costs one parse per distinct key. An empty string is "unset", not invalid: `Ok`.
pub fn validate_jwt_key(pem: &str) -> Result<(), TokenVerificationError> {
    if pem.is_empty() {
        return Ok(());
    }
    match pem_key_cached(pem).as_ref() {
        Ok(_) => Ok(()),
        Err(e) => Err(invalid_jwt_key(e)),
    }
}

/// Clerk's "Invalid session token category." error.
pub fn invalid_session_category() -> TokenVerificationError {
    TokenVerificationError::with_action(
        Reason::TokenInvalid,
        "Invalid session token category.",
        action::ENSURE_CLERK_JWT,
    )
}

/// A reusable verifier: options resolved once (PEM parsed once, JWKS source built once) plus the JWKS client.
#[derive(Debug, Clone)]
pub struct Verifier {
    options: VerifyOptions,
    keys: KeySource,
    client: Arc<JwksClient>,
    /// Verified-token cache and this verifier's fingerprint in it (off unless enabled).
    verified: Option<(&'static VerifiedCache, Scope)>,
}

/// What remains after the synchronous part of a verification.
pub(crate) enum Prepared<'t> {
    Done(Result<JwtPayload, TokenVerificationError>),
    NeedsFetch(Jwt<'t>, String),
}

impl Verifier {
    /// A verifier on the process-wide JWKS client ([`JwksClient::global`]).
    pub fn new(options: VerifyOptions) -> Self {
        Self::with_client(options, JwksClient::global())
    }

    /// A verifier on a given JWKS client (its clock is also used for `exp`/`nbf`/`iat`).
    pub fn with_client(options: VerifyOptions, client: Arc<JwksClient>) -> Self {
        let keys = match options.key_choice() {
            KeyChoice::JwtKey(pem) => {
                let key = pem_key_cached(pem);
                match key.as_ref() {
                    Ok(_) => KeySource::Pem(key),
                    Err(e) => KeySource::InvalidPem(invalid_jwt_key(e)),
                }
            }
            KeyChoice::JwksUrl(url) => KeySource::Jwks(JwksSource::url(url)),
            KeyChoice::SecretKey(sk) => {
                KeySource::Jwks(JwksSource::bapi(&options.api_url, &options.api_version, sk))
            }
            KeyChoice::Unresolvable => KeySource::Unresolvable,
        };
        Self {
            options,
            keys,
            client,
            verified: None,
        }
    }

    /// Answers repeat verifications of a token from `cache` (never past `exp`, never before `nbf`). `purpose`
    /// separates callers whose acceptance rules differ (a token accepted by `verifyToken` may not pass the
    /// session-path checks of `authenticateRequest`). Ignored with `skipJwksCache`.
    pub fn with_verified_cache(mut self, cache: &'static VerifiedCache, purpose: &[u8]) -> Self {
        if !self.options.skip_jwks_cache {
            let fp = options_fingerprint(&self.options);
            self.verified = Some((
                cache,
                Scope::from_parts([fp.as_bytes().as_slice(), purpose]),
            ));
        }
        self
    }

    /// The cached verification of `token`, if held and still valid now.
    pub fn cached_entry(&self, token: &str) -> Option<Arc<VerifiedEntry>> {
        let (cache, fp) = self.verified.as_ref()?;
        cache.get(fp, token, self.now_ms())
    }

    /// The payload as JSON text, stored in the verified-token cache when one is enabled.
    fn payload_json(&self, token: &str, payload: &JwtPayload) -> Arc<str> {
        if let Some((cache, fp)) = &self.verified {
            if let Some(entry) = VerifiedEntry::from_payload(payload, self.options.clock_skew_ms) {
                let entry = Arc::new(entry);
                cache.insert(fp, token, entry.clone(), self.now_ms());
                return entry.payload_json.clone();
            }
        }
        serde_json::to_string(payload)
            .unwrap_or_else(|_| "{}".to_owned())
            .into()
    }

    /// As [`Verifier::verify_cached`], answering from the verified-token cache first and returning the payload
    /// as JSON text (what the JS binding hands over).
    pub fn verify_cached_json(
        &self,
        token: &str,
    ) -> Option<Result<Arc<str>, TokenVerificationError>> {
        if let Some(entry) = self.cached_entry(token) {
            return Some(Ok(entry.payload_json.clone()));
        }
        let result = self.verify_cached(token)?;
        Some(result.map(|payload| self.payload_json(token, &payload)))
    }

    /// Verifies a token its caller already decoded (and looked up in the cache) without the network, storing
    /// the result in the verified-token cache. `None` = a key fetch is needed.
    pub fn verify_decoded_json(
        &self,
        token: &str,
        jwt: Jwt<'_>,
    ) -> Option<Result<Arc<str>, TokenVerificationError>> {
        match self.prepare_decoded(jwt) {
            Prepared::Done(r) => Some(r.map(|payload| self.payload_json(token, &payload))),
            Prepared::NeedsFetch(..) => None,
        }
    }

    /// As [`Verifier::verify`], with the verified-token cache and the payload as JSON text.
    pub async fn verify_json(&self, token: &str) -> Result<Arc<str>, TokenVerificationError> {
        if let Some(entry) = self.cached_entry(token) {
            return Ok(entry.payload_json.clone());
        }
        let payload = self.verify(token).await?;
        Ok(self.payload_json(token, &payload))
    }

    /// The options.
    pub fn options(&self) -> &VerifyOptions {
        &self.options
    }

    /// The JWKS client.
    pub fn client(&self) -> &Arc<JwksClient> {
        &self.client
    }

    /// Now, from the client's clock, in ms.
    pub fn now_ms(&self) -> i64 {
        self.client.clock().now_ms()
    }

    /// Verify without any network access. `None` means a JWKS fetch is needed: call [`Verifier::verify`]
    /// (for example on the async runtime). Everything else (PEM keys, JWKS cache hits, every error that does
    /// not need a key) is answered here, on the calling thread.
    pub fn verify_cached(&self, token: &str) -> Option<Result<JwtPayload, TokenVerificationError>> {
        match self.prepare(token) {
            Prepared::Done(r) => Some(r),
            Prepared::NeedsFetch(..) => None,
        }
    }

    /// Verify a session token (`verifyToken`): resolves to the payload or Clerk's error.
    pub async fn verify(&self, token: &str) -> Result<JwtPayload, TokenVerificationError> {
        match self.prepare(token) {
            Prepared::Done(r) => r,
            Prepared::NeedsFetch(jwt, kid) => {
                let key = self.fetch_key(&kid).await?;
                verify_jwt(&jwt, &key, &self.options, None, self.now_ms())
            }
        }
    }

    /// The key for `kid` via the JWKS client (async; single-flight). Only for JWKS sources.
    pub(crate) async fn fetch_key(&self, kid: &str) -> Result<KeyHandle, TokenVerificationError> {
        match &self.keys {
            KeySource::Pem(k) => Ok(k.clone()),
            KeySource::Jwks(Ok(src)) => {
                self.client
                    .get_key(src, kid, &self.options.jwks_lookup())
                    .await
            }
            KeySource::Jwks(Err(e)) | KeySource::InvalidPem(e) => Err(e.clone()),
            KeySource::Unresolvable => Err(failed_to_resolve()),
        }
    }

    /// The key without network: `Ok(Some)` known, `Ok(None)` a fetch is needed, `Err` a key-selection error.
    pub(crate) fn cached_key(
        &self,
        kid: &str,
    ) -> Result<Option<KeyHandle>, TokenVerificationError> {
        match &self.keys {
            KeySource::Pem(k) => Ok(Some(k.clone())),
            KeySource::Jwks(Ok(src)) => {
                match self
                    .client
                    .cached_key(src, kid, &self.options.jwks_lookup())
                {
                    CachedKey::Hit(k) => Ok(Some(k)),
                    CachedKey::Rejected(e) => Err(e),
                    CachedKey::NeedsFetch => Ok(None),
                }
            }
            KeySource::Jwks(Err(e)) | KeySource::InvalidPem(e) => Err(e.clone()),
            KeySource::Unresolvable => Err(failed_to_resolve()),
        }
    }

    pub(crate) fn prepare<'t>(&self, token: &'t str) -> Prepared<'t> {
        match jwt::decode(token) {
            Ok(jwt) => self.prepare_decoded(jwt),
            Err(e) => Prepared::Done(Err(e)),
        }
    }

    fn prepare_decoded<'t>(&self, jwt: Jwt<'t>) -> Prepared<'t> {
        if jwt.cat() == Some(category::M2M) {
            return Prepared::Done(Err(invalid_session_category()));
        }
        let kid = jwt.kid();
        match self.cached_key(&kid) {
            Err(e) => Prepared::Done(Err(e)),
            Ok(Some(key)) => {
                Prepared::Done(verify_jwt(&jwt, &key, &self.options, None, self.now_ms()))
            }
            Ok(None) => Prepared::NeedsFetch(jwt, kid),
        }
    }
}

/// Verify with a known key, synchronously: decode, category, `typ`, `alg`, signature, claims at `now_ms`.
pub fn verify_with_key(
    token: &str,
    key: &VerifierKey,
    options: &VerifyOptions,
    now_ms: i64,
) -> Result<JwtPayload, TokenVerificationError> {
    let jwt = jwt::decode(token)?;
    if jwt.cat() == Some(category::M2M) {
        return Err(invalid_session_category());
    }
    verify_decoded(&jwt, Ok(key), options, None, now_ms)
}

/// Clerk's `verifyJwt` on a decoded token with a resolved key: `typ` (against `header_type`, or the options'),
/// `alg`, signature, then claims.
pub fn verify_jwt(
    jwt: &Jwt<'_>,
    key: &KeyHandle,
    options: &VerifyOptions,
    header_type: Option<&[&str]>,
    now_ms: i64,
) -> Result<JwtPayload, TokenVerificationError> {
    let key = match key.as_ref() {
        Ok(k) => Ok(k),
        Err(e) => Err(e),
    };
    verify_decoded(jwt, key, options, header_type, now_ms)
}

fn verify_decoded(
    jwt: &Jwt<'_>,
    key: Result<&VerifierKey, &KeyError>,
    options: &VerifyOptions,
    header_type: Option<&[&str]>,
    now_ms: i64,
) -> Result<JwtPayload, TokenVerificationError> {
    check_header_type(jwt, options, header_type)?;
    let alg = check_algorithm(jwt)?;
    check_signature(jwt, key, alg)?;
    check_claims(&jwt.payload, options, now_ms)?;
    Ok(jwt.payload.clone())
}

fn check_header_type(
    jwt: &Jwt<'_>,
    options: &VerifyOptions,
    header_type: Option<&[&str]>,
) -> Result<(), TokenVerificationError> {
    let typ = jwt.header.get("typ");
    let from_options: Option<Vec<&str>> = options
        .header_type
        .as_ref()
        .map(|v| v.iter().map(String::as_str).collect());
    let given: Option<Vec<&str>> = header_type.map(<[&str]>::to_vec).or(from_options);
    if typ.is_none() && given.is_none() {
        return Ok(());
    }
    let allowed = given.unwrap_or_else(|| vec!["JWT"]);
    if typ
        .and_then(Value::as_str)
        .is_some_and(|t| allowed.contains(&t))
    {
        return Ok(());
    }
    Err(TokenVerificationError::with_action(
        Reason::TokenInvalid,
        format!(
            "Invalid JWT type {}. Expected \"{}\".",
            jsfmt::stringify_capped(typ),
            allowed.join(", ")
        ),
        action::ENSURE_CLERK_JWT,
    ))
}

fn check_algorithm(jwt: &Jwt<'_>) -> Result<Algorithm, TokenVerificationError> {
    let alg = jwt.header.get("alg");
    alg.and_then(Value::as_str)
        .and_then(Algorithm::from_name)
        .ok_or_else(|| {
            TokenVerificationError::with_action(
                Reason::TokenInvalidAlgorithm,
                format!(
                    "Invalid JWT algorithm {}. Supported: {}.",
                    jsfmt::stringify_capped(alg),
                    Algorithm::SUPPORTED
                ),
                action::ENSURE_CLERK_JWT,
            )
        })
}

fn check_signature(
    jwt: &Jwt<'_>,
    key: Result<&VerifierKey, &KeyError>,
    alg: Algorithm,
) -> Result<(), TokenVerificationError> {
    let import_failed = KeyError::to_verification_error;
    let key = key.map_err(import_failed)?;
    match key.verify(alg, jwt.signing_input.as_bytes(), &jwt.signature) {
        Ok(SignatureCheck::Valid) => Ok(()),
        Ok(SignatureCheck::Invalid) => Err(TokenVerificationError::new(
            Reason::TokenInvalidSignature,
            "JWT signature is invalid.",
        )),
        Err(e) => Err(import_failed(&e)),
    }
}

/// Clerk's `assertIssuerClaim(iss, issuer)`: with a non-empty `issuer` list (empty entries dropped), `iss` must be
/// a string equal to one of them, else `token-invalid-issuer`
/// `Invalid JWT issuer claim (iss) <JSON of iss>. Expected "<list joined by ,>".`
fn check_issuer(iss: Option<&Value>, issuer: &[String]) -> Result<(), TokenVerificationError> {
    let accepted = || issuer.iter().filter(|i| !i.is_empty());
    if accepted().next().is_none() {
        return Ok(());
    }
    if iss
        .and_then(Value::as_str)
        .is_some_and(|i| accepted().any(|a| a == i))
    {
        return Ok(());
    }
    Err(TokenVerificationError::with_action(
        Reason::TokenInvalidIssuer,
        format!(
            "Invalid JWT issuer claim (iss) {}. Expected \"{}\".",
            jsfmt::stringify_capped(iss),
            accepted().map(String::as_str).collect::<Vec<_>>().join(",")
        ),
        action::ENSURE_CLERK_JWT,
    ))
}

fn claim_failed(message: String) -> TokenVerificationError {
    TokenVerificationError::with_action(
        Reason::TokenVerificationFailed,
        message,
        action::ENSURE_CLERK_JWT,
    )
}

fn is_truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|f| f != 0.0 && !f.is_nan()),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Clerk's audience check. `aud` (string or array) must share a value with `audience` when both are non-empty.
/// `wrapped` reports a string claim as an array, as @clerk/backend before 3.25 did (its `verifyJwt` passed
/// `[aud]`); an array claim and a non-string claim are checked too (fail closed) where Clerk skips them.
pub(crate) fn check_audience(
    aud: Option<&Value>,
    audience: &[String],
    wrapped: bool,
) -> Result<(), TokenVerificationError> {
    let audience: Vec<&str> = audience
        .iter()
        .map(String::as_str)
        .filter(|a| !a.is_empty())
        .collect();
    let Some(aud) = aud.filter(|a| is_truthy(a)) else {
        return Ok(());
    };
    if audience.is_empty() {
        return Ok(());
    }
    let list_json = serde_json::to_string(&audience).unwrap_or_default();
    match aud {
        Value::String(s) => {
            if audience.contains(&s.as_str()) {
                return Ok(());
            }
            Err(claim_failed(if wrapped {
                format!(
                    "Invalid JWT audience claim array (aud) {}. Is not included in \"{list_json}\".",
                    jsfmt::stringify_capped(Some(&Value::Array(vec![aud.clone()])))
                )
            } else {
                format!(
                    "Invalid JWT audience claim (aud) {}. Is not included in \"{list_json}\".",
                    jsfmt::stringify_capped(Some(aud))
                )
            }))
        }
        Value::Array(items) => {
            let truthy: Vec<&Value> = items.iter().filter(|i| is_truthy(i)).collect();
            if truthy.is_empty()
                || truthy
                    .iter()
                    .any(|i| i.as_str().is_some_and(|s| audience.contains(&s)))
            {
                return Ok(());
            }
            Err(claim_failed(format!(
                "Invalid JWT audience claim array (aud) {}. Is not included in \"{list_json}\".",
                jsfmt::stringify_capped(Some(aud))
            )))
        }
        other => Err(claim_failed(format!(
            "Invalid JWT audience claim array (aud) {}. Is not included in \"{list_json}\".",
            jsfmt::stringify_capped(Some(&Value::Array(vec![other.clone()])))
        ))),
    }
}

/// The claim checks of `verifyJwt`, in order: `sub`, `aud`, `azp`, `exp`, `nbf`, `iat`.
pub(crate) fn check_claims(
    payload: &JwtPayload,
    options: &VerifyOptions,
    now_ms: i64,
) -> Result<(), TokenVerificationError> {
    let sub = payload.get("sub");
    if !matches!(sub, Some(Value::String(_))) {
        return Err(claim_failed(format!(
            "Subject claim (sub) is required and must be a string. Received {}.",
            jsfmt::stringify_capped(sub)
        )));
    }

    // 3.25.0's verifyJwt passes the claim as it is (3.16.10 wrapped it in an array).
    check_audience(payload.get("aud"), &options.audience, false)?;

    if !options.authorized_parties.is_empty() {
        let azp = payload.get("azp");
        let ok = azp
            .and_then(Value::as_str)
            .is_some_and(|a| !a.is_empty() && options.authorized_parties.iter().any(|p| p == a));
        if !ok {
            return Err(TokenVerificationError::new(
                Reason::TokenInvalidAuthorizedParties,
                format!(
                    "Invalid JWT Authorized party claim (azp) {}. Expected \"{}\".",
                    jsfmt::stringify_capped(azp),
                    options.authorized_parties.join(",")
                ),
            ));
        }
    }

    check_issuer(payload.get("iss"), &options.issuer)?;

    let now = now_ms as f64;
    let skew = options.clock_skew_ms as f64;
    let now_str = || jsfmt::utc_string(Some(now));

    let exp = payload.get("exp");
    let Some(exp_secs) = exp.and_then(Value::as_f64) else {
        return Err(claim_failed(format!(
            "Invalid JWT expiry date claim (exp) {}. Expected number.",
            jsfmt::stringify_capped(exp)
        )));
    };
    let exp_ms = jsfmt::seconds_to_date_ms(exp_secs);
    // NaN dates (out of range) compare false, as in JavaScript.
    if exp_ms.is_some_and(|e| e <= now - skew) {
        return Err(TokenVerificationError::new(
            Reason::TokenExpired,
            format!(
                "JWT is expired. Expiry date: {}, Current date: {}.",
                jsfmt::utc_string(exp_ms),
                now_str()
            ),
        ));
    }

    if let Some(nbf) = payload.get("nbf") {
        let Some(nbf_secs) = nbf.as_f64() else {
            return Err(claim_failed(format!(
                "Invalid JWT not before date claim (nbf) {}. Expected number.",
                jsfmt::stringify_capped(Some(nbf))
            )));
        };
        let nbf_ms = jsfmt::seconds_to_date_ms(nbf_secs);
        if nbf_ms.is_some_and(|n| n > now + skew) {
            return Err(TokenVerificationError::new(
                Reason::TokenNotActiveYet,
                format!(
                    "JWT cannot be used prior to not before date claim (nbf). Not before date: {}; Current date: {};",
                    jsfmt::utc_string(nbf_ms),
                    now_str()
                ),
            ));
        }
    }

    if let Some(iat) = payload.get("iat") {
        let Some(iat_secs) = iat.as_f64() else {
            return Err(claim_failed(format!(
                "Invalid JWT issued at date claim (iat) {}. Expected number.",
                jsfmt::stringify_capped(Some(iat))
            )));
        };
        let iat_ms = jsfmt::seconds_to_date_ms(iat_secs);
        if iat_ms.is_some_and(|i| i > now + skew) {
            return Err(TokenVerificationError::new(
                Reason::TokenIatInTheFuture,
                format!(
                    "JWT issued at date claim (iat) is in the future. Issued at date: {}; Current date: {};",
                    jsfmt::utc_string(iat_ms),
                    now_str()
                ),
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn payload(v: Value) -> JwtPayload {
        match v {
            Value::Object(m) => m,
            _ => unreachable!(),
        }
    }

    const NOW: i64 = 1_700_000_000_000;

    /// The key source of a verifier and the verified-cache fingerprint must follow one precedence (`jwtKey` >
    /// `jwksUrl` > `secretKey`, empty = unset): otherwise the cache could answer for a token under a key the
    /// verifier would not use. For every mix of unset / empty / set, the verifier's source is the expected
    /// winner's, and the fingerprint changes with the winner's value but never with a loser's.
    #[test]
    fn key_precedence_is_one_rule_for_verifier_and_cache_fingerprint() {
        use crate::jwks::JwksConfig;
        use crate::jwks::{DEFAULT_API_URL, DEFAULT_API_VERSION};
        let client = Arc::new(JwksClient::new(JwksConfig::default()));
        let pem = || "-----BEGIN PUBLIC KEY-----\nnot a key\n-----END PUBLIC KEY-----".to_owned();
        let states = |v: &str| [None, Some(String::new()), Some(v.to_owned())];
        for jwt_key in states(&pem()) {
            for jwks_url in states("https://a.example/jwks") {
                for secret_key in states("sk_test_a") {
                    let options = VerifyOptions {
                        jwt_key: jwt_key.clone(),
                        jwks_url: jwks_url.clone(),
                        secret_key: secret_key.clone(),
                        ..VerifyOptions::default()
                    };
                    let set = |o: &Option<String>| o.as_deref().is_some_and(|v| !v.is_empty());
                    // The precedence, written out independently of `key_choice`.
                    let winner = if set(&jwt_key) {
                        "jwtKey"
                    } else if set(&jwks_url) {
                        "jwksUrl"
                    } else if set(&secret_key) {
                        "secretKey"
                    } else {
                        "none"
                    };
                    let verifier = Verifier::with_client(options.clone(), client.clone());
                    let source = match &verifier.keys {
                        KeySource::Pem(_) | KeySource::InvalidPem(_) => "jwtKey",
                        KeySource::Jwks(Ok(src))
                            if *src == JwksSource::url("https://a.example/jwks").expect("url") =>
                        {
                            "jwksUrl"
                        }
                        KeySource::Jwks(Ok(src))
                            if *src
                                == JwksSource::bapi(
                                    DEFAULT_API_URL,
                                    DEFAULT_API_VERSION,
                                    "sk_test_a",
                                )
                                .expect("bapi") =>
                        {
                            "secretKey"
                        }
                        KeySource::Jwks(_) => "another JWKS source",
                        KeySource::Unresolvable => "none",
                    };
                    let case = format!("{jwt_key:?} {jwks_url:?} {secret_key:?}");
                    assert_eq!(source, winner, "verifier: {case}");
                    let fp = options_fingerprint(&options);
                    let other = |field: &str| {
                        let mut o = options.clone();
                        let slot = match field {
                            "jwtKey" => &mut o.jwt_key,
                            "jwksUrl" => &mut o.jwks_url,
                            _ => &mut o.secret_key,
                        };
                        if set(slot) {
                            slot.as_mut().expect("set").push('x');
                        }
                        options_fingerprint(&o)
                    };
                    for field in ["jwtKey", "jwksUrl", "secretKey"] {
                        let given = match field {
                            "jwtKey" => set(&jwt_key),
                            "jwksUrl" => set(&jwks_url),
                            _ => set(&secret_key),
                        };
                        if !given {
                            continue;
                        }
                        if field == winner {
                            assert_ne!(
                                other(field),
                                fp,
                                "the winner {field} keys the cache: {case}"
                            );
                        } else {
                            assert_eq!(other(field), fp, "the loser {field} does not: {case}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn claim_order_and_messages() {
        let o = VerifyOptions::default();
        let e = check_claims(&payload(json!({})), &o, NOW).unwrap_err();
        assert_eq!(e.reason, Reason::TokenVerificationFailed);
        assert_eq!(
            e.message,
            "Subject claim (sub) is required and must be a string. Received undefined."
        );
        let e = check_claims(&payload(json!({"sub": "u"})), &o, NOW).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid JWT expiry date claim (exp) undefined. Expected number."
        );
        let e = check_claims(&payload(json!({"sub": "u", "exp": "1"})), &o, NOW).unwrap_err();
        assert_eq!(
            e.message,
            "Invalid JWT expiry date claim (exp) \"1\". Expected number."
        );
        let e =
            check_claims(&payload(json!({"sub": "u", "exp": 1_699_999_990})), &o, NOW).unwrap_err();
        assert_eq!(e.reason, Reason::TokenExpired);
        assert_eq!(
            e.message,
            "JWT is expired. Expiry date: Tue, 14 Nov 2023 22:13:10 GMT, Current date: Tue, 14 Nov 2023 22:13:20 GMT."
        );
    }

    #[test]
    fn skew_boundaries() {
        let o = VerifyOptions::default();
        let secs = NOW / 1000;
        // exp*1000 <= now - skew is expired: exactly at the boundary fails, one second later passes.
        let at = |exp: i64| check_claims(&payload(json!({"sub": "u", "exp": exp})), &o, NOW);
        assert_eq!(at(secs - 5).unwrap_err().reason, Reason::TokenExpired);
        assert!(at(secs - 4).is_ok());
        // Fractions are truncated: secs - 4.1 → secs - 5 (expired), secs - 3.1 → secs - 4 (valid).
        let frac = |exp: f64| check_claims(&payload(json!({"sub": "u", "exp": exp})), &o, NOW);
        assert_eq!(
            frac(secs as f64 - 4.1).unwrap_err().reason,
            Reason::TokenExpired
        );
        assert!(frac(secs as f64 - 3.1).is_ok());
        let nbf = |n: i64| {
            check_claims(
                &payload(json!({"sub": "u", "exp": secs + 60, "nbf": n})),
                &o,
                NOW,
            )
        };
        assert!(nbf(secs + 5).is_ok());
        assert_eq!(nbf(secs + 6).unwrap_err().reason, Reason::TokenNotActiveYet);
        let iat = |n: i64| {
            check_claims(
                &payload(json!({"sub": "u", "exp": secs + 60, "iat": n})),
                &o,
                NOW,
            )
        };
        assert!(iat(secs + 5).is_ok());
        assert_eq!(
            iat(secs + 6).unwrap_err().reason,
            Reason::TokenIatInTheFuture
        );
        let zero = VerifyOptions {
            clock_skew_ms: 0,
            ..VerifyOptions::default()
        };
        assert_eq!(
            check_claims(&payload(json!({"sub": "u", "exp": secs})), &zero, NOW)
                .unwrap_err()
                .reason,
            Reason::TokenExpired
        );
        // Out-of-range dates are NaN in JavaScript and never compare as expired.
        assert!(check_claims(&payload(json!({"sub": "u", "exp": 1e300})), &o, NOW).is_ok());
        let e = check_claims(
            &payload(json!({"sub": "u", "exp": secs + 9, "nbf": null})),
            &o,
            NOW,
        )
        .unwrap_err();
        assert_eq!(
            e.message,
            "Invalid JWT not before date claim (nbf) null. Expected number."
        );
    }

    #[test]
    fn audience_rules() {
        let aud = |a: Value, list: &[&str]| {
            let list: Vec<String> = list.iter().map(|s| s.to_string()).collect();
            check_audience(Some(&a), &list, true)
        };
        assert!(aud(json!("a"), &["a", "b"]).is_ok());
        assert!(aud(json!(["x", "b"]), &["a", "b"]).is_ok());
        assert!(aud(json!("x"), &[]).is_ok());
        assert!(aud(json!(""), &["a"]).is_ok());
        assert!(aud(json!([]), &["a"]).is_ok());
        let e = aud(json!("x"), &["a", "b"]).unwrap_err();
        assert_eq!(e.reason, Reason::TokenVerificationFailed);
        assert_eq!(
            e.message,
            r#"Invalid JWT audience claim array (aud) ["x"]. Is not included in "["a","b"]"."#
        );
        assert!(aud(json!(["x", "y"]), &["a"]).is_err());
        assert!(aud(json!(5), &["a"]).is_err());
        let e = check_audience(Some(&json!("x")), &["a".to_string()], false).unwrap_err();
        assert_eq!(
            e.message,
            r#"Invalid JWT audience claim (aud) "x". Is not included in "["a"]"."#
        );
    }

    #[test]
    fn authorized_parties() {
        let o = VerifyOptions {
            authorized_parties: vec!["https://a.example".into(), "https://b.example".into()],
            ..VerifyOptions::default()
        };
        let exp = NOW / 1000 + 60;
        let ok = payload(json!({"sub": "u", "exp": exp, "azp": "https://b.example"}));
        assert!(check_claims(&ok, &o, NOW).is_ok());
        let missing = payload(json!({"sub": "u", "exp": exp}));
        let e = check_claims(&missing, &o, NOW).unwrap_err();
        assert_eq!(e.reason, Reason::TokenInvalidAuthorizedParties);
        assert_eq!(
            e.message,
            "Invalid JWT Authorized party claim (azp) undefined. Expected \"https://a.example,https://b.example\"."
        );
        assert_eq!(e.action, None);
    }

    #[test]
    fn issuer() {
        let exp = NOW / 1000 + 60;
        let with = |issuer: &[&str]| VerifyOptions {
            issuer: issuer.iter().map(|s| s.to_string()).collect(),
            ..VerifyOptions::default()
        };
        let p = |iss: Value| payload(json!({"sub": "u", "exp": exp, "iss": iss}));
        let one = with(&["https://clerk.a.example"]);
        assert!(check_claims(&p(json!("https://clerk.a.example")), &one, NOW).is_ok());
        let two = with(&["https://x.example", "", "https://clerk.a.example"]);
        assert!(check_claims(&p(json!("https://clerk.a.example")), &two, NOW).is_ok());
        // No (non-empty) issuer: no check.
        assert!(check_claims(&p(json!("anything")), &with(&[]), NOW).is_ok());
        assert!(check_claims(&p(json!(5)), &with(&[""]), NOW).is_ok());
        let e = check_claims(&p(json!("https://evil.example")), &two, NOW).unwrap_err();
        assert_eq!(e.reason, Reason::TokenInvalidIssuer);
        assert_eq!(e.reason.as_str(), "token-invalid-issuer");
        assert_eq!(
            e.message,
            r#"Invalid JWT issuer claim (iss) "https://evil.example". Expected "https://x.example,https://clerk.a.example"."#
        );
        assert_eq!(e.action, Some(action::ENSURE_CLERK_JWT));
        let missing = payload(json!({"sub": "u", "exp": exp}));
        assert_eq!(
            check_claims(&missing, &one, NOW).unwrap_err().message,
            r#"Invalid JWT issuer claim (iss) undefined. Expected "https://clerk.a.example"."#
        );
        // Not a string: refused (also an array holding the issuer).
        for bad in [json!(["https://clerk.a.example"]), json!(null), json!(1)] {
            assert_eq!(
                check_claims(&p(bad), &one, NOW).unwrap_err().reason,
                Reason::TokenInvalidIssuer
            );
        }
        // Clerk's order: sub, aud, azp, iss, exp, nbf, iat.
        let expired = payload(json!({"sub": "u", "exp": 1, "iss": "bad"}));
        assert_eq!(
            check_claims(&expired, &one, NOW).unwrap_err().reason,
            Reason::TokenInvalidIssuer
        );
        let azp_too = VerifyOptions {
            authorized_parties: vec!["https://app.example".into()],
            ..with(&["https://clerk.a.example"])
        };
        assert_eq!(
            check_claims(&expired, &azp_too, NOW).unwrap_err().reason,
            Reason::TokenInvalidAuthorizedParties
        );
        let no_sub = payload(json!({"exp": exp, "iss": "bad"}));
        assert_eq!(
            check_claims(&no_sub, &one, NOW).unwrap_err().reason,
            Reason::TokenVerificationFailed
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let o = VerifyOptions {
            secret_key: Some("sk_live_topsecret".into()),
            jwt_key: Some("-----BEGIN PUBLIC KEY-----".into()),
            ..VerifyOptions::default()
        };
        let d = format!("{o:?}");
        assert!(!d.contains("topsecret"));
        assert!(!d.contains("BEGIN"));
    }
}
