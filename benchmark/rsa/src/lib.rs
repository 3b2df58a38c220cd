//! Fixtures for the RSA-2048 PKCS#1 v1.5 SHA-256 verification bench (ring vs aws-lc-rs).

use ring::signature::{KeyPair, RsaKeyPair, RSA_PKCS1_SHA256};

pub struct Fixture {
    pub n: Vec<u8>,
    pub e: Vec<u8>,
    pub spki_der_pkcs1: Vec<u8>,
    pub message: Vec<u8>,
    pub signature: Vec<u8>,
}

fn strip(b: &[u8]) -> Vec<u8> {
    let i = b.iter().position(|&x| x != 0).unwrap_or(b.len());
    b[i..].to_vec()
}

/// The 2048-bit key of the core's fixtures, and a ~800-byte message shaped like a Clerk session JWT's signing input.
pub fn fixture() -> Fixture {
    let dir = env!("CARGO_MANIFEST_DIR");
    let der = std::fs::read(format!(
        "{dir}/../../crates/core/tests/fixtures/rsa2048.pk8.der"
    ))
    .expect("pk8");
    let pair = RsaKeyPair::from_pkcs8(&der).expect("pkcs8");
    let message = std::fs::read(format!("{dir}/fixtures/message.txt"))
        .expect("fixtures/message.txt (node gen-message.mjs)");
    let mut signature = vec![0u8; pair.public().modulus_len()];
    pair.sign(
        &RSA_PKCS1_SHA256,
        &ring::rand::SystemRandom::new(),
        &message,
        &mut signature,
    )
    .expect("sign");
    let comps: ring::rsa::PublicKeyComponents<Vec<u8>> = pair.public().into();
    Fixture {
        n: strip(&comps.n),
        e: strip(&comps.e),
        spki_der_pkcs1: pair.public_key().as_ref().to_vec(),
        message,
        signature,
    }
}
