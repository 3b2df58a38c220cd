//! Verification keys: PEM SPKI (`jwtKey`) and JWK (JWKS) parsing into an RSA key, verified with aws-lc-rs (AWS-LC).
//! aws-lc-rs took over from ring for the RSA operation: 1.35× as fast on RSA-2048 PKCS#1 v1.5 SHA-256 with the key
//! parsed once, 1.18× when rebuilt per call (benchmark/README.md, "RSA verification: ring vs aws-lc-rs").
//!
//! Unlike Clerk's PEM string hack (RSA-2048, e = 65537 and RS256 only, SPEC 3.3), the SPKI is parsed with a small
//! DER reader, so any RSA modulus of 2048-8192 bits works with RS256, RS384 and RS512. Keys are parsed
//! once: [`pem_key_cached`] memoizes PEM strings and the JWKS cache holds parsed JWKs.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

use aws_lc_rs::signature::ParsedPublicKey;
use serde_json::Value;

use super::error::{action, Reason, TokenVerificationError};
use super::parse::Algorithm;
use crate::codec::base64url;

/// Why a key cannot be used. Surfaces as `token-verification-failed` ("Error verifying JWT signature. ...") at the
/// signature step, or `jwk-local-missing` for an empty PEM.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// No PEM was given.
    #[error("Missing local JWK.")]
    LocalMissing,
    /// The PEM armor or its base64 body is malformed.
    #[error("Invalid PEM public key: {0}")]
    Pem(&'static str),
    /// The DER structure is malformed.
    #[error("Invalid public key DER: {0}")]
    Der(&'static str),
    /// Not an RSA key (e.g. EC, Ed25519, RSA-PSS).
    #[error("Unsupported key type: {0}")]
    UnsupportedKeyType(String),
    /// RSA modulus outside 2048..=8192 bits.
    #[error("Unsupported RSA modulus size: {0} bits (2048 to 8192 bits are supported)")]
    ModulusSize(usize),
    /// RSA public exponent outside the accepted range (must be odd, at least 3, at most 33 bits).
    #[error("Unsupported RSA public exponent")]
    Exponent,
    /// A JWK member is missing or malformed.
    #[error("Invalid JWK: {0}")]
    Jwk(String),
    /// The JWK's `alg` differs from the token's (WebCrypto's import error text).
    #[error("The JWK \"alg\" member was inconsistent with that specified by the Web Crypto call")]
    AlgMismatch,
}

impl KeyError {
    /// The verification error this key problem produces: `jwk-local-missing` "Missing local JWK." (action
    /// SetClerkJWTKey) for an empty PEM, otherwise Clerk's signature-step failure `token-verification-failed`
    /// "Error verifying JWT signature. Error: <reason>".
    pub fn to_verification_error(&self) -> TokenVerificationError {
        match self {
            KeyError::LocalMissing => TokenVerificationError::with_action(
                Reason::JwkLocalMissing,
                self.to_string(),
                action::SET_CLERK_JWT_KEY,
            ),
            other => TokenVerificationError::with_action(
                Reason::TokenVerificationFailed,
                format!("Error verifying JWT signature. Error: {other}"),
                action::ENSURE_CLERK_JWT,
            ),
        }
    }
}

/// A parsed RSA public key: big-endian modulus and exponent without leading zeros, plus the JWK `alg` restriction.
#[derive(Clone)]
pub struct VerifierKey {
    n: Box<[u8]>,
    e: Box<[u8]>,
    alg: Option<Algorithm>,
    /// The key as AWS-LC holds it (with its Montgomery constants, computed on the first verification), one per
    /// algorithm (RS256, RS384, RS512), made on first use and kept for the life of the key.
    parsed: [OnceLock<Option<ParsedPublicKey>>; 3],
}

impl PartialEq for VerifierKey {
    fn eq(&self, other: &Self) -> bool {
        self.n == other.n && self.e == other.e && self.alg == other.alg
    }
}

impl Eq for VerifierKey {}

impl std::fmt::Debug for VerifierKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("VerifierKey")
            .field("bits", &self.modulus_bits())
            .field("alg", &self.alg)
            .finish()
    }
}

/// The outcome of a signature check with a usable key.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SignatureCheck {
    /// The signature is valid.
    Valid,
    /// The signature does not verify (Clerk: `token-invalid-signature`).
    Invalid,
}

impl VerifierKey {
    /// A key from raw big-endian `n` and `e`, validated (2048-8192-bit modulus, odd exponent >= 3).
    pub fn from_components(n: &[u8], e: &[u8], alg: Option<Algorithm>) -> Result<Self, KeyError> {
        let n = strip_leading_zeros(n);
        let e = strip_leading_zeros(e);
        let bits = bit_len(n);
        if !(2048..=8192).contains(&bits) {
            return Err(KeyError::ModulusSize(bits));
        }
        let e_bits = bit_len(e);
        if !(2..=33).contains(&e_bits) || e.last().is_none_or(|b| b & 1 == 0) {
            return Err(KeyError::Exponent);
        }
        Ok(Self {
            n: n.into(),
            e: e.into(),
            alg,
            parsed: Default::default(),
        })
    }

    /// Parse a PEM public key: `-----BEGIN PUBLIC KEY-----` (SPKI, rsaEncryption) or `-----BEGIN RSA PUBLIC
    /// KEY-----` (PKCS#1). A bare base64 SPKI body without armor is accepted too (Clerk's hack accepts it), and
    /// literal `\n` escapes are treated as line breaks.
    pub fn from_pem(pem: &str) -> Result<Self, KeyError> {
        let pem = pem.trim();
        if pem.is_empty() {
            return Err(KeyError::LocalMissing);
        }
        let pem = pem.replace("\\n", "\n").replace("\\r", "\r");
        let (body, pkcs1) = pem_body(&pem)?;
        let der = base64url::decode_standard_lenient(body)
            .map_err(|_| KeyError::Pem("bad base64 body"))?;
        if pkcs1 {
            Self::from_pkcs1_der(&der)
        } else {
            Self::from_spki_der(&der)
        }
    }

    /// Parse a DER SubjectPublicKeyInfo holding an rsaEncryption key.
    pub fn from_spki_der(der: &[u8]) -> Result<Self, KeyError> {
        let mut outer = Der::new(der);
        let spki = outer.take(TAG_SEQUENCE, "SubjectPublicKeyInfo is not a SEQUENCE")?;
        outer.finish("trailing data after SubjectPublicKeyInfo")?;
        let mut spki = Der::new(spki);
        let algo = spki.take(TAG_SEQUENCE, "AlgorithmIdentifier is not a SEQUENCE")?;
        let bit_string = spki.take(TAG_BIT_STRING, "subjectPublicKey is not a BIT STRING")?;
        spki.finish("trailing data in SubjectPublicKeyInfo")?;

        let mut algo = Der::new(algo);
        let oid = algo.take(TAG_OID, "algorithm is not an OBJECT IDENTIFIER")?;
        if oid != OID_RSA_ENCRYPTION {
            return Err(KeyError::UnsupportedKeyType(oid_name(oid).to_owned()));
        }
        if !algo.is_empty() {
            algo.take(TAG_NULL, "rsaEncryption parameters are not NULL")?;
            algo.finish("trailing data in AlgorithmIdentifier")?;
        }

        let (&unused_bits, key) = bit_string
            .split_first()
            .ok_or(KeyError::Der("empty BIT STRING"))?;
        if unused_bits != 0 {
            return Err(KeyError::Der("BIT STRING has unused bits"));
        }
        Self::from_pkcs1_der(key)
    }

    /// Parse a DER PKCS#1 `RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }`.
    pub fn from_pkcs1_der(der: &[u8]) -> Result<Self, KeyError> {
        let mut outer = Der::new(der);
        let seq = outer.take(TAG_SEQUENCE, "RSAPublicKey is not a SEQUENCE")?;
        outer.finish("trailing data after RSAPublicKey")?;
        let mut seq = Der::new(seq);
        let n = positive_integer(seq.take(TAG_INTEGER, "modulus is not an INTEGER")?)?;
        let e = positive_integer(seq.take(TAG_INTEGER, "exponent is not an INTEGER")?)?;
        seq.finish("trailing data in RSAPublicKey")?;
        Self::from_components(n, e, None)
    }

    /// Build a key from a JWK object (`kty: "RSA"`, base64url `n` and `e`). `use` must be absent or `sig`,
    /// `key_ops` (if present) must include `verify`, and `alg` (if present) must be RS256/384/512, which then
    /// restricts the key to that algorithm (as WebCrypto's import does).
    pub fn from_jwk(jwk: &Value) -> Result<Self, KeyError> {
        let obj = jwk
            .as_object()
            .ok_or_else(|| KeyError::Jwk("not a JSON object".to_owned()))?;
        match obj.get("kty").and_then(Value::as_str) {
            Some("RSA") => {}
            Some(other) => return Err(KeyError::UnsupportedKeyType(other.to_owned())),
            None => return Err(KeyError::Jwk("missing kty".to_owned())),
        }
        if let Some(u) = obj.get("use") {
            if u.as_str() != Some("sig") {
                return Err(KeyError::Jwk("\"use\" is not \"sig\"".to_owned()));
            }
        }
        if let Some(ops) = obj.get("key_ops") {
            let has_verify = ops
                .as_array()
                .is_some_and(|a| a.iter().any(|o| o.as_str() == Some("verify")));
            if !has_verify {
                return Err(KeyError::Jwk(
                    "\"key_ops\" does not include \"verify\"".to_owned(),
                ));
            }
        }
        let alg = match obj.get("alg") {
            None => None,
            Some(Value::String(a)) => Some(
                Algorithm::from_name(a)
                    .ok_or_else(|| KeyError::UnsupportedKeyType(format!("RSA with alg {a}")))?,
            ),
            Some(_) => return Err(KeyError::Jwk("\"alg\" is not a string".to_owned())),
        };
        let member = |name: &str| -> Result<Vec<u8>, KeyError> {
            let s = obj
                .get(name)
                .and_then(Value::as_str)
                .ok_or_else(|| KeyError::Jwk(format!("missing \"{name}\"")))?;
            base64url::decode(s).map_err(|_| KeyError::Jwk(format!("\"{name}\" is not base64url")))
        };
        let n = member("n")?;
        let e = member("e")?;
        Self::from_components(&n, &e, alg)
    }

    /// The modulus, big-endian, without leading zeros.
    pub fn modulus(&self) -> &[u8] {
        &self.n
    }

    /// The public exponent, big-endian, without leading zeros.
    pub fn exponent(&self) -> &[u8] {
        &self.e
    }

    /// Modulus length in bits.
    pub fn modulus_bits(&self) -> usize {
        bit_len(&self.n)
    }

    /// The algorithm this key is restricted to (a JWK's `alg`), if any.
    pub fn alg(&self) -> Option<Algorithm> {
        self.alg
    }

    /// Check an RSASSA-PKCS1-v1_5 signature over `message`. `Err` when the key may not be used with `alg`
    /// (a JWK `alg` restriction); `Ok(Invalid)` when the signature does not verify.
    pub fn verify(
        &self,
        alg: Algorithm,
        message: &[u8],
        signature: &[u8],
    ) -> Result<SignatureCheck, KeyError> {
        if self.alg.is_some_and(|a| a != alg) {
            return Err(KeyError::AlgMismatch);
        }
        let parsed = self.parsed[alg.index()].get_or_init(|| {
            let components = aws_lc_rs::signature::RsaPublicKeyComponents {
                n: &self.n[..],
                e: &self.e[..],
            };
            components.to_parsed_public_key(alg.rsa_params()).ok()
        });
        // `from_components` validated the key, so AWS-LC accepts it; if it ever did not, nothing verifies.
        Ok(
            match parsed.as_ref().map(|k| k.verify_sig(message, signature)) {
                Some(Ok(())) => SignatureCheck::Valid,
                _ => SignatureCheck::Invalid,
            },
        )
    }
}

/// A parsed key, or why the key material cannot be used (reported at the signature step, as Clerk does).
pub type KeyHandle = Arc<Result<VerifierKey, KeyError>>;

/// Parse a PEM once per process: the result (or the parse error) is memoized by the SHA-256 of the PEM text in a
/// small bounded table (64 entries; cleared when full).
pub fn pem_key_cached(pem: &str) -> KeyHandle {
    const CAPACITY: usize = 64;
    static CACHE: OnceLock<Mutex<HashMap<[u8; 32], KeyHandle>>> = OnceLock::new();
    let digest = ring::digest::digest(&ring::digest::SHA256, pem.as_bytes());
    let mut id = [0u8; 32];
    id.copy_from_slice(digest.as_ref());
    let cache = CACHE.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = cache.lock().ok().and_then(|c| c.get(&id).cloned()) {
        return hit;
    }
    let parsed: KeyHandle = Arc::new(VerifierKey::from_pem(pem));
    if let Ok(mut c) = cache.lock() {
        if c.len() >= CAPACITY {
            c.clear();
        }
        c.insert(id, parsed.clone());
    }
    parsed
}

/// One JWKS entry: its lookup kid (JavaScript's `${jwk.kid}`, `undefined` when absent) and the parsed key.
pub fn jwk_entry(jwk: &Value) -> (String, KeyHandle) {
    let kid = match jwk.get("kid") {
        Some(Value::String(s)) => s.clone(),
        other => crate::codec::jsfmt::to_js_string(other),
    };
    (kid, Arc::new(VerifierKey::from_jwk(jwk)))
}

fn pem_body(pem: &str) -> Result<(&str, bool), KeyError> {
    const ARMORS: [(&str, &str, bool); 2] = [
        (
            "-----BEGIN PUBLIC KEY-----",
            "-----END PUBLIC KEY-----",
            false,
        ),
        (
            "-----BEGIN RSA PUBLIC KEY-----",
            "-----END RSA PUBLIC KEY-----",
            true,
        ),
    ];
    for (begin, end, pkcs1) in ARMORS {
        if let Some(start) = pem.find(begin) {
            let rest = &pem[start + begin.len()..];
            let stop = rest.find(end).ok_or(KeyError::Pem("missing END line"))?;
            return Ok((&rest[..stop], pkcs1));
        }
    }
    if pem.contains("-----BEGIN") {
        return Err(KeyError::Pem("not a PUBLIC KEY block"));
    }
    Ok((pem, false))
}

fn strip_leading_zeros(b: &[u8]) -> &[u8] {
    let first = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    &b[first..]
}

fn bit_len(b: &[u8]) -> usize {
    match b.first() {
        None => 0,
        Some(&top) => (b.len() - 1) * 8 + (8 - top.leading_zeros() as usize),
    }
}

fn positive_integer(content: &[u8]) -> Result<&[u8], KeyError> {
    match content {
        [] => Err(KeyError::Der("empty INTEGER")),
        [first, ..] if first & 0x80 != 0 => Err(KeyError::Der("negative INTEGER")),
        [0, second, ..] if second & 0x80 == 0 => Err(KeyError::Der("non-minimal INTEGER")),
        _ => Ok(content),
    }
}

const TAG_INTEGER: u8 = 0x02;
const TAG_BIT_STRING: u8 = 0x03;
const TAG_NULL: u8 = 0x05;
const TAG_OID: u8 = 0x06;
const TAG_SEQUENCE: u8 = 0x30;

/// 1.2.840.113549.1.1.1
const OID_RSA_ENCRYPTION: &[u8] = &[0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01];

fn oid_name(oid: &[u8]) -> &'static str {
    match oid {
        [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01] => "EC",
        [0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x0a] => "RSASSA-PSS",
        [0x2b, 0x65, 0x70] => "Ed25519",
        [0x2b, 0x65, 0x71] => "Ed448",
        _ => "unknown algorithm",
    }
}

/// A minimal DER reader: definite lengths only (up to 4 length bytes), bounds-checked, never panics.
struct Der<'a> {
    rest: &'a [u8],
}

impl<'a> Der<'a> {
    fn new(data: &'a [u8]) -> Self {
        Self { rest: data }
    }

    fn is_empty(&self) -> bool {
        self.rest.is_empty()
    }

    fn finish(&self, what: &'static str) -> Result<(), KeyError> {
        if self.rest.is_empty() {
            Ok(())
        } else {
            Err(KeyError::Der(what))
        }
    }

    fn take(&mut self, tag: u8, what: &'static str) -> Result<&'a [u8], KeyError> {
        let (&t, rest) = self.rest.split_first().ok_or(KeyError::Der(what))?;
        if t != tag {
            return Err(KeyError::Der(what));
        }
        let (&first, mut rest) = rest
            .split_first()
            .ok_or(KeyError::Der("truncated length"))?;
        let len = if first < 0x80 {
            usize::from(first)
        } else {
            let count = usize::from(first & 0x7f);
            if count == 0 || count > 4 {
                return Err(KeyError::Der("unsupported length encoding"));
            }
            if rest.len() < count {
                return Err(KeyError::Der("truncated length"));
            }
            let (len_bytes, after) = rest.split_at(count);
            rest = after;
            if len_bytes[0] == 0 {
                return Err(KeyError::Der("non-minimal length"));
            }
            let len = len_bytes
                .iter()
                .fold(0usize, |acc, &b| (acc << 8) | usize::from(b));
            if len < 0x80 {
                return Err(KeyError::Der("non-minimal length"));
            }
            len
        };
        if rest.len() < len {
            return Err(KeyError::Der("truncated value"));
        }
        let (content, after) = rest.split_at(len);
        self.rest = after;
        Ok(content)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn der_len(len: usize) -> Vec<u8> {
        if len < 0x80 {
            vec![len as u8]
        } else if len < 0x100 {
            vec![0x81, len as u8]
        } else {
            vec![0x82, (len >> 8) as u8, len as u8]
        }
    }

    fn tlv(tag: u8, content: &[u8]) -> Vec<u8> {
        let mut v = vec![tag];
        v.extend(der_len(content.len()));
        v.extend_from_slice(content);
        v
    }

    fn modulus(bits: usize) -> Vec<u8> {
        let mut n = vec![0xc5u8; bits / 8];
        n[0] = 0x80 | 0x45;
        if let Some(last) = n.last_mut() {
            *last |= 1;
        }
        n
    }

    fn spki(n: &[u8], e: &[u8], oid: &[u8]) -> Vec<u8> {
        let mut n_int = vec![0u8];
        n_int.extend_from_slice(n);
        let rsa = tlv(
            TAG_SEQUENCE,
            &[tlv(TAG_INTEGER, &n_int), tlv(TAG_INTEGER, e)].concat(),
        );
        let mut bits = vec![0u8];
        bits.extend(rsa);
        let algo = tlv(
            TAG_SEQUENCE,
            &[tlv(TAG_OID, oid), vec![TAG_NULL, 0]].concat(),
        );
        tlv(TAG_SEQUENCE, &[algo, tlv(TAG_BIT_STRING, &bits)].concat())
    }

    #[test]
    fn parses_synthetic_spki_of_each_size() {
        for bits in [2048, 3072, 4096] {
            let der = spki(&modulus(bits), &[1, 0, 1], OID_RSA_ENCRYPTION);
            let key = VerifierKey::from_spki_der(&der).unwrap();
            assert_eq!(key.modulus_bits(), bits);
            assert_eq!(key.alg(), None);
        }
    }

    #[test]
    fn rejects_non_rsa_and_small_keys() {
        let ec_oid = [0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01];
        let der = spki(&modulus(2048), &[1, 0, 1], &ec_oid);
        assert_eq!(
            VerifierKey::from_spki_der(&der),
            Err(KeyError::UnsupportedKeyType("EC".into()))
        );
        let der = spki(&modulus(1024), &[1, 0, 1], OID_RSA_ENCRYPTION);
        assert_eq!(
            VerifierKey::from_spki_der(&der),
            Err(KeyError::ModulusSize(1024))
        );
        let der = spki(&modulus(2048), &[2], OID_RSA_ENCRYPTION);
        assert_eq!(VerifierKey::from_spki_der(&der), Err(KeyError::Exponent));
    }

    #[test]
    fn truncated_and_garbage_der_never_panics() {
        let der = spki(&modulus(2048), &[1, 0, 1], OID_RSA_ENCRYPTION);
        for cut in 0..der.len() {
            assert!(VerifierKey::from_spki_der(&der[..cut]).is_err());
        }
        let mut extended = der.clone();
        extended.push(0);
        assert!(VerifierKey::from_spki_der(&extended).is_err());
        let mut seed: u32 = 12345;
        for _ in 0..2000 {
            let mut mutated = der.clone();
            for _ in 0..4 {
                seed = seed.wrapping_mul(1_103_515_245).wrapping_add(12345);
                let i = (seed as usize >> 8) % mutated.len();
                mutated[i] = (seed >> 3) as u8;
            }
            let _ = VerifierKey::from_spki_der(&mutated);
        }
        for junk in [
            &[][..],
            &[0x30],
            &[0x30, 0x84, 0xff, 0xff, 0xff, 0xff],
            &[0x30, 0x80],
        ] {
            assert!(VerifierKey::from_spki_der(junk).is_err());
        }
    }

    #[test]
    fn pem_armor_handling() {
        assert_eq!(VerifierKey::from_pem("  "), Err(KeyError::LocalMissing));
        assert!(matches!(
            VerifierKey::from_pem("-----BEGIN PUBLIC KEY-----\nAAAA"),
            Err(KeyError::Pem(_))
        ));
        assert!(matches!(
            VerifierKey::from_pem("-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----"),
            Err(KeyError::Pem(_))
        ));
        let der = spki(&modulus(2048), &[1, 0, 1], OID_RSA_ENCRYPTION);
        let body = base64url::encode(&der).replace('-', "+").replace('_', "/");
        let pem = format!("-----BEGIN PUBLIC KEY-----\\n{body}\\n-----END PUBLIC KEY-----");
        assert_eq!(VerifierKey::from_pem(&pem).unwrap().modulus_bits(), 2048);
        assert_eq!(VerifierKey::from_pem(&body).unwrap().modulus_bits(), 2048);
    }

    #[test]
    fn jwk_parsing() {
        let n = base64url::encode(&modulus(2048));
        let ok =
            json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "RS384", "use": "sig", "kid": "k1"});
        let key = VerifierKey::from_jwk(&ok).unwrap();
        assert_eq!(key.alg(), Some(Algorithm::Rs384));
        assert_eq!(
            key.verify(Algorithm::Rs256, b"x", b"y"),
            Err(KeyError::AlgMismatch)
        );
        assert_eq!(
            key.verify(Algorithm::Rs384, b"x", b"y"),
            Ok(SignatureCheck::Invalid)
        );
        let (kid, _) = jwk_entry(&ok);
        assert_eq!(kid, "k1");
        let (kid, _) = jwk_entry(&json!({"kty": "RSA"}));
        assert_eq!(kid, "undefined");

        let bad = [
            json!("str"),
            json!({"kty": "EC", "crv": "P-256"}),
            json!({"n": n, "e": "AQAB"}),
            json!({"kty": "RSA", "n": n, "e": "AQAB", "use": "enc"}),
            json!({"kty": "RSA", "n": n, "e": "AQAB", "key_ops": ["encrypt"]}),
            json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": "PS256"}),
            json!({"kty": "RSA", "n": n, "e": "AQAB", "alg": 5}),
            json!({"kty": "RSA", "e": "AQAB"}),
            json!({"kty": "RSA", "n": "!!", "e": "AQAB"}),
            json!({"kty": "RSA", "n": "AQAB", "e": "AQAB"}),
        ];
        for b in bad {
            assert!(VerifierKey::from_jwk(&b).is_err(), "{b}");
        }
    }
}
