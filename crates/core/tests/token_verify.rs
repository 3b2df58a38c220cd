//! verifyToken with a local key (`jwtKey`): every reason code, Clerk's order of checks and messages, RSA
//! 2048/3072/4096 × RS256/384/512, hostile tokens, and claims v1/v2 through real signed tokens.

mod token_support;

use std::sync::Arc;

use clerk_native_core::clock::ManualClock;
use clerk_native_core::codec::base64url;
use clerk_native_core::jwks::{JwksClient, JwksConfig};
use clerk_native_core::jwt::error::action;
use clerk_native_core::jwt::keys::pem_key_cached;
use clerk_native_core::jwt::{MAX_TOKEN_BYTES, MSG_INVALID_FORM, MSG_UNDECODABLE};
use clerk_native_core::token::{
    validate_jwt_key, verify_with_key, AuthObject, KeyError, Reason, TokenVerificationError,
    Verifier, VerifierKey, VerifyOptions,
};
use serde_json::{json, Value};
use token_support::{claims_at, fixture_str, Signer};

const NOW: i64 = 1_750_000_000; // seconds

fn client_at(secs: i64) -> Arc<JwksClient> {
    Arc::new(JwksClient::with_clock(
        JwksConfig::default(),
        Arc::new(ManualClock::new(secs * 1000)),
    ))
}

fn pem_options(pem: &str) -> VerifyOptions {
    VerifyOptions {
        jwt_key: Some(pem.to_owned()),
        ..VerifyOptions::default()
    }
}

fn verify_sync(token: &str, options: VerifyOptions) -> Result<Value, TokenVerificationError> {
    let v = Verifier::with_client(options, client_at(NOW));
    v.verify_cached(token)
        .expect("a jwtKey verification never needs the network")
        .map(Value::Object)
}

fn enc(v: &Value) -> String {
    base64url::encode(v.to_string().as_bytes())
}

#[test]
fn rsa_sizes_and_algorithms_matrix() {
    for name in ["rsa2048", "rsa3072", "rsa4096"] {
        let s = Signer::load(name);
        let bits: usize = name[3..].parse().unwrap();
        assert_eq!(s.key.modulus_bits(), bits);
        for alg in ["RS256", "RS384", "RS512"] {
            let token = s.sign(
                alg,
                &json!({"alg": alg, "typ": "JWT", "kid": "ins_1"}),
                &claims_at(NOW),
            );
            let payload = verify_sync(&token, pem_options(&s.pem))
                .unwrap_or_else(|e| panic!("{name} {alg}: {e:?}"));
            assert_eq!(payload["sub"], "user_1");
            // The same through the sync known-key entry point and through a JWK-derived key.
            let opts = VerifyOptions::default();
            assert!(verify_with_key(&token, &s.key, &opts, NOW * 1000).is_ok());
            let jwk_key = VerifierKey::from_jwk(&s.jwk("ins_1", Some(alg))).unwrap();
            assert!(verify_with_key(&token, &jwk_key, &opts, NOW * 1000).is_ok());
            // Another key never verifies it.
            let other = Signer::load("rsa2048b");
            let e = verify_with_key(&token, &other.key, &opts, NOW * 1000).unwrap_err();
            assert_eq!(e.reason, Reason::TokenInvalidSignature, "{name} {alg}");
        }
    }
}

/// One row of the reason table.
struct Case {
    name: &'static str,
    token: String,
    options: VerifyOptions,
    reason: Reason,
    message: Option<String>,
    action: Option<Option<&'static str>>,
}

#[test]
fn every_local_reason_code() {
    let s = Signer::load("rsa2048");
    let other = Signer::load("rsa2048b");
    let pem = pem_options(&s.pem);
    let hdr = json!({"alg": "RS256", "typ": "JWT", "kid": "ins_1"});
    let good = claims_at(NOW);
    let with = |patch: Value| {
        let mut c = good.clone();
        for (k, v) in patch.as_object().unwrap() {
            if v.is_null() {
                c.as_object_mut().unwrap().remove(k);
            } else {
                c[k] = v.clone();
            }
        }
        c
    };
    let sign = |claims: &Value| s.sign("RS256", &hdr, claims);
    let valid = sign(&good);
    let (vh, vp, vs) = {
        let mut it = valid.split('.');
        (
            it.next().unwrap().to_owned(),
            it.next().unwrap().to_owned(),
            it.next().unwrap().to_owned(),
        )
    };
    let hs256 = {
        // HS256 "signed" with the public key as the HMAC secret (the classic confusion attack).
        let h = enc(&json!({"alg": "HS256", "typ": "JWT", "kid": "ins_1"}));
        let p = enc(&good);
        let k = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, s.pem.as_bytes());
        let tag = ring::hmac::sign(&k, format!("{h}.{p}").as_bytes());
        format!("{h}.{p}.{}", base64url::encode(tag.as_ref()))
    };
    let secs = |t: i64| jsdate(t * 1000);

    let cases = vec![
        Case {
            name: "two parts",
            token: format!("{vh}.{vp}"),
            options: pem.clone(),
            reason: Reason::TokenInvalid,
            message: Some(MSG_INVALID_FORM.into()),
            action: Some(None),
        },
        Case {
            name: "four parts",
            token: format!("{valid}.x"),
            options: pem.clone(),
            reason: Reason::TokenInvalid,
            message: Some(MSG_INVALID_FORM.into()),
            action: Some(None),
        },
        Case {
            name: "bad base64 header",
            token: format!("{vh}*.{vp}.{vs}"),
            options: pem.clone(),
            reason: Reason::TokenInvalid,
            message: Some(MSG_UNDECODABLE.into()),
            action: Some(None),
        },
        Case {
            name: "bad base64 signature",
            token: format!("{vh}.{vp}.{vs}+"),
            options: pem.clone(),
            reason: Reason::TokenInvalid,
            message: Some(MSG_UNDECODABLE.into()),
            action: None,
        },
        Case {
            name: "non-JSON payload",
            token: format!("{vh}.{}.{vs}", base64url::encode(b"{not json")),
            options: pem.clone(),
            reason: Reason::TokenInvalid,
            message: Some(MSG_UNDECODABLE.into()),
            action: None,
        },
        Case {
            name: "oversized",
            token: format!("{vh}.{}.{vs}", "A".repeat(MAX_TOKEN_BYTES)),
            options: pem.clone(),
            reason: Reason::TokenInvalid,
            message: None,
            action: None,
        },
        Case {
            name: "M2M category",
            token: s.sign(
                "RS256",
                &json!({"alg": "RS256", "typ": "JWT", "kid": "ins_1", "cat": "cl_B7d4PD333AAA"}),
                &good,
            ),
            options: pem.clone(),
            reason: Reason::TokenInvalid,
            message: Some("Invalid session token category.".into()),
            action: Some(Some(action::ENSURE_CLERK_JWT)),
        },
        Case {
            name: "no key source",
            token: valid.clone(),
            options: VerifyOptions::default(),
            reason: Reason::JwkFailedToResolve,
            message: Some("Failed to resolve JWK during verification.".into()),
            action: Some(Some(action::SET_JWT_KEY_OR_SECRET_KEY)),
        },
        Case {
            name: "typ not allowed",
            token: s.sign(
                "RS256",
                &json!({"alg": "RS256", "typ": "at+jwt"}),
                &good,
            ),
            options: pem.clone(),
            reason: Reason::TokenInvalid,
            message: Some(r#"Invalid JWT type "at+jwt". Expected "JWT"."#.into()),
            action: Some(Some(action::ENSURE_CLERK_JWT)),
        },
        Case {
            name: "typ missing with explicit headerType",
            token: s.sign("RS256", &json!({"alg": "RS256"}), &good),
            options: VerifyOptions {
                header_type: Some(vec!["JWT".into(), "foo".into()]),
                ..pem.clone()
            },
            reason: Reason::TokenInvalid,
            message: Some(r#"Invalid JWT type undefined. Expected "JWT, foo"."#.into()),
            action: None,
        },
        Case {
            name: "alg none",
            token: format!("{}.{vp}.", enc(&json!({"alg": "none", "typ": "JWT"}))),
            options: pem.clone(),
            reason: Reason::TokenInvalidAlgorithm,
            message: Some(
                r#"Invalid JWT algorithm "none". Supported: RS256,RS384,RS512."#.into(),
            ),
            action: Some(Some(action::ENSURE_CLERK_JWT)),
        },
        Case {
            name: "HS256 with the public key as secret",
            token: hs256,
            options: pem.clone(),
            reason: Reason::TokenInvalidAlgorithm,
            message: Some(
                r#"Invalid JWT algorithm "HS256". Supported: RS256,RS384,RS512."#.into(),
            ),
            action: None,
        },
        Case {
            name: "alg missing",
            token: format!("{}.{vp}.{vs}", enc(&json!({"typ": "JWT"}))),
            options: pem.clone(),
            reason: Reason::TokenInvalidAlgorithm,
            message: Some(
                "Invalid JWT algorithm undefined. Supported: RS256,RS384,RS512.".into(),
            ),
            action: None,
        },
        Case {
            name: "signed by another key",
            token: other.sign("RS256", &hdr, &good),
            options: pem.clone(),
            reason: Reason::TokenInvalidSignature,
            message: Some("JWT signature is invalid.".into()),
            action: Some(None),
        },
        Case {
            name: "tampered payload",
            token: format!("{vh}.{}.{vs}", enc(&with(json!({"sub": "user_admin"})))),
            options: pem.clone(),
            reason: Reason::TokenInvalidSignature,
            message: None,
            action: None,
        },
        Case {
            name: "empty signature",
            token: format!("{vh}.{vp}."),
            options: pem.clone(),
            reason: Reason::TokenInvalidSignature,
            message: None,
            action: None,
        },
        Case {
            name: "signature checked before claims (expired + wrong key)",
            token: other.sign("RS256", &hdr, &with(json!({"exp": NOW - 3600}))),
            options: pem.clone(),
            reason: Reason::TokenInvalidSignature,
            message: None,
            action: None,
        },
        Case {
            name: "sub missing",
            token: sign(&with(json!({"sub": null}))),
            options: pem.clone(),
            reason: Reason::TokenVerificationFailed,
            message: Some(
                "Subject claim (sub) is required and must be a string. Received undefined.".into(),
            ),
            action: Some(Some(action::ENSURE_CLERK_JWT)),
        },
        Case {
            name: "sub not a string",
            token: sign(&with(json!({"sub": 42}))),
            options: pem.clone(),
            reason: Reason::TokenVerificationFailed,
            message: Some(
                "Subject claim (sub) is required and must be a string. Received 42.".into(),
            ),
            action: None,
        },
        Case {
            name: "audience mismatch",
            token: sign(&with(json!({"aud": "https://other.example"}))),
            options: VerifyOptions {
                audience: vec!["https://api.example".into()],
                ..pem.clone()
            },
            reason: Reason::TokenVerificationFailed,
            message: Some(
                r#"Invalid JWT audience claim (aud) "https://other.example". Is not included in "["https://api.example"]"."#
                    .into(),
            ),
            action: Some(Some(action::ENSURE_CLERK_JWT)),
        },
        Case {
            name: "azp not authorized",
            token: valid.clone(),
            options: VerifyOptions {
                authorized_parties: vec!["https://other.example".into()],
                ..pem.clone()
            },
            reason: Reason::TokenInvalidAuthorizedParties,
            message: Some(
                r#"Invalid JWT Authorized party claim (azp) "https://app.example". Expected "https://other.example"."#
                    .into(),
            ),
            action: Some(None),
        },
        Case {
            name: "azp missing with authorizedParties",
            token: sign(&with(json!({"azp": null}))),
            options: VerifyOptions {
                authorized_parties: vec!["https://app.example".into()],
                ..pem.clone()
            },
            reason: Reason::TokenInvalidAuthorizedParties,
            message: None,
            action: None,
        },
        Case {
            name: "exp missing",
            token: sign(&with(json!({"exp": null}))),
            options: pem.clone(),
            reason: Reason::TokenVerificationFailed,
            message: Some(
                "Invalid JWT expiry date claim (exp) undefined. Expected number.".into(),
            ),
            action: None,
        },
        Case {
            name: "expired",
            token: sign(&with(json!({"exp": NOW - 60}))),
            options: pem.clone(),
            reason: Reason::TokenExpired,
            message: Some(format!(
                "JWT is expired. Expiry date: {}, Current date: {}.",
                secs(NOW - 60),
                secs(NOW)
            )),
            action: Some(None),
        },
        Case {
            name: "expired beyond a zero skew",
            token: sign(&with(json!({"exp": NOW}))),
            options: VerifyOptions {
                clock_skew_ms: 0,
                ..pem.clone()
            },
            reason: Reason::TokenExpired,
            message: None,
            action: None,
        },
        Case {
            name: "not active yet",
            token: sign(&with(json!({"nbf": NOW + 60}))),
            options: pem.clone(),
            reason: Reason::TokenNotActiveYet,
            message: Some(format!(
                "JWT cannot be used prior to not before date claim (nbf). Not before date: {}; Current date: {};",
                secs(NOW + 60),
                secs(NOW)
            )),
            action: Some(None),
        },
        Case {
            name: "iat in the future",
            token: sign(&with(json!({"iat": NOW + 60, "nbf": null}))),
            options: pem.clone(),
            reason: Reason::TokenIatInTheFuture,
            message: Some(format!(
                "JWT issued at date claim (iat) is in the future. Issued at date: {}; Current date: {};",
                secs(NOW + 60),
                secs(NOW)
            )),
            action: Some(None),
        },
        Case {
            name: "non-RSA jwtKey",
            token: valid.clone(),
            options: pem_options(&fixture_str("ec256.pub.pem")),
            reason: Reason::JwkFailedToResolve,
            message: Some(
                "Invalid jwtKey (CLERK_JWT_KEY): it is not an RSA public key PEM (SPKI or PKCS#1): Unsupported key type: EC."
                    .into(),
            ),
            action: Some(Some(action::FIX_JWT_KEY)),
        },
        Case {
            name: "RSA-1024 jwtKey",
            token: valid.clone(),
            options: pem_options(&fixture_str("rsa1024.pub.pem")),
            reason: Reason::JwkFailedToResolve,
            message: Some(
                "Invalid jwtKey (CLERK_JWT_KEY): it is not an RSA public key PEM (SPKI or PKCS#1): Unsupported RSA modulus size: 1024 bits (2048 to 8192 bits are supported)."
                    .into(),
            ),
            action: Some(Some(action::FIX_JWT_KEY)),
        },
        Case {
            name: "garbage jwtKey",
            token: valid.clone(),
            options: pem_options("-----BEGIN PUBLIC KEY-----\n@@@@\n-----END PUBLIC KEY-----"),
            reason: Reason::JwkFailedToResolve,
            message: Some(
                "Invalid jwtKey (CLERK_JWT_KEY): it is not an RSA public key PEM (SPKI or PKCS#1): Invalid PEM public key: bad base64 body."
                    .into(),
            ),
            action: Some(Some(action::FIX_JWT_KEY)),
        },
    ];

    for c in cases {
        let e = verify_sync(&c.token, c.options).expect_err(c.name);
        assert_eq!(e.reason, c.reason, "{}: {e:?}", c.name);
        if let Some(m) = c.message {
            assert_eq!(e.message, m, "{}", c.name);
        }
        if let Some(a) = c.action {
            assert_eq!(e.action, a, "{}", c.name);
        }
    }
}

/// `Date.prototype.toUTCString()` for a few known instants (checked against Node).
fn jsdate(ms: i64) -> String {
    clerk_native_core::codec::jsfmt::utc_string(Some(ms as f64))
}

#[test]
fn js_date_format_matches_node() {
    // new Date(1750000000000).toUTCString()
    assert_eq!(jsdate(1_750_000_000_000), "Sun, 15 Jun 2025 15:06:40 GMT");
}

#[test]
fn jwk_local_missing_and_reason_strings() {
    let e = VerifierKey::from_pem("").unwrap_err();
    assert_eq!(e, KeyError::LocalMissing);
    let t = e.to_verification_error();
    assert_eq!(t.reason, Reason::JwkLocalMissing);
    assert_eq!(t.message, "Missing local JWK.");
    assert_eq!(t.action, Some(action::SET_CLERK_JWT_KEY));
    assert_eq!(Reason::JwkRemoteInvalid.as_str(), "jwk-remote-invalid");
    assert_eq!(Reason::JwkRemoteMissing.as_str(), "jwk-remote-missing");
}

#[test]
fn header_type_rules() {
    let s = Signer::load("rsa2048");
    let claims = claims_at(NOW);
    // No typ and no headerType: accepted.
    let no_typ = s.sign("RS256", &json!({"alg": "RS256"}), &claims);
    assert!(verify_sync(&no_typ, pem_options(&s.pem)).is_ok());
    // typ null is not "absent".
    let null_typ = s.sign("RS256", &json!({"alg": "RS256", "typ": null}), &claims);
    let e = verify_sync(&null_typ, pem_options(&s.pem)).unwrap_err();
    assert_eq!(e.message, r#"Invalid JWT type null. Expected "JWT"."#);
    // A custom list admits its values.
    let custom = s.sign("RS256", &json!({"alg": "RS256", "typ": "foo"}), &claims);
    let opts = VerifyOptions {
        header_type: Some(vec!["JWT".into(), "foo".into()]),
        ..pem_options(&s.pem)
    };
    assert!(verify_sync(&custom, opts).is_ok());
}

#[test]
fn jwk_alg_restriction_fails_like_webcrypto_import() {
    let s = Signer::load("rsa2048");
    let token = s.sign(
        "RS384",
        &json!({"alg": "RS384", "typ": "JWT"}),
        &claims_at(NOW),
    );
    let key = VerifierKey::from_jwk(&s.jwk("k", Some("RS256"))).unwrap();
    let e = verify_with_key(&token, &key, &VerifyOptions::default(), NOW * 1000).unwrap_err();
    assert_eq!(e.reason, Reason::TokenVerificationFailed);
    assert!(e
        .message
        .starts_with("Error verifying JWT signature. Error: The JWK \"alg\""));
}

#[test]
fn pem_keys_are_parsed_once() {
    let s = Signer::load("rsa3072");
    let a = pem_key_cached(&s.pem);
    let b = pem_key_cached(&s.pem);
    assert!(Arc::ptr_eq(&a, &b));
    // Clerk-style PEM with literal \n escapes and CRLF parses to the same key.
    let escaped = s.pem.replace('\n', "\\n");
    assert_eq!(VerifierKey::from_pem(&escaped).unwrap(), s.key);
    let crlf = s.pem.replace('\n', "\r\n");
    assert_eq!(VerifierKey::from_pem(&crlf).unwrap(), s.key);
}

#[test]
fn hostile_inputs_never_panic() {
    let s = Signer::load("rsa2048");
    let opts = VerifyOptions::default();
    let valid = s.session("k", &claims_at(NOW));
    let bytes = valid.as_bytes();
    let mut seed: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        seed
    };
    for _ in 0..3000 {
        // Random mutations of a valid token.
        let mut m = bytes.to_vec();
        for _ in 0..(next() % 4 + 1) {
            let i = (next() as usize) % m.len();
            m[i] = b"AZaz09-_.=+/ \x00\xff"[(next() % 15) as usize];
        }
        let t = String::from_utf8_lossy(&m);
        let r = verify_with_key(&t, &s.key, &opts, NOW * 1000);
        if m != bytes {
            assert!(r.is_err(), "{t}");
        }
    }
    let deep = format!("{}{}", "[".repeat(10_000), "]".repeat(10_000));
    let hostile = [
        String::new(),
        ".".into(),
        "..".into(),
        "...".into(),
        "\u{0}.\u{0}.\u{0}".into(),
        format!("{}.{}.{}", enc(&json!(deep)), enc(&json!({})), "AA"),
        format!(
            "{}.{}.AA",
            base64url::encode(deep.as_bytes()),
            enc(&json!({}))
        ),
        format!(
            "{}.{}.AA",
            enc(&json!({"alg": "RS256"})),
            enc(&json!({"exp": 1e308}))
        ),
        format!("{}.{}.AA", enc(&json!({"alg": ["RS256"]})), enc(&json!({}))),
        format!(
            "{}.{}.AA",
            enc(&json!({"alg": "RS256", "kid": {"a": 1}})),
            enc(&json!({}))
        ),
        "é.é.é".into(),
    ];
    for t in &hostile {
        assert!(
            verify_with_key(t, &s.key, &opts, NOW * 1000).is_err(),
            "{t}"
        );
    }
}

#[test]
fn claims_v1_and_v2_through_signed_tokens() {
    let s = Signer::load("rsa2048");
    let base = claims_at(NOW);
    let mut v1 = base.clone();
    v1["org_id"] = json!("org_1");
    v1["org_role"] = json!("org:admin");
    v1["org_slug"] = json!("acme");
    v1["org_permissions"] = json!([
        "org:impersonation:read",
        "org:memberships:read",
        "org:memberships:manage"
    ]);
    v1["fea"] = json!("o:impersonation,o:memberships");
    let mut v2 = base.clone();
    v2["v"] = json!(2);
    v2["fea"] = json!("o:impersonation,o:memberships");
    v2["o"] =
        json!({"id": "org_1", "rol": "admin", "slg": "acme", "per": "read,manage", "fpm": "1,3"});
    let opts = pem_options(&s.pem);
    let p1 = verify_sync(&s.session("k", &v1), opts.clone()).unwrap();
    let p2 = verify_sync(&s.session("k", &v2), opts).unwrap();
    let a1 = AuthObject::from_claims(p1.as_object().unwrap()).unwrap();
    let a2 = AuthObject::from_claims(p2.as_object().unwrap()).unwrap();
    assert!(a1.same_identity(&a2));
    assert_eq!(a2.org_role.as_deref(), Some("org:admin"));
    assert_eq!(
        serde_json::to_value(&a1).unwrap()["orgPermissions"],
        serde_json::to_value(&a2).unwrap()["orgPermissions"]
    );
}

#[test]
fn an_unusable_jwt_key_names_the_option_not_the_token() {
    let s = Signer::load("rsa2048");
    let token = s.sign(
        "RS256",
        &json!({"alg": "RS256", "typ": "JWT"}),
        &claims_at(NOW),
    );
    let blank = "Invalid jwtKey (CLERK_JWT_KEY): it is blank.";
    let not_rsa =
        "Invalid jwtKey (CLERK_JWT_KEY): it is not an RSA public key PEM (SPKI or PKCS#1): ";
    let cases: [(&str, &str); 4] = [
        ("  \n\t ", blank),
        ("definitely not a key", not_rsa),
        (
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            not_rsa,
        ),
        ("-----BEGIN PUBLIC KEY-----\nMIIB\n", not_rsa),
    ];
    for (pem, message) in cases {
        let e = validate_jwt_key(pem).unwrap_err();
        assert_eq!(e.reason, Reason::JwkFailedToResolve, "{pem:?}");
        assert!(e.message.starts_with(message), "{pem:?}: {}", e.message);
        assert_eq!(e.action, Some(action::FIX_JWT_KEY));
        // Verification fails the same way, for any token, before looking at the token's header.
        assert_eq!(verify_sync(&token, pem_options(pem)).unwrap_err(), e);
        let bad_alg = s.sign(
            "RS256",
            &json!({"alg": "HS256", "typ": "JWT"}),
            &claims_at(NOW),
        );
        assert_eq!(verify_sync(&bad_alg, pem_options(pem)).unwrap_err(), e);
    }
    // A malformed token is still reported first (decode comes before key selection, as in Clerk).
    assert_eq!(
        verify_sync("not-a-jwt", pem_options("garbage"))
            .unwrap_err()
            .reason,
        Reason::TokenInvalid
    );
    assert!(validate_jwt_key(&s.pem).is_ok());
    assert!(validate_jwt_key("").is_ok(), "empty is unset, not invalid");
}
