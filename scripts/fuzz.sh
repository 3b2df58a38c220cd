#!/usr/bin/env bash
# The long versions of the fuzz and property tests (SECURITY.md, "Fuzzing"). The short versions run in
# `cargo test` (crates/core/tests/prop_*.rs, and prop_corpus.rs replays the committed corpora).
#
#   scripts/fuzz.sh                    # every cargo-fuzz target for 300 s, then the proptest long run
#   scripts/fuzz.sh 60 jwt prepare     # 60 s each, only these targets
#   FUZZ_SKIP_PROPTEST=1 scripts/fuzz.sh      # cargo-fuzz only
#   FUZZ_SKIP_LIBFUZZER=1 scripts/fuzz.sh     # proptest only (PROPTEST_CASES, default 100000, release build)
#
# cargo-fuzz needs nightly-only rustc flags (-Zsanitizer=address ...). On a stable toolchain this script sets
# RUSTC_BOOTSTRAP=1, which stable rustc honours for exactly this purpose; install the runner once with
# `cargo install cargo-fuzz`. libFuzzer itself is compiled from the libfuzzer-sys crate with the system C++
# compiler (g++ is enough; clang is not needed).
#
# Each target runs on one core with its committed corpus (fuzz/corpus/<target>), adds what it finds, and the
# corpus is minimized afterwards (cargo fuzz cmin). A crash leaves its input in fuzz/artifacts/<target>/ and
# the script exits non-zero. The last line per target is a summary: runs, coverage, features, corpus size and
# the run of the last input that added coverage (a plateau when it is early in the run), and core_edges, the
# edges of our own code (crates/core/src) the minimized corpus reaches (scripts/fuzz_coverage.py; compare runs).
set -euo pipefail

cd "$(dirname "$0")/.."
ROOT=$PWD
SECS=${1:-300}
shift || true
ALL=(request_headers response_headers location prepare publishable_key jwt claims extract authenticate)
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=("${ALL[@]}")
LOGDIR=${FUZZ_LOG_DIR:-$ROOT/fuzz/logs}
mkdir -p "$LOGDIR"
status=0

if [ -z "${FUZZ_SKIP_LIBFUZZER:-}" ]; then
  export RUSTC_BOOTSTRAP=1
  command -v cargo-fuzz >/dev/null || { echo "cargo-fuzz is not installed: cargo install cargo-fuzz" >&2; exit 2; }
  (cd fuzz && cargo fuzz build)
  HOST=$(rustc -vV | sed -n 's/^host: //p')
  for t in "${TARGETS[@]}"; do
    log="$LOGDIR/$t.log"
    mkdir -p "fuzz/corpus/$t"
    echo "== $t: ${SECS}s"
    start=$(date +%s)
    if ! (cd fuzz && cargo fuzz run "$t" "corpus/$t" -- -max_total_time="$SECS" -print_final_stats=1 -timeout=10 -rss_limit_mb=2048) >"$log" 2>&1; then
      echo "!! $t: crash or error, see $log and fuzz/artifacts/$t/" >&2
      grep -E "panicked|ERROR|SUMMARY" "$log" | head -5 >&2 || true
      status=1
      continue
    fi
    # Plateau check: coverage (edges) and features at half the runs and at the end, and the run of the last input
    # that added coverage ("NEW"; "REDUCE" lines only shrink inputs).
    summary=$(grep -E '^#[0-9]+[[:space:]]+(pulse|NEW|INITED|REDUCE)' "$log" | awk '
      { n = substr($1, 2) + 0; for (i = 1; i <= NF; i++) { if ($i == "cov:") c = $(i + 1); if ($i == "ft:") f = $(i + 1) }
        runs[NR] = n; covs[NR] = c; fts[NR] = f; if ($2 == "NEW") last = n }
      END { half = runs[NR] / 2; hc = covs[1]; hf = fts[1]
            for (i = 1; i <= NR; i++) if (runs[i] <= half) { hc = covs[i]; hf = fts[i] }
            printf "runs=%d cov=%s (half-way %s) ft=%s (half-way %s) last_new_at_run=%d", runs[NR], covs[NR], hc, fts[NR], hf, last }')
    (cd fuzz && cargo fuzz cmin "$t" "corpus/$t" >"$LOGDIR/$t.cmin.log" 2>&1) || true
    files=$(find "fuzz/corpus/$t" -type f | wc -l)
    # Edges the minimized corpus reaches in our own code (crates/core/src), as opposed to dependencies and std:
    # compare this with the previous run's figure to see whether our code still gains coverage.
    "fuzz/target/$HOST/release/$t" "fuzz/corpus/$t" -runs=0 -print_coverage=1 >"$LOGDIR/$t.coverage.txt" 2>&1 || true
    core=$(python3 scripts/fuzz_coverage.py "$LOGDIR/$t.coverage.txt" | awk '$1 == "core" { print $2 }')
    echo "   $t: $summary corpus=$files core_edges=${core:-?} ($(( $(date +%s) - start ))s, 0 crashes)"
  done
fi

if [ -z "${FUZZ_SKIP_PROPTEST:-}" ]; then
  export PROPTEST_CASES=${PROPTEST_CASES:-100000}
  echo "== proptest: PROPTEST_CASES=$PROPTEST_CASES (release)"
  cargo test -p clerk_native_core --release --test prop_proxy --test prop_token --test prop_corpus -- --test-threads=1 \
    | tee "$LOGDIR/proptest.log" | grep -E "^test |test result" || status=1
fi
exit $status
