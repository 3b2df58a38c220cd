//! `Authenticator::start` benchmarks: the synchronous part of `authenticateRequest` for a signed-in request
//! whose token is in the verified-token cache (the hot path), from the `__session` cookie and from the
//! `Authorization` header, plus a signed-out cookie request for scale.
//!
//! Run: `cargo bench -p clerk_native_core --bench authenticate`

use std::hint::black_box;
use std::time::{SystemTime, UNIX_EPOCH};

use clerk_native_core::auth::{AcceptsToken, AuthInput, AuthOutcome, Authenticator};
use clerk_native_core::cache::caches;
use clerk_native_core::codec::base64url;
use clerk_native_core::token::{Verifier, VerifyOptions};
use criterion::{criterion_group, criterion_main, Criterion};
use ring::signature::{RsaKeyPair, RSA_PKCS1_SHA256};
use serde_json::json;

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!(
        "{}/tests/fixtures/{name}",
        env!("CARGO_MANIFEST_DIR")
    ))
    .expect("fixture")
}

/// The publishable key of the instance `clerk.example.com` (production).
const PK_LIVE: &str = "pk_live_Y2xlcmsuZXhhbXBsZS5jb20k";

fn session_token(pair: &RsaKeyPair, now: u64) -> String {
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "ins_bench"});
    let claims = json!({
        "sub": "user_2RfWKJREkjKbHZy0Wqa5qrHeAnb", "sid": "sess_2Ro7e2IxrffdqBboq8KfB6eGbIy",
        "azp": "http://localhost:3000", "iss": "https://clerk.example.com",
        "iat": now, "nbf": now - 10, "exp": now + 3600, "v": 2, "fea": "o:impersonation",
        "o": {"id": "org_1", "rol": "admin", "slg": "acme", "per": "read,manage", "fpm": "3"},
    });
    let input = format!(
        "{}.{}",
        base64url::encode(header.to_string().as_bytes()),
        base64url::encode(claims.to_string().as_bytes())
    );
    let mut sig = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        input.as_bytes(),
        &mut sig,
    )
    .expect("sign");
    format!("{input}.{}", base64url::encode(&sig))
}

fn authenticator(pem: &str, publishable_key: Option<&str>) -> Authenticator {
    let _ = publishable_key;
    let verifier = Verifier::new(VerifyOptions {
        jwt_key: Some(pem.to_owned()),
        ..VerifyOptions::default()
    })
    .with_verified_cache(&caches().verified, b"bench-authenticate");
    Authenticator::new(verifier, AcceptsToken::default())
}

fn input<'a>(authorization: Option<&'a str>, cookie: Option<&'a str>) -> AuthInput<'a> {
    AuthInput {
        authorization,
        cookie,
        method: "GET",
    }
}

fn bench(c: &mut Criterion) {
    let pair = RsaKeyPair::from_pkcs8(&fixture("rsa2048.pk8.der")).expect("pkcs8");
    let pem = String::from_utf8(fixture("rsa2048.pub.pem")).expect("pem");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let token = session_token(&pair, now);
    let auth = authenticator(&pem, Some(PK_LIVE));
    let cookie = format!(
        "_ga=GA1.1.1234567890.1700000000; __client_uat={}; __session={token}; theme=dark",
        now - 60
    );
    let bearer = format!("Bearer {token}");

    let signed_in = |o: AuthOutcome| matches!(o, AuthOutcome::SignedIn { .. });
    assert!(signed_in(
        auth.start(&input(None, Some(&cookie))).expect("sync")
    ));
    assert!(signed_in(
        auth.start(&input(Some(&bearer), None)).expect("sync")
    ));

    c.bench_function("authenticate cookie signed-in (verified cache)", |b| {
        b.iter(|| auth.start(black_box(&input(None, Some(&cookie)))))
    });
    c.bench_function("authenticate header signed-in (verified cache)", |b| {
        b.iter(|| auth.start(black_box(&input(Some(&bearer), None))))
    });
    let no_session = "_ga=GA1.1.1234567890.1700000000; theme=dark";
    c.bench_function("authenticate cookie signed-out (no session)", |b| {
        b.iter(|| auth.start(black_box(&input(None, Some(no_session)))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
