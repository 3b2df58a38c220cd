// Section "e2e-express": an Express app whose clerkMiddleware authenticates every request (Bearer session token)
// before a small JSON route answering `{ userId: getAuth(req).userId }`, once with @clerk/express and once with
// clerk-native/express; wrk, 50 connections, one thread.
//
//   WARM: a pool of 100 valid tokens, reused (clerk-native's verified-token cache answers after the first use).
//   COLD: a distinct token on every request, from a pre-signed file (each run starts where the last one stopped, so
//         no token is sent twice to one server process); clerk-native's verified-cache hits are read from the
//         server before and after each run and reported (they must be 0).
//
// Both apps get the same options: { publishableKey: pk_test_ (dev), secretKey: sk_test_ (dummy), jwtKey: <PEM> }:
// networkless, no JWKS fetch. Every answer is checked by the wrk script (200 and `"userId":"user_`); a run with bad
// answers is a problem. Before timing, each app must return the token's user id, and null for a tampered token.
//
// Files: the key and the tokens live in benchmark/results/e2e-tokens/ (git-ignored) and are re-signed only when
// missing, too few, or within 2 hours of expiry (tokens are valid for 7 days; signing 300,000 takes ~1.5-3 min on
// 2 cores, once).
//
// Env: E2E_DURATION (s per wrk run; DURATION, i.e. 10, QUICK 3), E2E_ROUNDS (ROUNDS: 3, QUICK 1), CONNS (50),
//   E2E_TOKENS (COLD tokens in the file: 300000, QUICK 40000), E2E_COLD_RPS_MAX (tokens loaded per COLD run per
//   second of run, bounding wrk's memory: 12000), E2E_PORT (first of two ports: BASE_PORT + 20), E2E_SETUPS (clerk-express,clerk-native),
//   CLERK_NATIVE_EXPRESS (path of clerk-native's express.js; default the repo's).
//
// The file also runs as the app server (`node e2e-express.mjs --app <setup> <port> <dir>`) and as a signing
// worker thread.
import { spawn } from 'node:child_process';
import crypto from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync, statSync } from 'node:fs';
import http from 'node:http';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { Worker, isMainThread, parentPort, workerData } from 'node:worker_threads';

const SELF = fileURLToPath(import.meta.url);
const BENCH = path.resolve(path.dirname(SELF), '..');
const ROOT = path.resolve(BENCH, '..');
const LUA = path.join(BENCH, 'wrk-bearer.lua');
const TOKEN_DIR = path.join(BENCH, 'results', 'e2e-tokens');
const PUBLISHABLE_KEY = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k';
const SECRET_KEY = 'sk_test_bench';
const ISS = 'https://clerk.example.com';
const WARM_POOL = 100;
const TOKEN_LIFETIME_S = 7 * 24 * 3600;
const SETUP_IDS = ['clerk-express', 'clerk-native'];
const LABELS = {
  'clerk-express': 'Express + @clerk/express clerkMiddleware',
  'clerk-native': 'Express + clerk-native/express clerkMiddleware',
};
const REF = 'clerk-express';
const OURS = 'clerk-native';

// ---- token signing (worker thread) -------------------------------------------------------------------
function claimsFor(i, now) {
  return {
    azp: 'http://localhost:3000', sid: `sess_e2e${String(i).padStart(20, '0')}`, v: 2, fva: [0, -1], sts: 'active',
    pla: 'u:free_user', fea: 'u:basic', sub: `user_e2e${String(i % 5000).padStart(20, '0')}`, iss: ISS,
    iat: now - 5, nbf: now - 15, exp: now + TOKEN_LIFETIME_S, jti: crypto.randomBytes(10).toString('hex'),
  };
}
function signRange(privatePem, from, to, now) {
  const key = crypto.createPrivateKey(privatePem);
  const head = Buffer.from(JSON.stringify({ alg: 'RS256', kid: 'ins_bench_e2e', typ: 'JWT' })).toString('base64url');
  const out = [];
  for (let i = from; i < to; i++) {
    const input = `${head}.${Buffer.from(JSON.stringify(claimsFor(i, now))).toString('base64url')}`;
    out.push(`${input}.${crypto.sign('sha256', Buffer.from(input), key).toString('base64url')}`);
  }
  return out;
}
if (!isMainThread && workerData?.e2eSign) {
  const { privatePem, from, to, now } = workerData.e2eSign;
  parentPort.postMessage(signRange(privatePem, from, to, now).join('\n'));
}

// ---- app server (child process) ----------------------------------------------------------------------
async function appMain([setup, portStr, dir]) {
  const { default: express } = await import('express');
  const pem = readFileSync(path.join(dir, 'public.pem'), 'utf8');
  const options = { publishableKey: PUBLISHABLE_KEY, secretKey: SECRET_KEY, jwtKey: pem };
  const app = express();
  let stats = () => ({});
  let mw;
  let getAuth;
  if (setup === 'clerk-express') {
    // @clerk/express as installed at the repo root (a devDependency), else the benchmark's own copy.
    const req = createRequire(existsSync(path.join(ROOT, 'node_modules', '@clerk', 'express')) ? path.join(ROOT, 'package.json') : path.join(BENCH, 'package.json'));
    ({ clerkMiddleware: mw, getAuth } = req('@clerk/express'));
  } else if (setup === 'clerk-native') {
    const req = createRequire(import.meta.url);
    const entry = process.env.CLERK_NATIVE_EXPRESS || path.join(ROOT, 'express.js');
    ({ clerkMiddleware: mw, getAuth } = req(entry));
    const core = req(path.join(path.dirname(entry), 'index.js'));
    if (typeof core.cacheStats === 'function') stats = () => ({ verified: core.cacheStats().verified });
  } else {
    console.error(`unknown setup ${setup}`);
    process.exit(2);
  }
  app.get('/__bench/stats', (req, res) => res.json(stats())); // before the middleware: not authenticated
  app.use(mw(options));
  app.get('/api/me', (req, res) => res.json({ userId: getAuth(req).userId }));
  const server = http.createServer(app);
  server.keepAliveTimeout = 65_000;
  server.listen(Number(portStr), '127.0.0.1', () => process.stdout.write(`${setup} listening ${portStr}\n`));
  process.on('SIGTERM', () => process.exit(0));
}

if (isMainThread && process.argv[2] === '--app') await appMain(process.argv.slice(3));

// ---- settings ----------------------------------------------------------------------------------------
function settings(cfg) {
  const e = process.env;
  return {
    duration: Number(e.E2E_DURATION || cfg.duration),
    rounds: Number(e.E2E_ROUNDS || cfg.rounds),
    conns: cfg.conns,
    tokens: Number(e.E2E_TOKENS || (cfg.quick ? 40000 : 300000)),
    coldRpsMax: Number(e.E2E_COLD_RPS_MAX || 12000),
    port: Number(e.E2E_PORT || cfg.basePort + 20),
    setups: (e.E2E_SETUPS ? e.E2E_SETUPS.split(',') : SETUP_IDS).filter((s) => SETUP_IDS.includes(s)),
    warmupS: cfg.warmupS,
  };
}

export default {
  name: 'e2e-express',
  needsServers: false, // its own two servers and ports; checks wrk itself
  estimateS: (ctx) => {
    const s = settings(ctx.cfg);
    return s.setups.length * (2 * s.rounds * (s.duration + 2) + s.warmupS + 3) + 15;
  },
  run: runSection,
  report,
};

// ---- helpers (parent) ----------------------------------------------------------------------------------
let lib = null;
async function libOf() {
  lib ??= await import('../lib.mjs');
  return lib;
}

/** The key pair and token files, re-signed when missing, too few or near expiry. */
async function ensureTokens(S, log) {
  mkdirSync(TOKEN_DIR, { recursive: true });
  const metaFile = path.join(TOKEN_DIR, 'meta.json');
  const now = Math.floor(Date.now() / 1000);
  let meta = null;
  try { meta = JSON.parse(readFileSync(metaFile, 'utf8')); } catch { /* none yet */ }
  const fresh = meta && meta.cold >= S.tokens && meta.exp - now > 2 * 3600 && ['private.pem', 'public.pem', 'warm.txt', 'cold.txt'].every((f) => existsSync(path.join(TOKEN_DIR, f)));
  if (fresh) {
    log(`  tokens: reusing ${meta.cold.toLocaleString('en-US')} COLD + ${WARM_POOL} WARM tokens signed ${new Date(meta.signedAt * 1000).toISOString()} (${TOKEN_DIR})`);
    return meta;
  }
  const { generateKeyPair } = await libOf();
  const { privateKey, publicKey } = generateKeyPair('rsa', { modulusLength: 2048 });
  const privatePem = privateKey.export({ type: 'pkcs8', format: 'pem' });
  writeFileSync(path.join(TOKEN_DIR, 'private.pem'), privatePem, { mode: 0o600 });
  writeFileSync(path.join(TOKEN_DIR, 'public.pem'), publicKey.export({ type: 'spki', format: 'pem' }));
  const total = WARM_POOL + S.tokens;
  const workers = Math.max(1, Math.min(4, os.availableParallelism?.() ?? os.cpus().length));
  log(`  tokens: signing ${total.toLocaleString('en-US')} RS256 tokens on ${workers} worker threads (once; kept in ${path.relative(ROOT, TOKEN_DIR)})`);
  const t0 = Date.now();
  const per = Math.ceil(total / workers);
  const parts = await Promise.all(Array.from({ length: workers }, (_, w) => new Promise((resolve, reject) => {
    const from = w * per;
    const to = Math.min(total, from + per);
    const worker = new Worker(SELF, { workerData: { e2eSign: { privatePem, from, to, now } } });
    worker.once('message', resolve);
    worker.once('error', reject);
  })));
  const all = parts.join('\n').split('\n');
  writeFileSync(path.join(TOKEN_DIR, 'warm.txt'), all.slice(0, WARM_POOL).join('\n') + '\n');
  writeFileSync(path.join(TOKEN_DIR, 'cold.txt'), all.slice(WARM_POOL).join('\n') + '\n');
  meta = { signedAt: now, exp: now + TOKEN_LIFETIME_S, cold: S.tokens, warm: WARM_POOL };
  writeFileSync(metaFile, JSON.stringify(meta));
  log(`  tokens: signed in ${((Date.now() - t0) / 1000).toFixed(1)} s; cold.txt ${(statSync(path.join(TOKEN_DIR, 'cold.txt')).size / 1048576).toFixed(0)} MB`);
  return meta;
}

const subOf = (token) => JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()).sub;
const firstLine = (file) => readFileSync(file, 'utf8').split('\n', 1)[0];

async function getJson(url, token) {
  const res = await fetch(url, { headers: token ? { authorization: `Bearer ${token}` } : {} });
  const text = await res.text();
  try { return { status: res.status, body: JSON.parse(text) }; } catch { return { status: res.status, body: text }; }
}

/** A setup answers with the token's user id, and with null for a tampered or missing token; else the reason. */
async function sanity(base, warmToken) {
  const ok = await getJson(`${base}/api/me`, warmToken);
  if (ok.status !== 200 || ok.body?.userId !== subOf(warmToken)) return `valid token: HTTP ${ok.status} ${JSON.stringify(ok.body).slice(0, 300)}`;
  const [h, p, s] = warmToken.split('.');
  const tampered = `${h}.${p}.${s.slice(0, -4)}${s.slice(-4) === 'AAAA' ? 'BBBB' : 'AAAA'}`;
  for (const [what, t] of [['tampered signature', tampered], ['no token', null]]) {
    const r = await getJson(`${base}/api/me`, t);
    if (r.body?.userId !== null) return `${what}: HTTP ${r.status} ${JSON.stringify(r.body).slice(0, 300)} (expected userId null)`;
  }
  return null;
}

function parseWrk(out) {
  const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 }[unit] ?? NaN);
  const num = (re) => { const m = out.match(re); return m ? Number(m[1]) : 0; };
  const lat = (p) => { const m = out.match(new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)\\b`)); return m ? toMs(m[1], m[2]) : NaN; };
  const se = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    p50: lat(50), p90: lat(90), p99: lat(99),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: se ? se.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
    bad: num(/BAD_RESPONSES (\d+)/),
    loaded: num(/TOKENS (\d+)/),
  };
}

function startApp(setup, port) {
  return libOf().then(({ startServer }) => startServer(process.execPath, [SELF, '--app', setup, String(port), TOKEN_DIR], port));
}

// ---- section -------------------------------------------------------------------------------------------
async function runSection(ctx) {
  const { run, portFree, procCpuTicks, machineBusyTicks, TICK, fmt } = await libOf();
  const S = settings(ctx.cfg);
  const data = { settings: S, runs: [], sanity: {}, problems: [] };
  const wrkCheck = await run('wrk', ['--version']);
  if (!/wrk/.test(wrkCheck.stdout + wrkCheck.stderr)) {
    data.failed = 'wrk is missing: apt-get update && apt-get install -y wrk';
    ctx.log(`  ${data.failed}`);
    return data;
  }
  data.wrkVersion = (wrkCheck.stdout + wrkCheck.stderr).split('\n')[0].split(' Copyright')[0];
  const meta = await ensureTokens(S, ctx.log);
  data.tokens = meta;
  const warmFile = path.join(TOKEN_DIR, 'warm.txt');
  const coldFile = path.join(TOKEN_DIR, 'cold.txt');
  const warmToken = firstLine(warmFile);

  const servers = {};
  const ports = {};
  for (const [i, id] of S.setups.entries()) {
    ports[id] = S.port + i;
    if (!(await portFree(ports[id]))) { data.failed = `port ${ports[id]} is in use (set E2E_PORT or BASE_PORT)`; return data; }
    try {
      servers[id] = await startApp(id, ports[id]);
    } catch (e) {
      ctx.problem(`e2e ${id}`, `e2e app did not start: ${e.message.slice(0, 1500)}`);
      continue;
    }
    const bad = await sanity(`http://127.0.0.1:${ports[id]}`, warmToken);
    data.sanity[id] = bad || 'ok';
    if (bad) {
      ctx.problem(`e2e ${id}`, `e2e sanity check failed: ${bad}`);
      await servers[id].stop();
      delete servers[id];
    }
  }
  const ids = S.setups.filter((id) => servers[id]);
  if (!ids.length) { data.failed = 'no setup passed the sanity check'; return data; }
  ctx.log(`  e2e: sanity ok for ${ids.join(', ')}; warming up (${S.warmupS} s each, WARM pool)`);

  const cursor = Object.fromEntries(ids.map((id) => [id, 0])); // next COLD line per server process
  const perRun = Math.ceil(S.coldRpsMax * (S.duration + 1));
  async function wrk(id, mode, seconds) {
    const url = `http://127.0.0.1:${ports[id]}/api/me`;
    let args;
    if (mode === 'warm') args = [warmFile, 0, WARM_POOL];
    else {
      // The rest of the file from this server's cursor (at most perRun lines, to bound wrk's memory). When the file
      // is used up it starts over: harmless while the file is much larger than the verified cache (10,000 entries by
      // default), since the first tokens were evicted long ago; the cache hits measured per run are the check.
      if (cursor[id] >= meta.cold) {
        ctx.log(`  e2e ${id}: the ${meta.cold} COLD tokens are used up, starting over (E2E_TOKENS raises the count)`);
        cursor[id] = 0;
      }
      args = [coldFile, cursor[id], Math.min(perRun, meta.cold - cursor[id])];
    }
    const cmd = `wrk -t1 -c${S.conns} -d${seconds}s --timeout 10s --latency -s '${LUA}' '${url}' -- ${args.join(' ')}; times`;
    const r = await run('bash', ['-c', cmd]);
    const out = parseWrk(r.stdout);
    if (!/Requests\/sec/.test(r.stdout)) ctx.log(`  wrk failed: ${(r.stdout + r.stderr).slice(0, 600)}`);
    // wrk counts completed requests; in-flight ones at the end were also sent: skip a margin past them.
    if (mode === 'cold') {
      cursor[id] += out.requests + S.conns * 4;
      if (out.requests + S.conns > out.loaded) ctx.log(`  e2e ${id}: COLD run of ${out.requests} requests cycled through ${out.loaded} tokens (raise E2E_TOKENS / E2E_COLD_RPS_MAX if cache hits show)`);
    }
    const times = r.stdout.trim().split('\n').filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l.trim())).pop();
    out.wrkCpuS = times ? times.trim().split(' ').map((t) => { const m = t.match(/(\d+)m([\d.]+)s/); return Number(m[1]) * 60 + Number(m[2]); }).reduce((a, b) => a + b, 0) : NaN;
    return out;
  }
  for (const id of ids) await wrk(id, 'warm', S.warmupS);

  const stats = async (id) => (await getJson(`http://127.0.0.1:${ports[id]}/__bench/stats`)).body?.verified ?? null;
  const plannedRuns = S.rounds * 2 * ids.length;
  let doneRuns = 0;
  async function measure(id, mode, round) {
    const srv = servers[id];
    const v0 = await stats(id);
    const m0 = machineBusyTicks();
    const p0 = procCpuTicks(srv.pid);
    const t0 = Date.now();
    const out = await wrk(id, mode, S.duration);
    const wallS = (Date.now() - t0) / 1000;
    const serverCpuS = (procCpuTicks(srv.pid) - p0) / TICK;
    const v1 = await stats(id);
    const rec = {
      setup: id, mode, round, ...out, wallS,
      serverCpuPct: (100 * serverCpuS) / S.duration,
      otherCpuPct: (100 * ((machineBusyTicks() - m0) / TICK - serverCpuS - (out.wrkCpuS || 0))) / wallS,
      cacheHits: v0 && v1 ? v1.hits - v0.hits : null,
      cacheMisses: v0 && v1 ? v1.misses - v0.misses : null,
    };
    data.runs.push(rec);
    const errs = rec.non2xx + rec.socketErrors + rec.bad;
    ctx.log(`  e2e ${mode} r${round} ${id}: ${fmt(rec.rps)} req/s p50 ${fmt(rec.p50, 2)} ms p99 ${fmt(rec.p99, 2)} ms server cpu ${fmt(rec.serverCpuPct)}% other ${fmt(rec.otherCpuPct)}%${rec.cacheHits !== null ? ` verified-cache hits ${rec.cacheHits} misses ${rec.cacheMisses}` : ''} errors ${errs}`);
    if (errs) ctx.problem(`e2e ${id}`, `${mode} round ${round}: ${rec.non2xx} non-2xx, ${rec.socketErrors} socket errors, ${rec.bad} answers without a signed-in user`);
    if (mode === 'cold' && rec.cacheHits) ctx.problem(`e2e ${id}`, `cold round ${round}: the verified-token cache answered ${rec.cacheHits} requests (tokens repeated)`);
    if (!srv.alive()) { ctx.problem(`e2e ${id}`, `server died (${srv.exitInfo()}): ${srv.stderr().slice(-1500)}`); servers[id] = await startApp(id, ports[id]); }
    return rec;
  }
  for (let round = 1; round <= S.rounds; round++) {
    for (const mode of ['warm', 'cold']) {
      const order = round % 2 ? ids : [...ids].reverse();
      for (const id of order) {
        // A run during which other processes used more than NOISE_PCT of a core is repeated (at most 3 times, and
        // only while run.mjs's time budget covers what is still planned); the least noisy attempt is kept.
        const attempts = [];
        for (let repeats = 0; ; repeats++) {
          const rec = await measure(id, mode, round);
          attempts.push(rec);
          const leftS = (plannedRuns - doneRuns) * (S.duration + 2);
          if (!(rec.otherCpuPct > ctx.cfg.noisePct) || repeats >= 3 || !ctx.mayRepeat(leftS)) break;
          ctx.log(`  noisy (other processes used ${Math.round(rec.otherCpuPct)}% CPU), repeating`);
        }
        const kept = attempts.reduce((a, b) => (b.otherCpuPct < a.otherCpuPct ? b : a));
        for (const r of attempts) if (r !== kept) r.discarded = true;
        doneRuns++;
      }
    }
  }
  for (const srv of Object.values(servers)) await srv.stop();
  return data;
}

// ---- report --------------------------------------------------------------------------------------------
function report(ctx, data) {
  // lib.mjs is loaded by run() before report() is called.
  const { median, fmt, range, mdTable } = lib;
  const S = data.settings;
  let md = `## End to end: Express + clerkMiddleware on every request (wrk, ${S.conns} connections, 1 thread, ${S.duration} s × ${S.rounds} round${S.rounds > 1 ? 's' : ''}, order alternating)\n\n`;
  if (data.failed) return `${md}**FAILED**: ${data.failed}\n`;
  md += `GET /api/me with \`Authorization: Bearer <session token>\` (RS256, 2048-bit, a Clerk v2 session token); the route answers \`{"userId": getAuth(req).userId}\`. Both apps: \`clerkMiddleware({ publishableKey: pk_test_…, secretKey: sk_test_…, jwtKey: <PEM> })\` (networkless, same key). `;
  md += `WARM: ${WARM_POOL} tokens reused. COLD: a distinct token per request (${fmt(data.tokens.cold)} pre-signed; each run continues where the last stopped). Every answer was checked by the wrk script (200 and a signed-in user id). ${data.wrkVersion}.\n\n`;
  const rows = [];
  const ratio = {};
  for (const mode of ['warm', 'cold']) {
    const by = (id) => data.runs.filter((r) => r.mode === mode && r.setup === id && !r.discarded);
    const ref = median(by(REF).map((r) => r.rps));
    const refP99 = median(by(REF).map((r) => r.p99));
    for (const id of SETUP_IDS) {
      const rs = by(id);
      if (!rs.length) continue;
      const rps = median(rs.map((r) => r.rps));
      const p99 = median(rs.map((r) => r.p99));
      ratio[`${mode}:${id}`] = { rps: rps / ref, p99: p99 / refP99 };
      const hits = rs.every((r) => r.cacheHits === null) ? '–' : `${fmt(rs.reduce((a, r) => a + (r.cacheHits || 0), 0))} / ${fmt(rs.reduce((a, r) => a + (r.cacheMisses || 0), 0))}`;
      rows.push([
        mode.toUpperCase(), LABELS[id], `${fmt(rps)} (${range(rs.map((r) => r.rps))})`, fmt(rps / ref, 2),
        fmt(median(rs.map((r) => r.p50)), 2), fmt(p99, 2), fmt(p99 / refP99, 2),
        fmt(median(rs.map((r) => r.serverCpuPct))), hits, fmt(median(rs.map((r) => r.otherCpuPct))),
        rs.reduce((a, r) => a + r.non2xx + r.socketErrors + r.bad, 0),
      ]);
    }
  }
  md += mdTable(['mode', 'setup', 'req/s median (range)', '× @clerk/express', 'p50 ms', 'p99 ms', 'p99 × @clerk/express', 'server CPU %', 'verified-cache hits / misses', 'other CPU %', 'errors'], rows, ['l', 'l']);
  const target = (what, v, ok) => `- ${Number.isFinite(v) ? (ok ? '✅ MET' : '❌ NOT MET') : '❔ n/a'}: ${what}: ${Number.isFinite(v) ? `${fmt(v, 2)}×` : 'n/a'}`;
  const w = ratio[`warm:${OURS}`];
  const c = ratio[`cold:${OURS}`];
  md += `\n### Targets (issue 12, one run)\n\n`;
  md += `${target('WARM req/s ≥ 4× @clerk/express', w?.rps, w?.rps >= 4)}\n`;
  md += `${target('COLD req/s ≥ 2.5× @clerk/express', c?.rps, c?.rps >= 2.5)}\n`;
  md += `${target('WARM p99 ≤ 1/3 of @clerk/express (× shown)', w?.p99, w?.p99 <= 1 / 3)}\n`;
  md += `${target('COLD p99 ≤ 1/3 of @clerk/express (× shown)', c?.p99, c?.p99 <= 1 / 3)}\n\n`;
  md += `Noisy runs repeated: ${data.runs.filter((r) => r.discarded).length} (other processes above ${ctx.cfg.noisePct}% of a core; at most 3 repeats per run, within the time budget). `;
  md += `"server CPU %": the app process (all threads), 100% = one core. "verified-cache hits / misses": clerk-native's verified-token cache over the timed runs (COLD must show 0 hits). "other CPU %": CPU used outside the benchmark during the runs (other sessions on a shared machine; wrk's own CPU excluded). "errors": non-2xx + socket errors + answers without a signed-in user.\n`;
  return md;
}
