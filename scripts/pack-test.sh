#!/usr/bin/env bash
# Proves the prebuilt-binary install path the way a user meets it:
#   npm pack the main package and the linux-x64-gnu platform package, install both tarballs into an empty
#   project with NO cargo/rustc on PATH, then require/import every entry point and check that the native
#   binary came from node_modules/clerk-native-linux-x64-gnu (not from a local build).
#
# Needs a release build in the repo root: clerk-native.linux-x64-gnu.node (`npm run build`).
# The main package is staged with "optionalDependencies": {"clerk-native-linux-x64-gnu": "<version>"} added
# when package.json lacks it, as `napi pre-publish` does at publish time, so the published shape is tested.
#
# A second check: the packed Rust sources parse (`cargo fetch`), so a source build on other platforms can work.
# Env: PACK_TEST_KEEP=1 keeps the temp dir.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$ROOT"

ABI=linux-x64-gnu
BIN_NAME="$(node -p "(require('./package.json').napi || {}).binaryName || 'clerk-native'")"
PKG_NAME="$(node -p "require('./package.json').name")"
PKG_VERSION="$(node -p "require('./package.json').version")"
PLATFORM_PKG="${PKG_NAME}-${ABI}"
NODE_FILE="${BIN_NAME}.${ABI}.node"
PLATFORM_DIR="npm/${ABI}"

say() { printf '\n[pack-test] %s\n' "$*"; }
die() { printf '\n[pack-test] FAIL: %s\n' "$*" >&2; exit 1; }

[ "$(node -p 'process.platform + "-" + process.arch')" = "linux-x64" ] || die "this test covers ${ABI} only"
[ -f "$NODE_FILE" ] || die "no $NODE_FILE in $ROOT: run \`npm run build\` (a release build) first"
# napi build passes --target, so its output is target/<triple>/release; a plain cargo build uses target/release.
TARGET_DIR="${CARGO_TARGET_DIR:-$ROOT/target}"
is_release=0
for lib in "$TARGET_DIR/x86_64-unknown-linux-gnu/release/libclerk_native.so" "$TARGET_DIR/release/libclerk_native.so"; do
  if cmp -s "$NODE_FILE" "$lib"; then is_release=1; fi
done
[ "$is_release" = 1 ] || die "$NODE_FILE is not the current release build (it differs from target/…/release/libclerk_native.so): run \`npm run build\`"
[ -f binding.js ] || die "no binding.js (the napi loader): run \`npm run build\`"
[ -f "$PLATFORM_DIR/package.json" ] || die "no $PLATFORM_DIR/package.json (napi create-npm-dirs)"

TMP="$(mktemp -d "${TMPDIR:-/tmp}/clerk-native-pack.XXXXXX")"
cleanup() { if [ "${PACK_TEST_KEEP:-}" = 1 ]; then echo "[pack-test] kept $TMP"; else rm -rf "$TMP"; fi; }
trap cleanup EXIT

# --- 1. platform package: npm/linux-x64-gnu + the release binary (staged, the work tree is left untouched)
say "packing $PLATFORM_PKG"
cp -R "$PLATFORM_DIR" "$TMP/platform"
cp "$NODE_FILE" "$TMP/platform/"
PLATFORM_TGZ="$TMP/$(cd "$TMP" && npm pack ./platform --ignore-scripts --silent --pack-destination "$TMP" | tail -n 1)"
[ -f "$PLATFORM_TGZ" ] || die "npm pack of the platform package made no tarball"
tar -tzf "$PLATFORM_TGZ" | grep -qx "package/$NODE_FILE" || die "$PLATFORM_TGZ lacks $NODE_FILE"

# --- 2. main package
say "packing $PKG_NAME"
MAIN_RAW="$TMP/$(npm pack --ignore-scripts --silent --pack-destination "$TMP" | tail -n 1)"
[ -f "$MAIN_RAW" ] || die "npm pack of the main package made no tarball"
LISTING="$(tar -tzf "$MAIN_RAW")"
if grep -q '\.node$' <<<"$LISTING"; then die "the main tarball contains a .node binary: $(grep '\.node$' <<<"$LISTING" | tr '\n' ' ')"; fi
for f in binding.js scripts/ensure-native.js Cargo.toml Cargo.lock .cargo/config.toml; do
  grep -qx "package/$f" <<<"$LISTING" || die "the main tarball lacks $f"
done
# Every file package.json's exports point at must be in the tarball.
while read -r f; do
  [ -n "$f" ] || continue
  grep -qx "package/$f" <<<"$LISTING" || die "package.json exports ./$f but the tarball lacks it (check \"files\")"
done < <(node -e '
  const out = new Set()
  const walk = (v) => { if (typeof v === "string") out.add(v.replace(/^\.\//, "")); else if (v && typeof v === "object") Object.values(v).forEach(walk) }
  walk(require("./package.json").exports || {})
  console.log([...out].join("\n"))')

# Stage the published shape: optionalDependencies on the platform package (what `napi pre-publish` adds).
mkdir -p "$TMP/main-stage"
tar -xzf "$MAIN_RAW" -C "$TMP/main-stage"
node -e '
  const fs = require("fs"), p = process.argv[1], [name, version] = process.argv.slice(2)
  const pkg = JSON.parse(fs.readFileSync(p, "utf8"))
  pkg.optionalDependencies = pkg.optionalDependencies || {}
  if (!pkg.optionalDependencies[name]) {
    pkg.optionalDependencies[name] = version
    console.log(`[pack-test] staged optionalDependencies: ${name}@${version} (as napi pre-publish would)`)
  } else {
    console.log(`[pack-test] package.json already has optionalDependencies ${name}@${pkg.optionalDependencies[name]}`)
  }
  fs.writeFileSync(p, JSON.stringify(pkg, null, 2) + "\n")
' "$TMP/main-stage/package/package.json" "$PLATFORM_PKG" "$PKG_VERSION"
# A consumer on a platform with no prebuilt package builds from these sources (ensure-native.js runs
# `cargo build --release --lib` in node_modules/clerk-native). `cargo fetch` parses every workspace manifest and
# target without compiling: it fails if "files" left out something a manifest names (e.g. a [[bench]] file).
if command -v cargo >/dev/null 2>&1; then
  say "checking the tarball's Rust sources parse (cargo fetch in the unpacked package)"
  (cd "$TMP/main-stage/package" && cargo fetch --quiet) ||
    die "the packed Rust sources do not parse: a consumer's source build would fail (is a file missing from \"files\"?)"
else
  say "cargo not on PATH: skipping the check that the packed Rust sources parse"
fi
mkdir -p "$TMP/main-tgz"
MAIN_TGZ="$TMP/main-tgz/$(cd "$TMP/main-tgz" && npm pack "$TMP/main-stage/package" --ignore-scripts --silent --pack-destination "$TMP/main-tgz" | tail -n 1)"
[ -f "$MAIN_TGZ" ] || die "re-pack of the staged main package failed"
ls -l "$PLATFORM_TGZ" "$MAIN_TGZ"

# --- 3. an environment with no Rust toolchain
NODE_DIR="$(dirname "$(command -v node)")"
NPM_DIR="$(dirname "$(command -v npm)")"
CLEAN_PATH=""
for d in "$NODE_DIR" "$NPM_DIR" /usr/bin /bin; do
  case ":$CLEAN_PATH:" in *":$d:"*) ;; *) CLEAN_PATH="${CLEAN_PATH:+$CLEAN_PATH:}$d" ;; esac
done
if env PATH="$CLEAN_PATH" bash -c 'command -v cargo || command -v rustc' >/dev/null 2>&1; then
  # cargo lives beside node: shadow it with stubs that fail, so "cargo --version" cannot succeed.
  mkdir -p "$TMP/no-rust"
  for t in cargo rustc rustup; do
    printf '#!/bin/sh\necho "%s is blocked by pack-test.sh" >&2\nexit 127\n' "$t" >"$TMP/no-rust/$t"
    chmod +x "$TMP/no-rust/$t"
  done
  CLEAN_PATH="$TMP/no-rust:$CLEAN_PATH"
fi
clean() { env -u NODE_PATH -u CARGO -u RUSTC -u CARGO_TARGET_DIR -u NAPI_RS_NATIVE_LIBRARY_PATH -u CLERK_NATIVE_SKIP_BUILD \
  PATH="$CLEAN_PATH" "$@"; }
if clean bash -c 'cargo --version' >/dev/null 2>&1; then die "could not make an environment without a working cargo"; fi
say "consumer PATH=$CLEAN_PATH (cargo --version fails there: ok)"

# --- 4. install both tarballs into an empty project, in one command
APP="$TMP/consumer"
mkdir -p "$APP"
cat >"$APP/package.json" <<'JSON'
{ "name": "pack-test-consumer", "version": "1.0.0", "private": true }
JSON
say "npm install (both tarballs, no cargo)"
START=$SECONDS
(cd "$APP" && clean npm install --no-audit --no-fund --prefer-offline --foreground-scripts --loglevel=warn \
  "$MAIN_TGZ" "$PLATFORM_TGZ" 2>&1) | tee "$TMP/install.log"
echo "[pack-test] install took $((SECONDS - START))s"
grep -q 'native binding OK' "$TMP/install.log" ||
  die "the install script of $PKG_NAME did not report a loading binding (see the log above)"
if grep -q 'building it from source' "$TMP/install.log"; then die "the install script tried to build from source"; fi

# --- 5. the binary came from the platform package; nothing was built or copied into the main package
shopt -s nullglob
stray=("$APP/node_modules/$PKG_NAME/"*.node)
shopt -u nullglob
[ ${#stray[@]} -eq 0 ] || die "a .node sits in node_modules/$PKG_NAME/: ${stray[*]}"
[ -f "$APP/node_modules/$PLATFORM_PKG/$NODE_FILE" ] || die "node_modules/$PLATFORM_PKG/$NODE_FILE was not installed"

say "loading the entry points (CJS and ESM)"
cd "$APP"
clean node -e '
  const assert = require("assert"), path = require("path")
  const [pkg, platformPkg] = process.argv.slice(1)
  const load = (id) => { const m = require(id); console.log(`require(${JSON.stringify(id)}): ${Object.keys(m).join(", ")}`); return m }
  // binding.js is not in "exports": load it by path (the install script does the same)
  load(path.join(path.dirname(require.resolve(`${pkg}/package.json`)), "binding.js"))
  const core = load(pkg)
  load(`${pkg}/express`)
  load(`${pkg}/next`)
  for (const sub of ["webhooks", "express/webhooks", "next/webhooks"]) assert.strictEqual(typeof load(`${pkg}/${sub}`).verifyWebhook, "function")
  // one real call into the binary (SPEC 1.4 test vector)
  assert.strictEqual(core.fapiUrlFromPublishableKey("pk_test_Y2xlcmsuZXhhbXBsZS5jb20k"), "https://frontend-api.clerk.dev")
  const nodes = Object.keys(require.cache).filter((k) => k.endsWith(".node"))
  console.log(`native binaries loaded: ${nodes.join(", ")}`)
  assert.strictEqual(nodes.length, 1, "exactly one .node loaded")
  const fromPkg = path.dirname(require.resolve(`${platformPkg}/package.json`))
  assert.strictEqual(path.dirname(nodes[0]), fromPkg, `binary loaded from ${nodes[0]}, expected from ${fromPkg}`)
' "$PKG_NAME" "$PLATFORM_PKG"

cat >"$APP/esm-check.mjs" <<EOF
import * as core from '${PKG_NAME}'
import * as express from '${PKG_NAME}/express'
import * as next from '${PKG_NAME}/next'
import * as webhooks from '${PKG_NAME}/webhooks'
import * as expressWebhooks from '${PKG_NAME}/express/webhooks'
import * as nextWebhooks from '${PKG_NAME}/next/webhooks'
if (![webhooks, expressWebhooks, nextWebhooks].every((w) => typeof w.verifyWebhook === 'function')) throw new Error('missing webhook ESM exports')
import { createRequire } from 'node:module'
const n = (m) => Object.keys(m).filter((k) => k !== 'default').length
if (n(core) === 0) throw new Error('ESM import of ${PKG_NAME} has no named exports')
console.log('import ${PKG_NAME}: ' + n(core) + ' named exports; /express: ' + n(express) + '; /next: ' + n(next))
const require = createRequire(import.meta.url)
const nodes = Object.keys(require.cache).filter((k) => k.endsWith('.node'))
if (nodes.length !== 1 || !nodes[0].includes('/node_modules/${PLATFORM_PKG}/')) throw new Error('ESM: binary not (only) from ${PLATFORM_PKG}: ' + nodes)
console.log('ESM: binary from ' + nodes[0])
EOF
clean node esm-check.mjs

say "OK: $PKG_NAME installed from tarballs without cargo and loads its binary from $PLATFORM_PKG"
