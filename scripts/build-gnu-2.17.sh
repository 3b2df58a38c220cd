#!/usr/bin/env bash
# Builds the linux-gnu addon against glibc 2.17 (what napi-rs's own images target), so the prebuilt loads on
# Amazon Linux 2, Ubuntu 18.04/20.04, Debian 9+ and RHEL/CentOS 7+. Uses zig as the linker through
# cargo-zigbuild: the `.2.17` suffix on the target makes zig link against glibc 2.17's symbol versions.
#
#   scripts/build-gnu-2.17.sh [x64|arm64] [OUT]     (npm run build:gnu-2.17)
#
# OUT defaults to target/gnu-2.17/clerk-native.linux-<arch>-gnu.node (the repo root's .node, the local build,
# is left alone). Cargo's output goes to target/zig (its own dir: mixing zig- and gcc-linked builds in one
# target dir would rebuild everything each time). Prints the highest GLIBC_ symbol version the result needs
# and fails if it is above the floor.
# Needs: cargo-zigbuild (`cargo install cargo-zigbuild --locked`) and zig (`pip install ziglang`, or zig on PATH).
# Env: GLIBC_FLOOR (default 2.17); PROFILE (default dist: Cargo.toml's release + fat LTO, what is published).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
die() { printf '[build-gnu] ERROR: %s\n' "$*" >&2; exit 1; }

ARCH="${1:-x64}"
case "$ARCH" in
  x64) TRIPLE=x86_64-unknown-linux-gnu ;;
  arm64) TRIPLE=aarch64-unknown-linux-gnu ;;
  *) die "arch must be x64 or arm64, not $ARCH" ;;
esac
FLOOR="${GLIBC_FLOOR:-2.17}"
PROFILE="${PROFILE:-dist}"
OUT="${2:-$ROOT/target/gnu-$FLOOR/clerk-native.linux-$ARCH-gnu.node}"

command -v cargo-zigbuild >/dev/null 2>&1 || die "cargo-zigbuild is not installed: cargo install cargo-zigbuild --locked"
if ! command -v zig >/dev/null 2>&1 && ! python3 -c 'import ziglang' >/dev/null 2>&1; then
  die "zig is not installed: pip install ziglang (cargo-zigbuild runs it as \`python3 -m ziglang\`)"
fi
if command -v rustup >/dev/null 2>&1 && ! rustup target list --installed | grep -qx "$TRIPLE"; then
  rustup target add "$TRIPLE"
fi

export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target/zig}"
START=$SECONDS
cargo zigbuild --profile "$PROFILE" --lib --target "$TRIPLE.$FLOOR"
LIB="$CARGO_TARGET_DIR/$TRIPLE/$PROFILE/libclerk_native.so"
[ -f "$LIB" ] || die "cargo zigbuild finished but $LIB does not exist"
mkdir -p "$(dirname "$OUT")"
cp "$LIB" "$OUT.tmp" && mv "$OUT.tmp" "$OUT"
NEEDS="$(node scripts/glibc-floor.js "$OUT")"
printf '[build-gnu] %s: %s bytes, highest GLIBC_ symbol version GLIBC_%s (built in %ss)\n' \
  "$OUT" "$(stat -c %s "$OUT")" "$NEEDS" "$((SECONDS - START))"
node -e 'const [a, b] = process.argv.slice(1); process.exit(require("./scripts/glibc-floor").compareVersions(a, b) <= 0 ? 0 : 1)' "$NEEDS" "$FLOOR" ||
  die "$OUT needs GLIBC_$NEEDS, above the floor $FLOOR"
