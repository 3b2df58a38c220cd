// The setups compared side by side (server code in server.mjs), and the clerk-native preflight.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { run } from './lib.mjs';

export const HERE = path.dirname(fileURLToPath(import.meta.url));
export const ROOT = path.resolve(HERE, '..');
export const PROXY_PATH = '/__clerk';
// Dummy keys (frontend API "clerk.example.com"); proxied requests never need them to be real.
export const PUBLISHABLE_KEY = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k';
export const SECRET_KEY = 'sk_test_bench';

// Table order. 'direct' is the upstream process itself (no proxy); the others run server.mjs <id>.
// `proxies`: forwards to the upstream (express-only answers by itself).
export const SETUPS = [
  { id: 'direct', label: 'upstream alone (no proxy)', proxies: false },
  { id: 'express-only', label: 'Express answering directly (no proxying)', proxies: false },
  { id: 'hpm-ka', label: 'Express + http-proxy-middleware, keep-alive agent', proxies: true },
  { id: 'clerk-express', label: 'Express + @clerk/express frontendApiProxy', proxies: true },
  { id: 'clerk-native', label: 'Express + clerk-native', proxies: true, preflight: checkClerkNative },
];
export const REF_CLERK = 'clerk-express';
export const REF_HPM = 'hpm-ka';

// Can ../express be required, and which .node does it load (release or debug)? Runs in a child process so a
// broken binding cannot take the benchmark down. Returns { ok, reason?, info }.
export async function checkClerkNative() {
  const entry = process.env.CLERK_NATIVE_EXPRESS || path.join(ROOT, 'express.js');
  if (!existsSync(entry)) return { ok: false, reason: `${entry} does not exist (the binding is not built/written yet)` };
  const probe = `
    try {
      const m = require(${JSON.stringify(entry)});
      const nodes = Object.keys(require.cache).filter((f) => f.endsWith('.node'));
      console.log(JSON.stringify({ ok: typeof m.clerkMiddleware === 'function', exports: Object.keys(m), nodes }));
    } catch (e) { console.log(JSON.stringify({ ok: false, error: String((e && e.stack) || e).slice(0, 2000) })); }`;
  const r = await run(process.execPath, ['-e', probe], { cwd: HERE, timeout: 30000 });
  let p;
  try { p = JSON.parse(r.stdout.trim().split('\n').pop()); } catch { p = { ok: false, error: `probe exited ${r.code}: ${r.stderr.slice(-1500)}` }; }
  if (p.error) return { ok: false, reason: `require(${entry}) failed: ${p.error}` };
  if (!p.ok) return { ok: false, reason: `${entry} exports no clerkMiddleware function (exports: ${p.exports.join(', ')})` };
  const node = p.nodes[0];
  const info = { entry, node: node || 'n/a', build: node ? await buildType(node) : 'unknown (no .node in require.cache)' };
  if (node) {
    const st = statSync(node);
    info.sizeMB = +(st.size / 1048576).toFixed(1);
    info.mtime = st.mtime.toISOString();
  }
  return { ok: true, info };
}

// 'release' / 'debug' by comparing with cargo's outputs (target/[<triple>/]<profile>/), else guess from debug info.
async function buildType(node) {
  const sha = (f) => createHash('sha256').update(readFileSync(f)).digest('hex');
  const h = sha(node);
  const target = path.join(ROOT, 'target');
  const dirs = existsSync(target) ? ['', ...readdirSync(target).filter((d) => d.includes('-linux-'))] : [];
  for (const profile of ['release', 'debug']) {
    for (const d of dirs) {
      const so = path.join(target, d, profile, 'libclerk_native.so');
      if (existsSync(so) && sha(so) === h) return profile;
    }
  }
  const r = await run('readelf', ['-S', '-W', node]);
  if (r.code === 0) return /\.debug_info/.test(r.stdout) ? 'debug (guessed: has .debug_info)' : 'release (guessed: no debug info)';
  return statSync(node).size > 30 * 1048576 ? 'debug (guessed from size)' : 'release (guessed from size)';
}
