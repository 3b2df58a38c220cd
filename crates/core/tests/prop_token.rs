//! Property tests for token handling (SECURITY.md, "Fuzzing"): JWT decoding and verification, session claims
//! and the `fpm` bitmasks, `Authorization` / cookie extraction, and `Authenticator::start` with arbitrary input.
//!
//! The invariants live in `prop_support` and are shared with the cargo-fuzz targets in `fuzz/`. The long run is
//! `PROPTEST_CASES=100000 cargo test -p clerk_native_core --release --test prop_token` (or `scripts/fuzz.sh`).

mod prop_support;

use clerk_native_core::auth::{AcceptsToken, AuthInput, AuthOutcome, Authenticator};
use clerk_native_core::codec::base64url;
use clerk_native_core::token::{
    decode_jwt, verify_with_key, AuthObject, Reason, Verifier, VerifyOptions,
};
use prop_support::*;
use proptest::prelude::*;
use proptest::sample::select;
use serde_json::{json, Map, Value};

fn config(cases: u32) -> ProptestConfig {
    let mut c = ProptestConfig::default();
    if std::env::var_os("PROPTEST_CASES").is_none() {
        c.cases = cases;
    }
    c
}

fn bytes(max: usize) -> impl Strategy<Value = Vec<u8>> {
    prop::collection::vec(any::<u8>(), 0..max)
}

fn text(dict: &'static [&'static str], pieces: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(
        prop_oneof![
            3 => select(dict).prop_map(str::to_owned),
            1 => "\\PC{0,4}",
            1 => any::<char>().prop_map(String::from),
        ],
        0..pieces,
    )
    .prop_map(|v| v.concat())
}

/// Arbitrary JSON, with odd numbers (huge, negative, fractional) and odd strings.
fn arb_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(|n| json!(n)),
        any::<f64>()
            .prop_map(|f| serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number)),
        select(
            &[
                1e300,
                -1e300,
                0.5,
                -0.0,
                9007199254740993.0,
                8.64e12,
                8.64e12 + 1.0
            ][..]
        )
        .prop_map(|f| json!(f)),
        "\\PC{0,12}".prop_map(Value::String),
        select(
            &[
                "",
                "o:f1",
                "user_1",
                "2",
                "org:admin",
                "18446744073709551616",
                "1e3",
                "-1"
            ][..]
        )
        .prop_map(|s| json!(s)),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::btree_map(
                select(
                    &[
                        "sub", "sid", "v", "o", "id", "rol", "per", "fpm", "fea", "pla", "fva",
                        "act", "exp", "x"
                    ][..]
                )
                .prop_map(str::to_owned),
                inner,
                0..6
            )
            .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

fn arb_claims() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::btree_map(
        select(
            &[
                "sub",
                "sid",
                "sts",
                "act",
                "v",
                "o",
                "org_id",
                "org_role",
                "org_slug",
                "org_permissions",
                "fea",
                "pla",
                "fva",
                "azp",
                "exp",
                "nbf",
                "iat",
                "aud",
            ][..],
        )
        .prop_map(str::to_owned),
        arb_json(),
        0..12,
    )
    .prop_map(|m| m.into_iter().collect())
}

/// A decimal mask: small, at the u64/u128 edges, or hundreds of digits.
fn mask() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<u64>().prop_map(|n| n.to_string()),
        any::<u128>().prop_map(|n| n.to_string()),
        "[0-9]{1,300}",
        select(
            &[
                "",
                "0",
                "-1",
                "+1",
                " 1",
                "1 ",
                "0x10",
                "1e3",
                "١",
                "18446744073709551616"
            ][..]
        )
        .prop_map(str::to_owned),
    ]
}

proptest! {
    #![proptest_config(config(2048))]

    /// Decoding never panics; errors are token-invalid; verification with the real key never accepts a signed
    /// part we did not sign (genuine tokens with one byte mutated, unsigned tokens, garbage).
    #[test]
    fn jwt_decode_and_verify(data in bytes(256)) {
        check_jwt(&decode_token(&data));
    }

    /// Arbitrary strings, including huge ones (over the 16 KiB limit) and many dots.
    #[test]
    fn jwt_any_string(s in prop_oneof!["\\PC{0,64}", text(JWT_WORDS, 40), "[a-zA-Z0-9_.=-]{0,200}"], repeat in 0usize..3) {
        let token = s.repeat(1 + repeat * 700);
        check_jwt(&token);
    }

    /// `decimal_low_bits` equals the schoolbook reference for any length and width.
    #[test]
    fn fpm_low_bits(s in prop_oneof![mask(), "\\PC{0,20}"], width in 0usize..200) {
        check_decimal_low_bits(&s, width);
    }

    /// base64url: encode/decode round-trip; decoding rejects non-canonical tails and foreign characters.
    #[test]
    fn base64url_roundtrip(data in bytes(64), s in "[A-Za-z0-9_=+/ -]{0,24}") {
        prop_assert_eq!(base64url::decode(&base64url::encode(&data)).unwrap(), data);
        if let Ok(d) = base64url::decode(&s) {
            prop_assert_eq!(base64url::encode(&d), s.trim_end_matches('='));
        }
    }

    /// `Authorization` parsing follows Clerk: a bare token, `Bearer <t>` (case-sensitive), nothing else.
    #[test]
    fn authorization_header(v in prop_oneof![
        "\\PC{0,30}",
        text(&["Bearer ", "bearer ", "Basic ", "Bearer", " ", "tok", "\t"][..], 5),
    ]) {
        check_authorization(&v);
    }

    /// Cookie parsing never panics and returns a slice of the header under that exact name.
    #[test]
    fn cookie_header(
        h in text(&["__session", "__session=", "=", ";", " ", "\"", "__client_uat=", "x__session=", "a=b"][..], 10),
        name in select(&["__session", "__client_uat", "", "a"][..]),
    ) {
        check_cookie(&h, name);
    }

    /// `Authenticator::start` with arbitrary Authorization / Cookie / method / acceptsToken / key source: never
    /// panics; signed in only with a genuine token and then as that token's user.
    #[test]
    fn authenticate_start(data in bytes(256)) {
        check_auth(&AuthCase::decode(&data));
    }
}

proptest! {
    #![proptest_config(config(256))]

    /// Claims of any shape: `AuthObject::from_claims` and `has()` never panic; v2 permissions match the reference.
    #[test]
    fn claims_any(claims in arb_claims()) {
        check_claims(&claims);
    }

    /// v2 `o.fpm` / `o.per` / `fea` with huge and odd masks: permissions match the reference bit for bit.
    #[test]
    fn claims_v2_fpm(
        features in prop::collection::vec((select(&["o", "u", "ou", "uo", "x", "o:o"][..]), "[a-z_]{1,8}"), 0..6),
        perms in prop::collection::vec("[a-z_]{0,6}", 0..70),
        masks in prop::collection::vec(mask(), 0..7),
        raw_fea in proptest::option::of("\\PC{0,20}"),
    ) {
        let fea = raw_fea.unwrap_or_else(|| {
            features.iter().map(|(s, n)| format!("{s}:{n}")).collect::<Vec<_>>().join(",")
        });
        let claims = json!({
            "sub": "user_1", "v": 2, "fea": fea,
            "o": {"id": "org_1", "rol": "admin", "per": perms.join(","), "fpm": masks.join(",")},
        });
        check_claims(claims.as_object().unwrap());
    }

    /// Structured tokens: `alg: none`, HS256 keyed with the public key PEM, unknown algorithms, `crit`, `jku`,
    /// `x5u`, `jwk`, path-like `kid`s: only RS256/384/512 signed by the real key verify; `crit`, `jku`, `x5u`
    /// and `kid` never change the outcome (no fetch happens in `verify_with_key`).
    #[test]
    fn jwt_header_tricks(
        alg in select(&["RS256", "none", "None", "HS256", "HS384", "ES256", "PS256", "", "rs256"][..]),
        extra in prop::collection::vec((select(&["crit", "jku", "x5u", "jwk", "kid", "typ", "cat", "b64"][..]), arb_json()), 0..4),
        claims in arb_claims(),
        exp_ahead in any::<bool>(),
    ) {
        let k = keys();
        let mut header = json!({"alg": alg});
        for (name, v) in extra {
            header[name] = v;
        }
        let mut claims = Value::Object(claims);
        claims["sub"] = json!("user_tricks");
        let now = now_secs();
        claims["exp"] = json!(if exp_ahead { now + 3600 } else { now - 3600 });
        claims.as_object_mut().unwrap().remove("nbf");
        claims.as_object_mut().unwrap().remove("iat");
        claims.as_object_mut().unwrap().remove("azp");
        claims.as_object_mut().unwrap().remove("aud");
        let input = format!(
            "{}.{}",
            base64url::encode(header.to_string().as_bytes()),
            base64url::encode(claims.to_string().as_bytes())
        );
        let token = match alg {
            "RS256" => k.sign_raw(&input),
            "none" | "None" | "" => format!("{input}."),
            _ => {
                // HMAC with the public key PEM as the secret: the classic algorithm-confusion forgery.
                let key = ring::hmac::Key::new(ring::hmac::HMAC_SHA256, k.pem.as_bytes());
                let tag = ring::hmac::sign(&key, input.as_bytes());
                format!("{input}.{}", base64url::encode(tag.as_ref()))
            }
        };
        let opts = VerifyOptions::default();
        let r = verify_with_key(&token, &k.key, &opts, now * 1000);
        match alg {
            "RS256" => {
                let typ = header.get("typ");
                let cat_m2m = header.get("cat").and_then(Value::as_str) == Some("cl_B7d4PD333AAA");
                let typ_ok = typ.is_none() || typ.and_then(Value::as_str) == Some("JWT");
                if typ_ok && !cat_m2m && exp_ahead {
                    prop_assert!(r.is_ok(), "{:?}", r);
                } else {
                    prop_assert!(r.is_err());
                }
            }
            _ => {
                let e = r.unwrap_err();
                prop_assert!(
                    matches!(e.reason, Reason::TokenInvalidAlgorithm | Reason::TokenInvalid),
                    "{:?}", e
                );
            }
        }
        check_jwt_signed(&token, Some(&input));
    }

    /// exp / nbf / iat exactly at the clock-skew boundary (verification is in ms, claims in seconds: the skew
    /// places the boundary on an exact millisecond).
    #[test]
    fn time_claim_boundaries(t in 1_600_000_000i64..2_000_000_000, skew in -10_000i64..60_000, claim in 0u8..3) {
        let k = keys();
        let name = ["exp", "nbf", "iat"][claim as usize];
        let mut claims = json!({"sub": "user_time", "exp": t + 100_000});
        claims[name] = json!(t);
        let token = k.sign(&json!({"alg": "RS256", "typ": "JWT"}), &claims);
        let opts = VerifyOptions { clock_skew_ms: skew, ..Default::default() };
        let at = |now_ms: i64| verify_with_key(&token, &k.key, &opts, now_ms).map_err(|e| e.reason);
        let edge = t * 1000;
        match name {
            // Expired when exp*1000 <= now - skew.
            "exp" => {
                prop_assert_eq!(at(edge + skew - 1).err(), None);
                prop_assert_eq!(at(edge + skew).err(), Some(Reason::TokenExpired));
            }
            // Not active when nbf*1000 > now + skew.
            "nbf" => {
                prop_assert_eq!(at(edge - skew).err(), None);
                prop_assert_eq!(at(edge - skew - 1).err(), Some(Reason::TokenNotActiveYet));
            }
            _ => {
                prop_assert_eq!(at(edge - skew).err(), None);
                prop_assert_eq!(at(edge - skew - 1).err(), Some(Reason::TokenIatInTheFuture));
            }
        }
    }

    /// One user's token never yields another's identity, from the verified-token cache or not: random
    /// interleavings of three users' tokens (one sid-less), by header or cookie, through one cached authenticator.
    #[test]
    fn cached_identities_never_cross(seq in prop::collection::vec((0usize..3, any::<bool>(), any::<bool>()), 1..24)) {
        let k = keys();
        // One process-wide cache for every case: later cases are answered from entries earlier ones stored.
        let cache = verified_cache();
        let verifier = Verifier::new(VerifyOptions { jwt_key: Some(k.pem.clone()), ..Default::default() })
            .with_verified_cache(cache, b"prop-isolation");
        let auth = Authenticator::new(verifier, AcceptsToken::default());
        for (user, by_cookie, get) in seq {
            let (token, sub) = &k.genuine[user];
            let header = format!("Bearer {token}");
            let cookie = format!("__session={token}; __client_uat=1");
            let input = AuthInput {
                authorization: (!by_cookie).then_some(header.as_str()),
                cookie: by_cookie.then_some(cookie.as_str()),
                method: if get { "GET" } else { "POST" },
            };
            match auth.start(&input) {
                Ok(AuthOutcome::SignedIn { claims, token: t, .. }) => {
                    prop_assert_eq!(&t, token);
                    let c: Value = serde_json::from_str(claims.as_deref().unwrap()).unwrap();
                    prop_assert_eq!(c["sub"].as_str(), Some(sub.as_str()));
                    let a = AuthObject::from_claims(c.as_object().unwrap()).unwrap();
                    prop_assert_eq!(a.user_id.as_deref(), Some(sub.as_str()));
                }
                other => prop_assert!(false, "{:?}", other),
            }
        }
    }
}

/// The decoder errors are Clerk's: wrong part count and undecodable parts are token-invalid.
#[test]
fn decode_errors_are_token_invalid() {
    for t in [
        "",
        ".",
        "..",
        "a.b",
        "a.b.c.d",
        "e30.e30.!",
        "W10.e30.",
        "e30.W10.",
        &"a".repeat(17 * 1024),
    ] {
        assert_eq!(
            decode_jwt(t).unwrap_err().reason,
            Reason::TokenInvalid,
            "{t:.20}"
        );
    }
}
