#!/usr/bin/env python3
"""Summarize libFuzzer `-print_coverage=1` output by source file.

Usage: scripts/fuzz_coverage.py COVERAGE_TXT [--files]

libFuzzer prints one COVERED_FUNC / UNCOVERED_FUNC line per instrumented function that the corpus reaches
(or could reach), with `edges: covered/total` and the function's source file. This groups the edges into
"core" (crates/core/src, the code under test), "harness" (fuzz targets and the shared invariants),
"deps" (crates.io dependencies) and "std", and with --files lists the core files one by one. Comparing the
core line of two corpora (before and after a longer run) shows whether the fuzzer still reaches new edges in
our own code or only in dependencies.
"""
import re
import sys
from collections import defaultdict

LINE = re.compile(r"^(COVERED|UNCOVERED)_FUNC: hits: \d+ edges: (\d+)/(\d+) (.*) (\S+?)(?::\d+)?$")


def group(path):
    if "/crates/core/src/" in path:
        return "core"
    if "/fuzz_targets/" in path or "/tests/prop_support/" in path:
        return "harness"
    if "/.cargo/registry/" in path:
        return "deps"
    if path.startswith("/rustc/"):
        return "std"
    return "other"


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    show_files = "--files" in sys.argv
    groups = defaultdict(lambda: [0, 0])
    files = defaultdict(lambda: [0, 0])
    seen = set()
    with open(args[0], encoding="utf-8", errors="replace") as fh:
        for line in fh:
            m = LINE.match(line.rstrip("\n"))
            if not m:
                continue
            _, cov, tot, func, path = m.groups()
            key = (func, path)
            if key in seen:  # libFuzzer can print a function twice (once per module pass)
                continue
            seen.add(key)
            g = group(path)
            groups[g][0] += int(cov)
            groups[g][1] += int(tot)
            if g == "core":
                rel = path.split("/crates/core/src/", 1)[1]
                files[rel][0] += int(cov)
                files[rel][1] += int(tot)
    for g in ("core", "harness", "deps", "std", "other"):
        c, t = groups[g]
        if t:
            print(f"{g:8} {c:6}/{t:<6} edges ({100 * c / t:5.1f}%)")
    if show_files:
        for rel in sorted(files):
            c, t = files[rel]
            print(f"  {rel:40} {c:5}/{t:<5}")


if __name__ == "__main__":
    main()
