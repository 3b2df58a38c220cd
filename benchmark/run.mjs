#!/usr/bin/env node
// Side-by-side benchmark: Express + clerk-native vs Express + @clerk/express frontendApiProxy, Express +
// http-proxy-middleware (keep-alive agent), Express answering directly and the upstream alone.
//
//   node benchmark/run.mjs            (or `npm run bench` in the repo root) full run, ≤ ~17 min -> benchmark/RESULTS.md
//   QUICK=1 node benchmark/run.mjs    smoke run, ~2-3 min -> benchmark/results/RESULTS-quick.md
// Raw JSON and a log go to benchmark/results/ (git-ignored). Tables are printed at the end.
//
// Env knobs: DURATION (s per wrk run; 10, QUICK 3), CONNS (50), ROUNDS (3, QUICK 1), STREAM_TRIALS (3, QUICK 1),
//   STREAM_MB (100), SLOW_RATE (curl --limit-rate, 50M), SLOW_SINK_MBPS (50), BIG_UPLOAD_MB (1024; QUICK 256
//   unless FULL=1; 0 skips it), SETUPS (comma list of setup ids, see setups.mjs), SKIP (comma list of sections),
//   NOISE_PCT (25), NOISE_RETRIES (15), MAX_MINUTES (time budget for noise repeats; 15, QUICK 3), BASE_PORT (4300),
//   CLERK_NATIVE_EXPRESS (path of clerk-native's express.js; default ../express.js),
//   SECTIONS (comma list: run only these sections, e.g. SECTIONS=jwt; the report then goes to
//   results/RESULTS-<sections>[-quick].md so a partial run never overwrites RESULTS.md; RESULTS_MD overrides),
//   JWT_* (see sections/jwt.mjs: JWT_MS, JWT_REPS, JWT_TOKENS, JWT_DEPTH, JWT_PIPELINE=0, JWT_JWKS=0, ...).
//
// Sections are modules in sections/ exporting { name, estimateS(ctx), run(ctx) -> data, report(ctx, data) -> md }.
// To add one, write sections/<name>.mjs with that shape and add it to SECTIONS below; a section that needs no
// proxy servers/wrk declares `needsServers: false` (a run of only such sections skips the port and wrk checks).
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, run, portFree, getJson, fmt } from './lib.mjs';
import { HERE, ROOT, SETUPS } from './setups.mjs';
import http from './sections/http.mjs';
import streams from './sections/streams.mjs';
import jwt from './sections/jwt.mjs';
import e2eExpress from './sections/e2e-express.mjs';

const SECTIONS = [http, streams, jwt, e2eExpress];

const env = process.env;
const QUICK = env.QUICK === '1';
const cfg = {
  quick: QUICK,
  duration: Number(env.DURATION || (QUICK ? 3 : 10)),
  warmupS: QUICK ? 1 : 3,
  conns: Number(env.CONNS || 50),
  rounds: Number(env.ROUNDS || (QUICK ? 1 : 3)),
  streamTrials: Number(env.STREAM_TRIALS || (QUICK ? 1 : 3)),
  streamMB: Number(env.STREAM_MB || 100),
  slowRate: env.SLOW_RATE || '50M',
  slowSinkMbps: Number(env.SLOW_SINK_MBPS || 50),
  bigUploadMB: Number(env.BIG_UPLOAD_MB ?? (QUICK && env.FULL !== '1' ? 256 : 1024)),
  noisePct: Number(env.NOISE_PCT || 25),
  noiseRetries: Number(env.NOISE_RETRIES || 15),
  budgetS: 60 * Number(env.MAX_MINUTES || (QUICK ? 3 : 15)),
  basePort: Number(env.BASE_PORT || 4300),
  setups: env.SETUPS ? env.SETUPS.split(',') : SETUPS.map((s) => s.id),
  skip: (env.SKIP || '').split(',').filter(Boolean),
  only: env.SECTIONS ? env.SECTIONS.split(',').filter(Boolean) : null,
};
for (const n of [...(cfg.only || []), ...cfg.skip]) {
  if (!SECTIONS.some((s) => s.name === n)) { console.error(`unknown section "${n}" (sections: ${SECTIONS.map((s) => s.name).join(', ')})`); process.exit(1); }
}
const active = SECTIONS.filter((s) => (!cfg.only || cfg.only.includes(s.name)) && !cfg.skip.includes(s.name));
// Sections that drive the proxy setups with wrk/curl (all but those declaring needsServers: false).
const needsServers = active.some((s) => s.needsServers !== false);

mkdirSync(path.join(HERE, 'results'), { recursive: true });
const stamp = new Date().toISOString().replace(/[:.]/g, '-');
const logFile = path.join(HERE, 'results', `run-${stamp}${QUICK ? '-quick' : ''}.log`);
const logLines = [];
const log = (...a) => {
  const line = `[${new Date().toISOString().slice(11, 19)}] ${a.join(' ')}`;
  console.log(line);
  logLines.push(line);
  writeFileSync(logFile, logLines.join('\n') + '\n');
};
const banner = (msg) => log(`\n${'!'.repeat(100)}\n!!! ${msg}\n${'!'.repeat(100)}`);

// ---- shared context handed to the sections ---------------------------------------------------------
const t0 = Date.now();
const results = { startedAt: new Date().toISOString(), config: cfg, skipped: {}, problems: [], clerkNative: null, sections: {} };
const UPSTREAM_PORT = cfg.basePort;
const UPSTREAM = `http://127.0.0.1:${UPSTREAM_PORT}`;
const portOf = (id) => (id === 'direct' ? UPSTREAM_PORT : cfg.basePort + 1 + SETUPS.findIndex((s) => s.id === id));
let retriesLeft = cfg.noiseRetries;

const ctx = {
  cfg,
  log,
  allSetups: SETUPS,
  setups: SETUPS.filter((s) => cfg.setups.includes(s.id)),
  reserveS: 0, // planned time of the sections still to come (set before each section)
  setup: (id) => SETUPS.find((s) => s.id === id),
  label: (id) => SETUPS.find((s) => s.id === id)?.label ?? id, // non-setup ids (e.g. 'jwt') label as themselves
  url: (id, p) => (id === 'direct' ? `${UPSTREAM}${p}` : `http://127.0.0.1:${portOf(id)}/__clerk${p}`),
  startUpstream: () => startServer(process.execPath, [path.join(HERE, 'upstream.mjs'), String(UPSTREAM_PORT)], UPSTREAM_PORT),
  upstreamStats: () => getJson(`${UPSTREAM}/__bench/stats`),
  startSetup: (id) => startServer(process.execPath, [path.join(HERE, 'server.mjs'), id, String(portOf(id)), UPSTREAM], portOf(id)),
  // A setup that cannot run (does not start, fails the sanity check) is left out of the rest of the run.
  drop(id, reason) {
    ctx.setups = ctx.setups.filter((s) => s.id !== id);
    results.skipped[id] = reason;
    banner(`skipping "${ctx.label(id)}": ${reason}`);
  },
  // Misbehaviour worth reporting (errors under load, crashes, failed transfers); listed in RESULTS.md.
  problem(id, msg) {
    results.problems.push({ setup: id, msg });
    log(`  PROBLEM ${id}: ${msg}`);
  },
  // May a noisy run be repeated? Only while repeats are left and the time budget covers everything planned.
  mayRepeat(plannedLeftS) {
    const elapsedS = (Date.now() - t0) / 1000;
    if (retriesLeft <= 0 || elapsedS + plannedLeftS + ctx.reserveS + cfg.duration > cfg.budgetS) return false;
    retriesLeft--;
    return true;
  },
};

// ---- preflight ---------------------------------------------------------------------------------------
log('config', JSON.stringify(cfg));
for (const s of [...ctx.setups]) {
  const port = portOf(s.id);
  if (needsServers && !(await portFree(port))) { console.error(`port ${port} (for ${s.id}) is in use; set BASE_PORT`); process.exit(1); }
  if (!s.preflight) continue;
  const p = await s.preflight();
  if (!p.ok) { ctx.drop(s.id, p.reason); continue; }
  results.clerkNative = p.info;
  log(`clerk-native: ${p.info.entry} loads ${p.info.node} (${p.info.sizeMB} MB, built ${p.info.mtime}): ${p.info.build} build`);
  if (!p.info.build.startsWith('release')) {
    banner(`clerk-native is NOT a release build (${p.info.build}): ~5x slower per call. Run \`npm run build\` in the repo root.`);
  }
}
if (needsServers) {
  const wrkCheck = await run('wrk', ['--version']);
  if (wrkCheck.code === 127 || !/wrk/.test(wrkCheck.stdout + wrkCheck.stderr)) {
    console.error('wrk is missing: apt-get update && apt-get install -y wrk');
    process.exit(1);
  }
  results.wrkVersion = (wrkCheck.stdout + wrkCheck.stderr).split('\n')[0].split(' Copyright')[0];
}

// ---- run the sections --------------------------------------------------------------------------------
log(`sections: ${active.map((s) => s.name).join(', ')}`);
for (let i = 0; i < active.length; i++) {
  const sec = active[i];
  ctx.reserveS = active.slice(i + 1).reduce((a, s) => a + s.estimateS(ctx), 0);
  log(`== section ${sec.name} (planned ~${Math.round(sec.estimateS(ctx))} s)`);
  results.sections[sec.name] = await sec.run(ctx);
}
results.finishedAt = new Date().toISOString();

// ---- report ------------------------------------------------------------------------------------------
const version = (p) => { try { return JSON.parse(readFileSync(path.join(HERE, 'node_modules', p, 'package.json'), 'utf8')).version; } catch { return 'n/a'; } };
const rootVersion = (() => { try { return JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')).version; } catch { return 'n/a'; } })();

function warnings() {
  let md = '';
  const cn = results.clerkNative;
  if (cn && !cn.build.startsWith('release')) md += `> **WARNING: clerk-native was not a release build** (${cn.build}; ${cn.node}). Debug builds are ~5x slower per call: clerk-native's numbers are not meaningful. Run \`npm run build\` in the repo root.\n\n`;
  for (const [id, reason] of Object.entries(results.skipped)) md += `> **Skipped: ${ctx.label(id)}**: ${reason.split('\n')[0].slice(0, 600)}\n\n`;
  return md;
}
function problems() {
  if (!results.problems.length) return `## Problems seen\n\nNone: no errors, crashes or failed transfers in any setup.\n`;
  let md = `## Problems seen\n\n`;
  for (const p of results.problems) md += `- **${ctx.label(p.setup)}**: ${p.msg.replace(/\n/g, ' ').slice(0, 1200)}\n`;
  return md;
}

const body = active.map((s) => s.report(ctx, results.sections[s.name])).join('\n') + '\n' + problems();
const cpu = os.cpus();
let md = `# clerk-native benchmark${QUICK ? ' (QUICK smoke run: numbers not meaningful)' : ''}\n\n`;
md += `Generated by \`node benchmark/run.mjs\`${QUICK ? ' with QUICK=1' : ' (`npm run bench`)'}, started ${results.startedAt}, finished ${results.finishedAt}. Raw data: \`benchmark/results/\` (git-ignored).\n\n`;
md += warnings();
md += `## Setup\n\n`;
md += `- ${cpu.length} vCPU (${cpu[0]?.model}), ${fmt(os.totalmem() / 2 ** 30, 1)} GiB RAM, Linux ${os.release()}. The machine is shared: "other CPU %" is CPU used by processes outside the benchmark during a run (100 = one core); a wrk run with more than ${cfg.noisePct}% is repeated (at most 3 times per run and ${cfg.noiseRetries} in all, and only within a ${cfg.budgetS / 60} min budget; the kept run's "other CPU %" is shown). Ratios within one run are what count.\n`;
md += `- Node ${process.version}; clerk-native ${rootVersion}${results.clerkNative ? ` (\`${path.relative(ROOT, results.clerkNative.node)}\`, ${results.clerkNative.build} build, ${results.clerkNative.sizeMB} MB, built ${results.clerkNative.mtime})` : ' (not loaded)'}; ${['express', '@clerk/express', '@clerk/backend', 'http-proxy-middleware', 'jose', 'jsonwebtoken'].map((p) => `${p} ${version(p)}`).join(', ')}${results.wrkVersion ? `; ${results.wrkVersion}; curl` : ''}.\n`;
if (needsServers) md += `- Upstream: a Node http server standing in for the Frontend API (\`upstream.mjs\`); every setup serves \`/__clerk/*\` and forwards it to \`/*\` upstream; all on 127.0.0.1, no CPU pinning. clerk-native gets \`fapiUrl\`; @clerk/express gets \`CLERK_FAPI_URL\` (its \`clerkMiddleware\` passes no \`fapiUrl\`); dummy \`pk_test_\`/\`sk_test_\` keys (proxied requests never reach authentication).\n`;
if (cfg.only) md += `- Sections run: ${active.map((s) => s.name).join(', ')} (SECTIONS=${env.SECTIONS}).\n`;
if (needsServers) md += `- Config: ${JSON.stringify({ duration: cfg.duration, conns: cfg.conns, rounds: cfg.rounds, streamTrials: cfg.streamTrials, streamMB: cfg.streamMB, bigUploadMB: cfg.bigUploadMB })}.\n`;
md += '\n' + body;

// A SECTIONS= subset never overwrites the full report.
const subset = cfg.only ? `-${active.map((s) => s.name).join('-')}` : '';
const outMd = env.RESULTS_MD || path.join(HERE, subset ? `results/RESULTS${subset}${QUICK ? '-quick' : ''}.md` : QUICK ? 'results/RESULTS-quick.md' : 'RESULTS.md');
writeFileSync(outMd, md);
const outJson = path.join(HERE, 'results', `results-${stamp}${subset}${QUICK ? '-quick' : ''}.json`);
writeFileSync(outJson, JSON.stringify(results, null, 1));

console.log('\n' + warnings() + body);
const cn = results.clerkNative;
if (cn && !cn.build.startsWith('release')) banner(`clerk-native was not a release build (${cn.build}): its numbers are not meaningful`);
for (const [id, reason] of Object.entries(results.skipped)) log(`skipped ${id}: ${reason.split('\n')[0].slice(0, 300)}`);
log(`wrote ${path.relative(process.cwd(), outMd)} and ${path.relative(process.cwd(), outJson)} in ${fmt((Date.now() - t0) / 60000, 1)} min`);
const failed = active.filter((s) => results.sections[s.name]?.failed);
if (failed.length) banner(`section(s) FAILED: ${failed.map((s) => `${s.name}: ${String(results.sections[s.name].failed).slice(0, 300)}`).join('; ')}`);
process.exit(failed.length ? 1 : 0);
