//! Replays the committed cargo-fuzz corpora (`fuzz/corpus/<target>/`) through the same invariants the fuzz
//! targets check (`prop_support::fuzz_one`), so every input the fuzzer kept, and any crash reproducer added to a
//! corpus, runs in `cargo test` on stable Rust without libFuzzer. See SECURITY.md, "Fuzzing".

mod prop_support;

use std::path::Path;

use prop_support::{fuzz_one, TARGETS};

#[test]
fn replay_fuzz_corpora() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../fuzz/corpus");
    for target in TARGETS {
        let Ok(entries) = std::fs::read_dir(root.join(target)) else {
            eprintln!("{target}: no corpus");
            continue;
        };
        let mut paths: Vec<_> = entries
            .filter_map(Result::ok)
            .map(|e| e.path())
            .filter(|p| p.is_file())
            .collect();
        paths.sort();
        for path in &paths {
            let data = std::fs::read(path).expect("corpus file");
            let r = std::panic::catch_unwind(|| fuzz_one(target, &data));
            assert!(
                r.is_ok(),
                "{target}: {} violates an invariant",
                path.display()
            );
        }
        eprintln!("{target}: {} corpus inputs replayed", paths.len());
    }
}
