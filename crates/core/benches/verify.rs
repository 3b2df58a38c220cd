//! Token verification benchmarks: the sync known-key path (RSA 2048/4096, RS256), its parts (decode, signature),
//! the `Verifier` cached path, and the cost of hopping to a Tokio worker and back for one verification.
//!
//! Run: `cargo bench -p clerk_native_core --bench verify`

use std::hint::black_box;
use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use clerk_native_core::codec::base64url;
use clerk_native_core::token::{
    decode_jwt, verify_with_key, Algorithm, Verifier, VerifierKey, VerifyOptions,
};
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

struct Setup {
    token: String,
    key: VerifierKey,
    pem: String,
}

fn setup(bits: u32) -> Setup {
    let pair = RsaKeyPair::from_pkcs8(&fixture(&format!("rsa{bits}.pk8.der"))).expect("pkcs8");
    let pem = String::from_utf8(fixture(&format!("rsa{bits}.pub.pem"))).expect("pem");
    let now = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock")
        .as_secs();
    let header = json!({"alg": "RS256", "typ": "JWT", "kid": "ins_bench"});
    let claims = json!({
        "sub": "user_2RfWKJREkjKbHZy0Wqa5qrHeAnb", "sid": "sess_2Ro7e2IxrffdqBboq8KfB6eGbIy",
        "azp": "http://localhost:3000", "iss": "https://magical-marmoset-51.clerk.accounts.dev",
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
    Setup {
        token: format!("{input}.{}", base64url::encode(&sig)),
        key: VerifierKey::from_pem(&pem).expect("key"),
        pem,
    }
}

fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as i64)
}

fn bench(c: &mut Criterion) {
    let opts = VerifyOptions::default();
    for bits in [2048, 4096] {
        let s = setup(bits);
        let now = now_ms();
        assert!(verify_with_key(&s.token, &s.key, &opts, now).is_ok());
        c.bench_function(&format!("verify_with_key RS256 {bits}"), |b| {
            b.iter(|| verify_with_key(black_box(&s.token), &s.key, &opts, now))
        });
        let jwt = decode_jwt(&s.token).expect("decode");
        c.bench_function(&format!("signature only RS256 {bits}"), |b| {
            b.iter(|| {
                s.key.verify(
                    Algorithm::Rs256,
                    black_box(jwt.signing_input.as_bytes()),
                    &jwt.signature,
                )
            })
        });
    }

    let s = setup(2048);
    c.bench_function("decode only", |b| {
        b.iter(|| decode_jwt(black_box(&s.token)))
    });
    let verifier = Verifier::new(VerifyOptions {
        jwt_key: Some(s.pem.clone()),
        ..VerifyOptions::default()
    });
    c.bench_function("Verifier::verify_cached (jwtKey) RS256 2048", |b| {
        b.iter(|| verifier.verify_cached(black_box(&s.token)))
    });

    // Calling thread vs. a hop to a runtime worker and back, for one verification.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .build()
        .expect("runtime");
    let shared = Arc::new((s.token.clone(), s.key.clone()));
    let now = now_ms();
    c.bench_function("hop: spawn on worker + await, RS256 2048", |b| {
        b.iter(|| {
            let shared = shared.clone();
            rt.block_on(async move {
                let opts = VerifyOptions::default();
                rt_spawn(move || verify_with_key(&shared.0, &shared.1, &opts, now).is_ok()).await
            })
        })
    });
}

async fn rt_spawn(f: impl FnOnce() -> bool + Send + 'static) -> bool {
    tokio::spawn(async move { f() }).await.unwrap_or(false)
}

criterion_group!(benches, bench);
criterion_main!(benches);
