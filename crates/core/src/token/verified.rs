//! The token side of the verified-token cache ([`VerifiedCache`](crate::cache::VerifiedCache), which knows no token
//! types): the fingerprint of the [`VerifyOptions`] a verification ran under ([`options_fingerprint`]), and the
//! cache entry read from a verified payload's claims ([`VerifiedEntry::from_payload`]), the way verification
//! reads them.

use std::sync::Arc;

use serde_json::Value;

use super::options::{KeyChoice, VerifyOptions};
use crate::cache::token_key::Scope;
use crate::cache::verified::VerifiedEntry;
use crate::codec::jsfmt::seconds_to_date_ms;
use crate::jwt::JwtPayload;

/// A verification-time claim (seconds) in ms, as `verifyToken` reads it: `Some(None)` for a number that is no
/// valid date (NaN in JavaScript: never compares true), `None` when absent or not a number.
fn claim_ms(v: Option<&Value>) -> Option<Option<i64>> {
    let secs = v?.as_f64()?;
    // Within ±8.64e15, so the conversion is exact.
    Some(seconds_to_date_ms(secs).map(|ms| ms as i64))
}

/// Reading an entry from claims is token knowledge, so it is defined here rather than in `cache`.
impl VerifiedEntry {
    /// The entry for a payload that just passed verification with `skew_ms`: serializes it and reads `exp`,
    /// `nbf`, `iat` the way verification does. `None` when `exp` is missing or not a number (such a payload
    /// cannot have verified) or the payload does not serialize.
    pub fn from_payload(payload: &JwtPayload, skew_ms: i64) -> Option<Self> {
        let exp_ms = claim_ms(payload.get("exp"))?.unwrap_or(i64::MAX);
        let payload_json: Arc<str> = serde_json::to_string(payload).ok()?.into();
        Some(Self {
            payload_json,
            exp_ms,
            nbf_ms: claim_ms(payload.get("nbf")).flatten(),
            iat_ms: claim_ms(payload.get("iat")).flatten(),
            skew_ms,
        })
    }
}

/// The fingerprint of the verification options that change a verification's outcome: the key source (the
/// [`KeyChoice`] that `Verifier` also uses: `jwtKey`, else `jwksUrl`, else (`apiUrl`, `apiVersion`, SHA-256 of
/// `secretKey`)),
/// `audience`, `authorizedParties`, `headerType` (unset and `["JWT"]` differ: unset also accepts a missing
/// `typ`) and `clockSkewInMs`. Empty strings count as unset, as in `Verifier`. No secret enters it unhashed.
pub fn options_fingerprint(options: &VerifyOptions) -> Scope {
    fn list(tag: &[u8], items: &[String], parts: &mut Vec<Vec<u8>>) {
        parts.push(tag.to_vec());
        parts.push((items.len() as u64).to_be_bytes().to_vec());
        parts.extend(items.iter().map(|i| i.as_bytes().to_vec()));
    }
    let mut parts: Vec<Vec<u8>> = vec![b"clerk-native/verified/v1".to_vec()];
    match options.key_choice() {
        KeyChoice::JwtKey(pem) => {
            parts.push(b"jwtKey".to_vec());
            parts.push(pem.as_bytes().to_vec());
        }
        KeyChoice::JwksUrl(url) => {
            parts.push(b"jwksUrl".to_vec());
            parts.push(url.as_bytes().to_vec());
        }
        KeyChoice::SecretKey(sk) => {
            parts.push(b"secretKey".to_vec());
            parts.push(options.api_url.as_bytes().to_vec());
            parts.push(options.api_version.as_bytes().to_vec());
            parts.push(
                ring::digest::digest(&ring::digest::SHA256, sk.as_bytes())
                    .as_ref()
                    .to_vec(),
            );
        }
        KeyChoice::Unresolvable => parts.push(b"unresolvable".to_vec()),
    }
    list(b"audience", &options.audience, &mut parts);
    list(
        b"authorizedParties",
        &options.authorized_parties,
        &mut parts,
    );
    list(b"issuer", &options.issuer, &mut parts);
    match &options.header_type {
        None => parts.push(b"headerType:unset".to_vec()),
        Some(types) => list(b"headerType", types, &mut parts),
    }
    parts.push(options.clock_skew_ms.to_be_bytes().to_vec());
    Scope::from_parts(parts.iter().map(Vec::as_slice))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: i64 = 1_700_000_000_000;

    fn payload(v: Value) -> JwtPayload {
        match v {
            Value::Object(m) => m,
            _ => JwtPayload::new(),
        }
    }

    #[test]
    fn from_payload_reads_claims_like_verification() {
        let e = VerifiedEntry::from_payload(
            &payload(
                json!({"sub": "u", "exp": 1_700_000_060.9, "nbf": 1_699_999_990, "iat": 1e300}),
            ),
            5_000,
        )
        .expect("entry");
        assert_eq!(e.exp_ms, 1_700_000_060_000, "seconds truncated");
        assert_eq!(e.nbf_ms, Some(1_699_999_990_000));
        assert_eq!(e.iat_ms, None, "an invalid date never fails the check");
        assert_eq!(e.skew_ms, 5_000);
        assert!(e.payload_json.contains("\"sub\":\"u\""));
        assert!(VerifiedEntry::from_payload(&payload(json!({"sub": "u"})), 0).is_none());
        assert!(VerifiedEntry::from_payload(&payload(json!({"exp": "1"})), 0).is_none());
        let forever =
            VerifiedEntry::from_payload(&payload(json!({"exp": 1e300})), 0).expect("entry");
        assert_eq!(forever.exp_ms, i64::MAX);
        assert!(forever.is_valid_at(i64::MAX - 1));
    }

    #[test]
    fn validity_agrees_with_verification_at_every_edge() {
        use crate::token::verify::check_claims;
        for skew in [0, 5_000, -2_000] {
            let options = VerifyOptions {
                clock_skew_ms: skew,
                ..VerifyOptions::default()
            };
            let secs = NOW / 1000;
            let p =
                payload(json!({"sub": "u", "exp": secs + 60, "nbf": secs - 10, "iat": secs + 3}));
            let e = VerifiedEntry::from_payload(&p, skew).expect("entry");
            let edges = [
                (secs + 60) * 1000 + skew,
                (secs - 10) * 1000 - skew,
                (secs + 3) * 1000 - skew,
            ];
            for edge in edges {
                for now in [edge - 1, edge, edge + 1] {
                    assert_eq!(
                        e.is_valid_at(now),
                        check_claims(&p, &options, now).is_ok(),
                        "skew {skew}, now {now}"
                    );
                }
            }
        }
    }

    #[test]
    fn fingerprint_follows_the_options_that_matter() {
        let base = VerifyOptions {
            jwt_key: Some("PEM".into()),
            ..VerifyOptions::default()
        };
        let fp = options_fingerprint(&base);
        assert_eq!(fp, options_fingerprint(&base.clone()));
        let changed = [
            VerifyOptions {
                jwt_key: Some("PEM2".into()),
                ..base.clone()
            },
            VerifyOptions {
                audience: vec!["a".into()],
                ..base.clone()
            },
            VerifyOptions {
                authorized_parties: vec!["https://a".into()],
                ..base.clone()
            },
            VerifyOptions {
                header_type: Some(vec!["JWT".into()]),
                ..base.clone()
            },
            VerifyOptions {
                issuer: vec!["https://clerk.a.example".into()],
                ..base.clone()
            },
            VerifyOptions {
                authorized_parties: vec!["https://clerk.a.example".into()],
                ..base.clone()
            },
            VerifyOptions {
                clock_skew_ms: 0,
                ..base.clone()
            },
            VerifyOptions {
                audience: vec!["ab".into()],
                authorized_parties: vec![],
                ..base.clone()
            },
            VerifyOptions {
                audience: vec!["a".into(), "b".into()],
                ..base.clone()
            },
        ];
        for (i, c) in changed.iter().enumerate() {
            assert_ne!(options_fingerprint(c), fp, "case {i}");
        }
        // Options that do not change the outcome do not split the cache.
        let same = VerifyOptions {
            jwks_cache_ttl_ms: 1,
            skip_jwks_cache: true,
            ..base.clone()
        };
        assert_eq!(options_fingerprint(&same), fp);
        // Key source precedence as in Verifier: an empty jwtKey is unset.
        let sk = |k: &str| VerifyOptions {
            jwt_key: Some(String::new()),
            secret_key: Some(k.into()),
            ..VerifyOptions::default()
        };
        assert_ne!(
            options_fingerprint(&sk("sk_a")),
            options_fingerprint(&sk("sk_b"))
        );
        let url = VerifyOptions {
            jwks_url: Some("https://x/jwks".into()),
            ..sk("sk_a")
        };
        assert_eq!(
            options_fingerprint(&url),
            options_fingerprint(&VerifyOptions {
                jwks_url: Some("https://x/jwks".into()),
                ..sk("sk_b")
            }),
            "jwksUrl wins over secretKey"
        );
    }

    #[test]
    fn fingerprint_has_no_separator_collisions() {
        // Lists whose joined text would collide under a separator-joined key (issue item 5): every field and
        // every list item is length-prefixed, so none of these share a fingerprint.
        let with = |audience: &[&str], parties: &[&str]| {
            options_fingerprint(&VerifyOptions {
                jwt_key: Some("PEM".into()),
                audience: audience.iter().map(|s| s.to_string()).collect(),
                authorized_parties: parties.iter().map(|s| s.to_string()).collect(),
                ..VerifyOptions::default()
            })
        };
        let sets = [
            with(&[], &["a", "b"]),
            with(&[], &["a\u{1}b"]),
            with(&[], &["a\u{0}b"]),
            with(&[], &["ab"]),
            with(&["q\u{0}p"], &[]),
            with(&["q"], &["p\u{0}"]),
            with(&["q"], &["p"]),
            with(&["q", "p"], &[]),
        ];
        for (i, a) in sets.iter().enumerate() {
            for b in &sets[i + 1..] {
                assert_ne!(a, b);
            }
        }
    }
}
