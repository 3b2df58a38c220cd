#!/usr/bin/env node
// Soak: clerk-native under sustained mixed load, one command, bounded.
//
//   node benchmark/soak.mjs                       100,000 proxied requests + 100,000 authentications, 100 in flight
//   SOAK_REQUESTS=5000 node benchmark/soak.mjs    quick: 5,000 + 5,000 (npm test runs 3,000 + 3,000: __test__/soak.test.js)
//
// The proxy runs in a child process (this file with --app): Express + clerk-native's clerkMiddleware, with the
// Frontend API proxy on /__clerk and authentication on every other route (GET /api/me answers the auth object).
// This process is the load generator (node:http, one keep-alive agent, 127.0.0.1 only) and the stand-in for
// both Clerk APIs: the Frontend API behind the proxy and the Backend API's /v1/jwks (the app verifies session
// tokens with `secretKey` + `apiUrl`, so keys are fetched once and cached).
//
// Operations, interleaved (proxy, auth, proxy, auth, ...), SOAK_CONCURRENCY in flight:
//   proxied (SOAK_REQUESTS): 45% GET /__clerk/v1/environment (1 KB JSON), 15% GET /__clerk/v1/client (3 Set-Cookie),
//     30% POST /__clerk/v1/client/sign_ins (~500 B form, echoed length), 5% POST 100 KiB (streamed upload),
//     5% GET /__clerk/v1/stream (4 MiB, 16 KiB every 5 ms) aborted by the client after its first chunk
//     (SOAK_ABORT_RATE): the proxy must cut the upstream response of each of them.
//   authentications (SOAK_AUTHS, default = SOAK_REQUESTS): GET /api/me with `Authorization: Bearer <session JWT>`:
//     60% warm (one of 100 tokens, repeated: the verified-token cache), 35% cold (a fresh token every time, signed
//     on the fly, distinct user ids), 5% invalid (tampered signature, expired, garbage, signed by another key).
// Expected outcomes: proxied GET/POST 200 with the right body; auth 200 with exactly the token's own user id
// (a cache mix-up would show a wrong id) or 401 with the expected reason for an invalid token; aborted requests
// (any outcome; counted). Anything else is an unexpected error: a wrong status or body, a wrong user id, a
// network error, or no answer within SOAK_REQUEST_TIMEOUT_MS.
//
// Measured in the proxy process: RSS (VmRSS), open fds (/proc/<pid>/fd) and, among them, ESTABLISHED client
// connections and connections to the upstream (socket inodes matched in /proc/<pid>/net/tcp), at start (idle, before traffic), after warm-up (the first SOAK_WARMUP operations), peak (sampled
// every 200 ms), end of the load, and end after closing the client connections and a GC. The markdown report goes
// to benchmark/results/soak.md (SOAK_OUT) and is printed.
//
// Exit code 1 when: an unexpected error occurred, fds other than connections at the end of the load exceed those
// after warm-up (+SOAK_FD_SLACK), connections exceed the concurrency, fds after closing the clients exceed those at
// start plus the idle upstream pool (+SOAK_FD_SLACK),
// RSS at the end (after GC) exceeds RSS after warm-up (after GC) by more than SOAK_RSS_GROWTH_MB, the upstream
// still has a response in flight after the run, the addon still runs an exchange task or holds an exchange handle
// at the end (nativeStats(), after GC), or the run exceeded SOAK_MAX_S.
//
// Knobs: SOAK_REQUESTS (100000), SOAK_AUTHS (= SOAK_REQUESTS), SOAK_CONCURRENCY (100), SOAK_ABORT_RATE (0.05),
//   SOAK_WARMUP (ops; 5% of the total, at least 1000), SOAK_REQUEST_TIMEOUT_MS (15000), SOAK_MAX_S (1200),
//   SOAK_FD_SLACK (8), SOAK_RSS_GROWTH_MB (64), SOAK_SEED (1), SOAK_OUT (benchmark/results/soak.md).

import http from 'node:http';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import { fork } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { performance } from 'node:perf_hooks';
import { generateKeyPair } from './lib.mjs';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');
const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k';
const SK = 'sk_test_soak_0123456789';
const KID = 'ins_soak_kid';


// -------------------------------------------------------------------------------------------------------------
// The proxy process

function fdCount(pid = 'self') {
  try {
    return fs.readdirSync(`/proc/${pid}/fd`).length;
  } catch {
    return null;
  }
}

function statusKb(pid, field) {
  try {
    const m = new RegExp(`^${field}:\\s+(\\d+) kB`, 'm').exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) * 1024 : null;
  } catch {
    return null;
  }
}

function runApp() {
  const require = createRequire(path.join(ROOT, 'package.json'));
  const express = require('express');
  const { clerkMiddleware } = require(path.join(ROOT, 'express.js'));
  const { nativeStats } = require(path.join(ROOT, 'index.js'));
  const cfg = JSON.parse(process.env.CLERK_NATIVE_SOAK_APP || '{}');
  const app = express();
  app.use(
    clerkMiddleware({
      publishableKey: PK,
      secretKey: SK,
      apiUrl: cfg.upstream,
      fapiUrl: cfg.upstream,
      frontendApiProxy: { enabled: true },
    }),
  );
  app.get('/api/me', (req, res) => {
    const auth = req.auth();
    if (auth.isAuthenticated) res.json({ userId: auth.userId, sessionId: auth.sessionId });
    else res.status(401).json({ reason: auth.debug().reason });
  });
  app.use((req, res) => res.status(404).json({ next: true }));
  const server = app.listen(0, '127.0.0.1', () => process.send({ type: 'ready', port: server.address().port }));
  server.keepAliveTimeout = 65000;
  process.on('message', (m) => {
    if (!m || m.type !== 'gc') return;
    if (typeof global.gc === 'function') global.gc();
    setImmediate(() => {
      if (typeof global.gc === 'function') global.gc();
      const mem = process.memoryUsage();
      // nativeStats is absent in builds older than the soak's checks of it (benchmarking an old addon).
      const native = typeof nativeStats === 'function' ? nativeStats() : null;
      process.send({ type: 'gc', id: m.id, heapUsed: mem.heapUsed, external: mem.external, native });
    });
  });
  process.on('disconnect', () => process.exit(0));
}

// -------------------------------------------------------------------------------------------------------------
// The load generator and upstream

function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const b64url = (v) => Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

function signJwt(privateKey, payload, kid = KID) {
  const input = `${b64url({ alg: 'RS256', typ: 'JWT', kid })}.${b64url(payload)}`;
  return `${input}.${crypto.sign('sha256', Buffer.from(input), privateKey).toString('base64url')}`;
}

/** ESTABLISHED TCP connections of process `pid` whose local (`side` 'local') or remote port is `port`. */
function established(pid, port, side = 'remote') {
  const inodes = new Set();
  let fds = [];
  try {
    fds = fs.readdirSync(`/proc/${pid}/fd`);
  } catch {
    return null;
  }
  for (const fd of fds) {
    try {
      const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
      if (m) inodes.add(m[1]);
    } catch {}
  }
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  let n = 0;
  for (const file of ['tcp', 'tcp6']) {
    let text = '';
    try {
      text = fs.readFileSync(`/proc/${pid}/net/${file}`, 'utf8');
    } catch {
      continue;
    }
    for (const line of text.split('\n').slice(1)) {
      const f = line.trim().split(/\s+/);
      if (f.length >= 10 && f[side === 'local' ? 1 : 2].endsWith(`:${hexPort}`) && f[3] === '01' && inodes.has(f[9])) n++;
    }
  }
  return n;
}

const MB = 1024 * 1024;
const mbs = (b) => (b == null ? 'n/a' : `${(b / MB).toFixed(1)} MB`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

function percentile(arr, n, q) {
  if (n === 0) return 0;
  const s = Float64Array.from(arr.subarray(0, n)).sort();
  return s[Math.min(n - 1, Math.ceil(q * n) - 1)];
}

async function runDriver() {
  const env = process.env;
  const REQUESTS = Number(env.SOAK_REQUESTS || 100000);
  const AUTHS = Number(env.SOAK_AUTHS || REQUESTS);
  const CONCURRENCY = Number(env.SOAK_CONCURRENCY || 100);
  const ABORT_RATE = Number(env.SOAK_ABORT_RATE ?? 0.05);
  const WARMUP = Number(env.SOAK_WARMUP || Math.max(1000, Math.round((REQUESTS + AUTHS) * 0.05)));
  const REQUEST_TIMEOUT_MS = Number(env.SOAK_REQUEST_TIMEOUT_MS || 15000);
  const MAX_S = Number(env.SOAK_MAX_S || 1200);
  const FD_SLACK = Number(env.SOAK_FD_SLACK || 8);
  const RSS_GROWTH = Number(env.SOAK_RSS_GROWTH_MB || 64) * MB;
  const SEED = Number(env.SOAK_SEED || 1);
  const OUT = env.SOAK_OUT || path.join(HERE, 'results', 'soak.md');
  const rand = mulberry32(SEED);
  const startedAt = new Date();

  // Keys and tokens
  const { privateKey, publicKey } = generateKeyPair('rsa', { modulusLength: 2048 });
  const other = generateKeyPair('rsa', { modulusLength: 2048 });
  const jwk = { ...publicKey.export({ format: 'jwk' }), kid: KID, use: 'sig', alg: 'RS256' };
  const jwksBody = JSON.stringify({ keys: [jwk] });
  const now = () => Math.floor(Date.now() / 1000);
  const claims = (sub, extra = {}) => ({ sub, sid: `sess_${sub}`, iss: 'https://clerk.soak.test', iat: now() - 10, nbf: now() - 10, exp: now() + 3600, ...extra });
  const warm = Array.from({ length: 100 }, (_, i) => ({ token: signJwt(privateKey, claims(`user_w${i}`)), sub: `user_w${i}` }));
  const good = signJwt(privateKey, claims('user_x'));
  const invalid = [
    { kind: 'tampered', token: good.slice(0, -6) + (good.endsWith('AAAAAA') ? 'BBBBBB' : 'AAAAAA'), reasons: ['token-invalid-signature'] },
    { kind: 'expired', token: signJwt(privateKey, claims('user_e', { iat: now() - 7200, nbf: now() - 7200, exp: now() - 3600 })), reasons: ['token-expired', 'session-token-expired-refresh-non-eligible-no-refresh-cookie'] },
    { kind: 'garbage', token: 'not-a-token', reasons: ['token-invalid'] },
    { kind: 'other-key', token: signJwt(other.privateKey, claims('user_o')), reasons: ['token-invalid-signature'] },
  ];

  // Upstream: Frontend API stand-in + /v1/jwks
  const envBody = JSON.stringify({ auth_config: { id: 'aac_soak', single_session_mode: true }, display_config: { name: 'soak', pad: 'x'.repeat(900) } });
  const streamChunk = Buffer.alloc(16 * 1024, 0x73);
  const STREAM_CHUNKS = 256;
  let jwksHits = 0;
  let upInflight = 0;
  let upAborted = 0;
  let upRequests = 0;
  const upSockets = new Set();
  const upstream = http.createServer({ keepAliveTimeout: 65000 }, (req, res) => {
    upRequests++;
    upInflight++;
    res.once('close', () => {
      upInflight--;
      if (!res.writableFinished) upAborted++;
    });
    const url = req.url;
    if (url.startsWith('/v1/jwks')) {
      jwksHits++;
      req.resume();
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(jwksBody) });
      return res.end(jwksBody);
    }
    if (req.method === 'POST') {
      let n = 0;
      const h = crypto.createHash('sha1');
      req.on('data', (c) => {
        n += c.length;
        h.update(c);
      });
      req.on('end', () => {
        const body = JSON.stringify({ received: n, sha1: h.digest('hex') });
        res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
        res.end(body);
      });
      req.on('error', () => {});
      return;
    }
    req.resume();
    if (url.startsWith('/v1/environment')) {
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(envBody) });
      return res.end(envBody);
    }
    if (url.startsWith('/v1/client')) {
      const body = '{"response":{"object":"client","id":"client_soak"}}';
      res.writeHead(200, [
        'content-type', 'application/json',
        'content-length', String(Buffer.byteLength(body)),
        'set-cookie', '__client=a; Path=/; HttpOnly',
        'set-cookie', '__client_uat=1; Path=/',
        'set-cookie', '__session=s; Path=/',
      ]);
      return res.end(body);
    }
    if (url.startsWith('/v1/stream')) {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': STREAM_CHUNKS * streamChunk.length });
      // 16 KiB every 5 ms (4 MiB, ~1.3 s): a client abort after the first chunk reaches the upstream mid-response
      let i = 0;
      const next = () => {
        if (res.destroyed) return;
        if (i++ >= STREAM_CHUNKS) return res.end();
        if (res.write(streamChunk)) setTimeout(next, 5);
        else res.once('drain', () => setTimeout(next, 5));
      };
      return next();
    }
    res.writeHead(404, { 'content-type': 'application/json', 'content-length': 2 });
    res.end('{}');
  });
  upstream.on('connection', (s) => {
    upSockets.add(s);
    s.on('close', () => upSockets.delete(s));
  });
  upstream.on('clientError', (err, s) => s.destroy());
  await new Promise((r) => upstream.listen(0, '127.0.0.1', r));
  const upstreamUrl = `http://127.0.0.1:${upstream.address().port}`;
  const upPort = upstream.address().port;

  // The proxy process
  const child = fork(fileURLToPath(import.meta.url), ['--app'], {
    execArgv: ['--expose-gc'],
    env: { ...process.env, CLERK_NATIVE_SOAK_APP: JSON.stringify({ upstream: upstreamUrl }) },
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  let childExit = null;
  child.on('exit', (code, signal) => (childExit = { code, signal }));
  const killChild = () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
  };
  process.on('exit', killChild);
  const port = await new Promise((resolve, reject) => {
    const t = setTimeout(() => reject(new Error('the soak app did not start within 20 s')), 20000);
    child.on('message', (m) => m && m.type === 'ready' && (clearTimeout(t), resolve(m.port)));
    child.once('exit', (code) => reject(new Error(`the soak app exited (${code})`)));
  });
  const pid = child.pid;
  let gcId = 0;
  const gc = () =>
    new Promise((resolve) => {
      const id = ++gcId;
      const t = setTimeout(() => resolve(null), 10000);
      const on = (m) => {
        if (m && m.type === 'gc' && m.id === id) {
          clearTimeout(t);
          child.off('message', on);
          resolve(m);
        }
      };
      child.on('message', on);
      child.send({ type: 'gc', id });
    });
  const probe = () => {
    const fds = fdCount(pid);
    const upConns = established(pid, upPort, 'remote');
    const clientConns = established(pid, port, 'local');
    return { rss: statusKb(pid, 'VmRSS'), fds, upConns, clientConns, otherFds: fds == null ? null : fds - upConns - clientConns };
  };

  const rows = [];
  const record = async (label, { withGc = false } = {}) => {
    const g = withGc ? await gc() : null;
    const p = probe();
    rows.push({ label, ...p, external: g ? g.external : null, heapUsed: g ? g.heapUsed : null, native: g ? g.native : null, gc: withGc });
    return p;
  };
  await sleep(300);
  await record('start (idle, before traffic)', { withGc: true });

  let peak = { rss: 0, fds: 0, upConns: 0, clientConns: 0, otherFds: 0 };
  const sampler = setInterval(() => {
    const p = probe();
    if (p.rss != null) {
      peak = {
        rss: Math.max(peak.rss, p.rss),
        fds: Math.max(peak.fds, p.fds ?? 0),
        upConns: Math.max(peak.upConns, p.upConns ?? 0),
        clientConns: Math.max(peak.clientConns, p.clientConns ?? 0),
        otherFds: Math.max(peak.otherFds, p.otherFds ?? 0),
      };
    }
  }, 200);

  // The client
  const agent = new http.Agent({ keepAlive: true, maxSockets: CONCURRENCY, maxFreeSockets: CONCURRENCY, keepAliveMsecs: 1000 });
  const counts = {};
  const bump = (k) => (counts[k] = (counts[k] || 0) + 1);
  const unexpected = [];
  let unexpectedTotal = 0;
  const fail = (what) => {
    unexpectedTotal++;
    if (unexpected.length < 30) unexpected.push(what);
  };
  const latProxy = new Float64Array(REQUESTS);
  const latAuth = new Float64Array(AUTHS);
  let nProxy = 0;
  let nAuth = 0;
  let coldSeq = 0;
  const form = Buffer.from(`identifier=user%40example.com&strategy=password&password=${'p'.repeat(400)}`);
  const bigPost = crypto.randomBytes(100 * 1024);
  const bigSha = crypto.createHash('sha1').update(bigPost).digest('hex');
  const formSha = crypto.createHash('sha1').update(form).digest('hex');

  function request({ method = 'GET', p, headers = {}, body = null, abortOnFirstChunk = false }) {
    return new Promise((resolve) => {
      const t0 = performance.now();
      let done = false;
      const finish = (r) => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        r.ms = performance.now() - t0;
        resolve(r);
      };
      const h = { ...headers };
      if (body) h['content-length'] = body.length;
      const req = http.request({ host: '127.0.0.1', port, method, path: p, headers: h, agent }, (res) => {
        const chunks = [];
        res.on('data', (c) => {
          if (abortOnFirstChunk) {
            req.destroy();
            finish({ aborted: true, status: res.statusCode });
            return;
          }
          chunks.push(c);
        });
        res.on('end', () => finish({ status: res.statusCode, headers: res.headers, body: Buffer.concat(chunks) }));
        res.on('error', (err) => finish({ error: `response: ${err.code || err.message}` }));
        res.on('aborted', () => finish({ error: 'response aborted' }));
      });
      req.on('error', (err) => finish({ error: `request: ${err.code || err.message}` }));
      const timer = setTimeout(() => {
        req.destroy();
        finish({ error: `no answer within ${REQUEST_TIMEOUT_MS} ms` });
      }, REQUEST_TIMEOUT_MS);
      req.end(body || undefined);
    });
  }

  async function proxyOp() {
    const r = rand();
    let kind;
    let o;
    if (r < ABORT_RATE) {
      kind = 'proxy GET stream, aborted by the client';
      o = await request({ p: '/__clerk/v1/stream', abortOnFirstChunk: true });
      if (o.aborted) bump('proxy aborted (expected)');
      else fail(`${kind}: ${JSON.stringify({ status: o.status, error: o.error })}`);
    } else if (r < ABORT_RATE + 0.05) {
      kind = 'proxy POST 100 KiB';
      o = await request({ method: 'POST', p: '/__clerk/v1/client/sign_ins', headers: { 'content-type': 'application/octet-stream' }, body: bigPost });
      checkJson(o, kind, (j) => j.received === bigPost.length && j.sha1 === bigSha);
    } else if (r < ABORT_RATE + 0.35) {
      kind = 'proxy POST form';
      o = await request({ method: 'POST', p: '/__clerk/v1/client/sign_ins?_clerk_js_version=5', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form });
      checkJson(o, kind, (j) => j.received === form.length && j.sha1 === formSha);
    } else if (r < ABORT_RATE + 0.5) {
      kind = 'proxy GET client (3 Set-Cookie)';
      o = await request({ p: '/__clerk/v1/client' });
      checkJson(o, kind, (j) => j.response && j.response.id === 'client_soak', (res) => Array.isArray(res.headers['set-cookie']) && res.headers['set-cookie'].length === 3);
    } else {
      kind = 'proxy GET environment';
      o = await request({ p: '/__clerk/v1/environment' });
      checkJson(o, kind, (j) => j.auth_config && j.auth_config.id === 'aac_soak');
    }
    if (nProxy < REQUESTS) latProxy[nProxy++] = o.ms;
  }

  function checkJson(o, kind, pred, headPred) {
    if (o.error || o.status !== 200) return fail(`${kind}: ${JSON.stringify({ status: o.status, error: o.error, body: o.body && o.body.toString().slice(0, 200) })}`);
    let j;
    try {
      j = JSON.parse(o.body.toString());
    } catch {
      return fail(`${kind}: body is not JSON: ${o.body.toString().slice(0, 200)}`);
    }
    if (!pred(j)) return fail(`${kind}: wrong body ${o.body.toString().slice(0, 200)}`);
    if (headPred && !headPred(o)) return fail(`${kind}: wrong headers ${JSON.stringify(o.headers)}`);
    bump(`${kind} (ok)`);
  }

  async function authOp() {
    const r = rand();
    let token;
    let expect;
    let kind;
    if (r < 0.05) {
      const inv = invalid[Math.floor(rand() * invalid.length)];
      token = inv.token;
      expect = { status: 401, reasons: inv.reasons };
      kind = `auth invalid (${inv.kind})`;
    } else if (r < 0.4) {
      const sub = `user_c${++coldSeq}`;
      token = signJwt(privateKey, claims(sub));
      expect = { status: 200, sub };
      kind = 'auth cold (distinct token)';
    } else {
      const w = warm[Math.floor(rand() * warm.length)];
      token = w.token;
      expect = { status: 200, sub: w.sub };
      kind = 'auth warm (repeated token)';
    }
    const o = await request({ p: '/api/me', headers: { authorization: `Bearer ${token}` } });
    if (nAuth < AUTHS) latAuth[nAuth++] = o.ms;
    if (o.error || o.status !== expect.status) return fail(`${kind}: want ${expect.status}, got ${JSON.stringify({ status: o.status, error: o.error, body: o.body && o.body.toString().slice(0, 200) })}`);
    let j;
    try {
      j = JSON.parse(o.body.toString());
    } catch {
      return fail(`${kind}: body is not JSON`);
    }
    if (expect.status === 200 && j.userId !== expect.sub) return fail(`${kind}: IDENTITY MISMATCH: token of ${expect.sub} answered as ${j.userId}`);
    if (expect.status === 401 && !expect.reasons.includes(j.reason)) return fail(`${kind}: reason ${j.reason}, want one of ${expect.reasons.join(', ')}`);
    bump(`${kind} (ok)`);
  }

  // Interleaved operations: proxy, auth, proxy, auth, ... until both budgets are spent.
  const TOTAL = REQUESTS + AUTHS;
  let issued = 0;
  let proxyLeft = REQUESTS;
  let authLeft = AUTHS;
  let timedOut = false;
  const deadline = performance.now() + MAX_S * 1000;
  function nextOp() {
    if (issued >= TOTAL || performance.now() > deadline) {
      if (issued < TOTAL) timedOut = true;
      return null;
    }
    issued++;
    if ((issued % 2 === 1 && proxyLeft > 0) || authLeft === 0) {
      proxyLeft--;
      return proxyOp;
    }
    authLeft--;
    return authOp;
  }
  async function runOps(limit) {
    let started = 0;
    const worker = async () => {
      for (;;) {
        if (started >= limit) return;
        const op = nextOp();
        if (!op) return;
        started++;
        await op();
      }
    };
    await Promise.all(Array.from({ length: CONCURRENCY }, worker));
  }

  console.log(`soak: ${REQUESTS} proxied requests + ${AUTHS} authentications, ${CONCURRENCY} in flight, ${(ABORT_RATE * 100).toFixed(0)}% of proxied requests aborted; warm-up ${WARMUP} ops; proxy pid ${pid}`);
  const t0 = performance.now();
  await runOps(WARMUP);
  const warmDone = performance.now();
  await record(`after warm-up (${WARMUP.toLocaleString('en-US')} ops)`);
  await record('after warm-up, after GC', { withGc: true });
  let lastLog = performance.now();
  const progress = setInterval(() => {
    if (performance.now() - lastLog < 10000) return;
    lastLog = performance.now();
    const p = probe();
    console.log(`  ${issued.toLocaleString('en-US')}/${TOTAL.toLocaleString('en-US')} ops, ${((performance.now() - t0) / 1000).toFixed(0)} s, RSS ${mbs(p.rss)}, fds ${p.fds}, unexpected ${unexpectedTotal}`);
  }, 1000);
  await runOps(Infinity);
  clearInterval(progress);
  const loadS = (performance.now() - warmDone) / 1000;
  const totalS = (performance.now() - t0) / 1000;
  clearInterval(sampler);
  await record('end of load (client connections idle)');
  agent.destroy();
  // Let the proxy see the client connections close and the upstream answer everything in flight.
  const settleUntil = performance.now() + 10000;
  while (performance.now() < settleUntil && upInflight > 0) await sleep(50);
  await sleep(500);
  // Native exchange handles are released by finalizers that run shortly after the GC that collects their JS
  // objects: give them a few GC rounds before the final sample.
  for (let i = 0; i < 20; i++) {
    const g = await gc();
    if (!g.native || g.native.exchangeHandles === 0) break;
    await sleep(100);
  }
  await record('end, client connections closed, after GC', { withGc: true });

  // Verdict
  const warmIdle = rows[1];
  const warmGc = rows[2];
  const endIdle = rows[3];
  const endGc = rows[4];
  const checks = [
    [unexpectedTotal === 0, `unexpected errors: ${unexpectedTotal}`],
    [!timedOut, `all operations issued within SOAK_MAX_S (${MAX_S} s)`],
    [childExit === null, `the proxy process is alive${childExit ? ` (exited ${JSON.stringify(childExit)})` : ''}`],
    [upInflight === 0, `no response in flight at the upstream after the run (${upInflight})`],
    [upAborted === (counts['proxy aborted (expected)'] || 0), `every client abort cut its upstream response: ${upAborted} cut at the upstream, ${counts['proxy aborted (expected)'] || 0} aborted by the client`],
    [endIdle.otherFds <= warmIdle.otherFds + FD_SLACK, `fds other than client/upstream connections at the end of the load (${endIdle.otherFds}) <= after warm-up (${warmIdle.otherFds}) + ${FD_SLACK}`],
    [endIdle.clientConns <= CONCURRENCY && endIdle.upConns <= CONCURRENCY, `connections at the end of the load bounded by the concurrency: ${endIdle.clientConns} client, ${endIdle.upConns} upstream (<= ${CONCURRENCY})`],
    [endGc.clientConns === 0 && endGc.fds <= rows[0].fds + endGc.upConns + FD_SLACK, `fds after closing the clients (${endGc.fds}) <= at start (${rows[0].fds}) + idle upstream pool connections (${endGc.upConns}) + ${FD_SLACK}`],
    [endGc.rss - warmGc.rss <= RSS_GROWTH, `RSS after GC: end - after warm-up = ${mbs(endGc.rss - warmGc.rss)} <= ${mbs(RSS_GROWTH)}`],
  ];
  if (endGc.native) {
    const n = endGc.native;
    checks.push([n.exchangeTasks === 0 && n.exchangeHandles === 0, `native exchanges at the end (nativeStats, after GC): ${n.exchangeTasks} tasks running, ${n.exchangeHandles} handles held (both 0); ${n.runtimeTasks} tokio tasks (the idle upstream pool)`]);
  }
  const ok = checks.every(([c]) => c);

  const pct = (arr, n) => `p50 ${percentile(arr, n, 0.5).toFixed(1)} ms, p99 ${percentile(arr, n, 0.99).toFixed(1)} ms, max ${percentile(arr, n, 1).toFixed(1)} ms`;
  const cpu = os.cpus();
  const lines = [];
  lines.push(`# clerk-native soak`);
  lines.push('');
  lines.push(`${startedAt.toISOString()} · Node ${process.version} · ${os.platform()} ${os.arch()} · ${cpu.length} × ${cpu[0] ? cpu[0].model.trim() : 'cpu'} · addon ${fs.existsSync(path.join(ROOT, 'clerk-native.linux-x64-gnu.node')) ? 'clerk-native.linux-x64-gnu.node' : '(platform package)'}`);
  lines.push('');
  lines.push(`Command: \`${[env.SOAK_REQUESTS ? `SOAK_REQUESTS=${env.SOAK_REQUESTS}` : '', 'node benchmark/soak.mjs'].filter(Boolean).join(' ')}\` — ${REQUESTS.toLocaleString('en-US')} proxied requests + ${AUTHS.toLocaleString('en-US')} authentications, ${CONCURRENCY} in flight (keep-alive), interleaved; ${(ABORT_RATE * 100).toFixed(0)}% of proxied requests aborted by the client mid-response. Warm-up: the first ${WARMUP.toLocaleString('en-US')} operations.`);
  lines.push('');
  lines.push(`**Result: ${ok ? 'PASS' : 'FAIL'}** — ${unexpectedTotal} unexpected errors; ${(issued).toLocaleString('en-US')} operations in ${totalS.toFixed(1)} s (${Math.round(issued / totalS).toLocaleString('en-US')} ops/s overall).`);
  lines.push('');
  lines.push('| proxy process | RSS | open fds | of which client connections | upstream connections | other fds |');
  lines.push('|---|---|---|---|---|---|');
  const row = (label, r) => `| ${label} | ${mbs(r.rss)} | ${r.fds} | ${r.clientConns} | ${r.upConns} | ${r.otherFds} |`;
  for (const r of rows.slice(0, 3)) lines.push(row(r.label, r));
  lines.push(row('peak (each column sampled every 200 ms)', peak));
  for (const r of rows.slice(3)) lines.push(row(r.label, r));
  lines.push('');
  lines.push('| operation | count |');
  lines.push('|---|---|');
  for (const k of Object.keys(counts).sort()) lines.push(`| ${k} | ${counts[k].toLocaleString('en-US')} |`);
  lines.push(`| **unexpected errors** | **${unexpectedTotal}** |`);
  lines.push('');
  lines.push(`Latency (client side, ${CONCURRENCY} in flight): proxied ${pct(latProxy, nProxy)}; authentications ${pct(latAuth, nAuth)}.`);
  lines.push(`Upstream: ${upRequests.toLocaleString('en-US')} requests, ${upAborted.toLocaleString('en-US')} responses cut by the proxy (client aborts), ${upInflight} in flight after the run; JWKS fetched ${jwksHits} time(s). Load phase after warm-up: ${loadS.toFixed(1)} s.`);
  lines.push('');
  lines.push('Checks:');
  for (const [c, label] of checks) lines.push(`- ${c ? 'ok' : '**FAILED**'}: ${label}`);
  if (unexpected.length) {
    lines.push('');
    lines.push(`First unexpected errors (${unexpected.length} of ${unexpectedTotal}):`);
    lines.push('');
    for (const u of unexpected) lines.push(`- ${u}`);
  }
  lines.push('');
  lines.push('Definitions: RSS = VmRSS of the proxy process; fds = entries in /proc/<pid>/fd (listening socket, IPC, runtime, client and upstream connections); "after GC" rows are taken after two forced GCs in the proxy process. Expected errors: the client-aborted requests only.');
  const md = lines.join('\n') + '\n';
  fs.mkdirSync(path.dirname(OUT), { recursive: true });
  fs.writeFileSync(OUT, md);
  console.log('\n' + md);
  console.log(`written to ${path.relative(process.cwd(), OUT)}`);

  killChild();
  for (const s of upSockets) s.destroy();
  upstream.close();
  process.exitCode = ok ? 0 : 1;
}

if (process.argv[2] === '--app') runApp();
else runDriver().catch((err) => {
  console.error(err && err.stack ? err.stack : err);
  process.exit(1);
});
