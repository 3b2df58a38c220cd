//! Interleaved rounds (ring, aws-lc-rs per call, aws-lc-rs parsed), each round a burst of BURST verifications;
//! prints the best and the median ns/op per implementation. On a shared, loaded machine the best burst is the
//! closest to the operation's own cost, and interleaving gives every implementation the same background.
//! Usage: interleaved [rounds = 200] [burst = 500]
use std::hint::black_box;
use std::time::Instant;

fn main() {
    let args: Vec<u64> = std::env::args()
        .skip(1)
        .filter_map(|a| a.parse().ok())
        .collect();
    let rounds = args.first().copied().unwrap_or(200) as usize;
    let burst = args.get(1).copied().unwrap_or(500);
    let f = rsa_bench::fixture();
    let ring_key = ring::signature::RsaPublicKeyComponents {
        n: &f.n[..],
        e: &f.e[..],
    };
    let aws_key = aws_lc_rs::signature::RsaPublicKeyComponents {
        n: &f.n[..],
        e: &f.e[..],
    };
    let parsed = aws_key
        .to_parsed_public_key(&aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256)
        .unwrap();
    let runs: [(&str, Box<dyn Fn() -> bool>); 3] = [
        (
            "ring 0.17.14 RsaPublicKeyComponents::verify",
            Box::new(|| {
                ring_key
                    .verify(
                        &ring::signature::RSA_PKCS1_2048_8192_SHA256,
                        black_box(&f.message),
                        black_box(&f.signature),
                    )
                    .is_ok()
            }),
        ),
        (
            "aws-lc-rs 1.19.0 RsaPublicKeyComponents::verify",
            Box::new(|| {
                aws_key
                    .verify(
                        &aws_lc_rs::signature::RSA_PKCS1_2048_8192_SHA256,
                        black_box(&f.message),
                        black_box(&f.signature),
                    )
                    .is_ok()
            }),
        ),
        (
            "aws-lc-rs 1.19.0 ParsedPublicKey::verify_sig",
            Box::new(|| {
                parsed
                    .verify_sig(black_box(&f.message), black_box(&f.signature))
                    .is_ok()
            }),
        ),
    ];
    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); runs.len()];
    for (_, run) in &runs {
        for _ in 0..burst {
            assert!(run());
        }
    }
    for r in 0..rounds {
        for k in 0..runs.len() {
            let i = (k + r) % runs.len();
            let t = Instant::now();
            let mut ok = true;
            for _ in 0..burst {
                ok &= runs[i].1();
            }
            let ns = t.elapsed().as_nanos() as f64 / burst as f64;
            assert!(ok);
            samples[i].push(ns);
        }
    }
    println!("rounds {rounds} x burst {burst}");
    for (i, (name, _)) in runs.iter().enumerate() {
        let s = &mut samples[i];
        s.sort_by(|a, b| a.partial_cmp(b).unwrap());
        let best = s[0];
        let p10 = s[s.len() / 10];
        let med = s[s.len() / 2];
        println!("{name:52} best {:7.2} us ({:6.0}/s)  p10 {:7.2} us ({:6.0}/s)  median {:7.2} us ({:6.0}/s)", best / 1e3, 1e9 / best, p10 / 1e3, 1e9 / p10, med / 1e3, 1e9 / med);
    }
}
