use std::hint::black_box;

use criterion::{criterion_group, criterion_main, Criterion};
use rsa_bench::fixture;

fn bench(c: &mut Criterion) {
    let f = fixture();
    std::fs::write(
        concat!(env!("CARGO_MANIFEST_DIR"), "/fixtures/signature.bin"),
        &f.signature,
    )
    .expect("write sig");

    // ring: what clerk_native_core does today (jwt/keys.rs: RsaPublicKeyComponents::verify on every call).
    let ring_key = ring::signature::RsaPublicKeyComponents {
        n: &f.n[..],
        e: &f.e[..],
    };
    ring_key
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &f.message,
            &f.signature,
        )
        .expect("ring ok");
    let mut bad = f.signature.clone();
    bad[10] ^= 1;
    assert!(ring_key
        .verify(
            &ring::signature::RSA_PKCS1_2048_8192_SHA256,
            &f.message,
            &bad
        )
        .is_err());
    c.bench_function("ring 0.17.14 RsaPublicKeyComponents::verify", |b| {
        b.iter(|| {
            ring_key.verify(
                &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                black_box(&f.message),
                black_box(&f.signature),
            )
        })
    });

    // aws-lc-rs, the same per-call shape (the key is rebuilt on every call).
    let aws_key = aws_lc_rs::signature::RsaPublicKeyComponents {
        n: &f.n[..],
        e: &f.e[..],
    };
    aws_key
        .verify(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            &f.message,
            &f.signature,
        )
        .expect("aws ok");
    assert!(aws_key
        .verify(
            &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
            &f.message,
            &bad
        )
        .is_err());
    c.bench_function(
        "aws-lc-rs RsaPublicKeyComponents::verify (key per call)",
        |b| {
            b.iter(|| {
                aws_key.verify(
                    &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                    black_box(&f.message),
                    black_box(&f.signature),
                )
            })
        },
    );

    // aws-lc-rs with the key parsed once (ParsedPublicKey), as node:crypto's KeyObject is.
    let parsed = aws_key
        .to_parsed_public_key(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256)
        .expect("parsed");
    parsed
        .verify_sig(&f.message, &f.signature)
        .expect("parsed ok");
    assert!(parsed.verify_sig(&f.message, &bad).is_err());
    c.bench_function(
        "aws-lc-rs ParsedPublicKey::verify_sig (key parsed once)",
        |b| b.iter(|| parsed.verify_sig(black_box(&f.message), black_box(&f.signature))),
    );

    // The SHA-256 of the message alone, to see how much of a verification is hashing.
    c.bench_function("ring SHA-256 of the message", |b| {
        b.iter(|| ring::digest::digest(&ring::digest::SHA256, black_box(&f.message)))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
