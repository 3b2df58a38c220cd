#!/usr/bin/env bash
# Proves the glibc floor of the linux-x64-gnu prebuilt on a real old distribution (npm run test:old-glibc):
#   1. builds the addon against glibc 2.17 (scripts/build-gnu-2.17.sh: zig via cargo-zigbuild) and prints the
#      highest GLIBC_ symbol version it needs;
#   2. stages it as clerk-native-linux-x64-gnu (scripts/stage-npm.js: records the floor in its package.json),
#      installs the tarballs into a consumer project (no cargo on PATH);
#   3. in a Debian 11 "bullseye" root (glibc 2.31, made with debootstrap, kept in $BULLSEYE_ROOT) with this
#      machine's node copied in: every entry loads, a JWT verifies, a request is proxied (fixtures/old-glibc-smoke.js);
#   4. the same consumer with the binary built on this machine (needs this machine's newer glibc) fails in bullseye
#      with ERR_CLERK_NATIVE_GLIBC naming that floor, both from the recorded floor and from dlopen's own error.
# Needs root (debootstrap, chroot, mount). Installs what is missing: debootstrap (apt), zig (pip ziglang),
# cargo-zigbuild (cargo install). First run: ~215 MB of Debian packages and a cold release build (~4-6 min).
# Env: BULLSEYE_ROOT (default /var/tmp/clerk-native-bullseye), SMOKE_KEEP=1 keeps the temp dir.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"
say() { printf '\n[old-glibc] %s\n' "$*"; }
die() { printf '\n[old-glibc] FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(uname -sm)" = "Linux x86_64" ] || die "x86_64 Linux only"
[ "$(id -u)" = 0 ] || die "needs root (debootstrap, chroot, mount)"
HOST_NODE_FILE="$ROOT/clerk-native.linux-x64-gnu.node"
[ -f "$HOST_NODE_FILE" ] || die "no $HOST_NODE_FILE: run \`npm run build\` first"
BULLSEYE_ROOT="${BULLSEYE_ROOT:-/var/tmp/clerk-native-bullseye}"

# --- tools
if ! command -v debootstrap >/dev/null 2>&1; then
  say "installing debootstrap"
  apt-get update -qq && apt-get install -y -qq debootstrap >/dev/null
fi
if ! command -v zig >/dev/null 2>&1 && ! python3 -c 'import ziglang' >/dev/null 2>&1; then
  say "installing zig (pip ziglang)"
  python3 -m pip install --quiet 'ziglang==0.17.1'
fi
if ! command -v cargo-zigbuild >/dev/null 2>&1; then
  say "installing cargo-zigbuild"
  cargo install --locked --quiet cargo-zigbuild@0.24.1
fi

# --- 1. the 2.17 build
say "building linux-x64-gnu against glibc 2.17"
ZIG_NODE="$ROOT/target/gnu-2.17/clerk-native.linux-x64-gnu.node"
bash scripts/build-gnu-2.17.sh x64 "$ZIG_NODE"
echo "[old-glibc] highest GLIBC_ symbol version: $ZIG_NODE needs GLIBC_$(node scripts/glibc-floor.js "$ZIG_NODE"); the host build needs GLIBC_$(node scripts/glibc-floor.js "$HOST_NODE_FILE")"

# --- 2. the bullseye root
if ! [ -x "$BULLSEYE_ROOT/lib/x86_64-linux-gnu/libc.so.6" ]; then
  say "debootstrap bullseye into $BULLSEYE_ROOT (~215 MB)"
  rm -rf "$BULLSEYE_ROOT.partial"
  # ca-certificates: the proxy's HTTP client refuses to start on a system with no CA store (even for an
  # http:// upstream), as on any real server it is installed.
  debootstrap --variant=minbase --include=ca-certificates bullseye "$BULLSEYE_ROOT.partial" >/dev/null
  mv "$BULLSEYE_ROOT.partial" "$BULLSEYE_ROOT"
fi
if ! [ -s "$BULLSEYE_ROOT/etc/ssl/certs/ca-certificates.crt" ]; then
  say "installing ca-certificates in $BULLSEYE_ROOT"
  cp /etc/resolv.conf "$BULLSEYE_ROOT/etc/resolv.conf"
  chroot "$BULLSEYE_ROOT" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin sh -c \
    'apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq ca-certificates >/dev/null'
fi
OLD_GLIBC="$(chroot "$BULLSEYE_ROOT" /lib/x86_64-linux-gnu/libc.so.6 | head -1)"
echo "[old-glibc] root: $OLD_GLIBC"
cp "$(command -v node)" "$BULLSEYE_ROOT/usr/local/bin/node"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/clerk-native-oldglibc.XXXXXX")"
MNT="$BULLSEYE_ROOT/opt/smoke"
cleanup() {
  umount "$BULLSEYE_ROOT/proc" 2>/dev/null || true
  rm -rf "$MNT"
  if [ "${SMOKE_KEEP:-}" = 1 ]; then echo "[old-glibc] kept $TMP"; else rm -rf "$TMP"; fi
}
trap cleanup EXIT
mountpoint -q "$BULLSEYE_ROOT/proc" || mount -t proc proc "$BULLSEYE_ROOT/proc"

# consumer <name> <node-file>: stage + pack + install into $TMP/<name> without cargo
consumer() {
  local name="$1" node_file="$2"
  mkdir -p "$TMP/$name/artifacts" "$TMP/$name/app"
  cp "$node_file" "$TMP/$name/artifacts/clerk-native.linux-x64-gnu.node"
  node scripts/stage-npm.js --artifacts "$TMP/$name/artifacts" --out "$TMP/$name/stage" --targets linux-x64-gnu
  (cd "$TMP/$name/stage" && npm pack --silent ./linux-x64-gnu ./clerk-native >/dev/null)
  echo '{"name":"smoke","version":"1.0.0","private":true}' >"$TMP/$name/app/package.json"
  mkdir -p "$TMP/no-rust"
  for t in cargo rustc; do printf '#!/bin/sh\nexit 127\n' >"$TMP/no-rust/$t"; chmod +x "$TMP/no-rust/$t"; done
  (cd "$TMP/$name/app" && PATH="$TMP/no-rust:$PATH" npm install --no-audit --no-fund --loglevel=warn "$TMP/$name"/stage/*.tgz >/dev/null)
  cp "$ROOT/__test__/fixtures/old-glibc-smoke.js" "$TMP/$name/app/"
}
in_bullseye() { # <name> args…: runs the smoke script in the chroot on a copy of the consumer
  local name="$1"; shift
  rm -rf "$MNT" && mkdir -p "$MNT" && cp -a "$TMP/$name/app/." "$MNT/"
  chroot "$BULLSEYE_ROOT" /usr/bin/env -i PATH=/usr/local/bin:/usr/bin:/bin HOME=/root \
    /bin/sh -c 'cd /opt/smoke && exec /usr/local/bin/node old-glibc-smoke.js "$@"' smoke "$@"
}

say "consumer with the glibc 2.17 build"
consumer zig "$ZIG_NODE"
grep -q '"glibc": "2.17"' "$TMP/zig/app/node_modules/clerk-native-linux-x64-gnu/package.json" ||
  die "the staged platform package does not record glibc 2.17"
say "bullseye: the 2.17 build loads and works"
in_bullseye zig expect-load

HOST_FLOOR="$(node scripts/glibc-floor.js "$HOST_NODE_FILE")"
if node -e 'process.exit(require("./scripts/glibc-floor").compareVersions(process.argv[1], "2.31") > 0 ? 0 : 1)' "$HOST_FLOOR"; then
  say "consumer with this machine's build (needs glibc $HOST_FLOOR)"
  consumer host "$HOST_NODE_FILE"
  say "bullseye: it is refused, naming glibc $HOST_FLOOR (floor recorded in package.json)"
  in_bullseye host expect-floor "$HOST_FLOOR"
  say "bullseye: without the recorded floor, dlopen's error is turned into the same message"
  node -e 'const f=process.argv[1], p=JSON.parse(require("fs").readFileSync(f)); delete p.clerkNative; require("fs").writeFileSync(f, JSON.stringify(p, null, 2))' \
    "$TMP/host/app/node_modules/clerk-native-linux-x64-gnu/package.json"
  in_bullseye host expect-floor-dlopen
else
  say "this machine's build needs only glibc $HOST_FLOOR (<= 2.31): no below-the-floor case to show here"
fi
say "OK: the glibc 2.17 build loads and passes the smoke test on $OLD_GLIBC"
