// Section "http": request throughput through each setup with wrk (GET ~1 KB JSON, POST ~500 B form echoed),
// one long-lived server per setup, rounds alternating the setup order, noisy runs repeated.
import path from 'node:path';
import { run, curl, median, fmt, MB, range, mdTable, procMem, procCpuTicks, machineBusyTicks, TICK } from '../lib.mjs';
import { HERE, REF_CLERK, REF_HPM } from '../setups.mjs';

export const GET_PATH = '/v1/client?_clerk_js_version=5.0.0';
export const POST_PATH = '/v1/client/sign_ins?_clerk_js_version=5.0.0';
const SCENARIOS = ['GET', 'POST'];

export default {
  name: 'http',
  // Planned wall time, used by run.mjs to budget noise repeats.
  estimateS: (ctx) => {
    const n = ctx.setups.length;
    return n * SCENARIOS.length * ctx.cfg.rounds * (ctx.cfg.duration + 1) + n * (ctx.cfg.warmupS + 3) + 10;
  },
  run: runSection,
  report,
};

// ---- wrk -------------------------------------------------------------------------------------------
const toMs = (v, unit) => Number(v) * ({ us: 0.001, ms: 1, s: 1000, m: 60000 }[unit] ?? NaN);
function parseWrk(out) {
  const num = (re) => { const m = out.match(re); return m ? Number(m[1]) : 0; };
  const lat = (p) => { const m = out.match(new RegExp(`\\s${p}%\\s+([\\d.]+)(us|ms|s|m)\\b`)); return m ? toMs(m[1], m[2]) : NaN; };
  const se = out.match(/Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)/);
  return {
    rps: num(/Requests\/sec:\s+([\d.]+)/),
    requests: num(/(\d+) requests in/),
    p50: lat(50), p99: lat(99),
    non2xx: num(/Non-2xx or 3xx responses: (\d+)/),
    socketErrors: se ? se.slice(1).map(Number).reduce((a, b) => a + b, 0) : 0,
    socketErrorDetail: se ? se[0] : '',
  };
}
// bash `times` prints the children's user and sys time on its 2nd line: wrk's own CPU.
function childCpuS(out) {
  const lines = out.trim().split('\n').filter((l) => /^\d+m[\d.]+s \d+m[\d.]+s$/.test(l.trim()));
  const last = lines[lines.length - 1];
  if (!last) return NaN;
  return last.trim().split(' ').map((t) => { const m = t.match(/(\d+)m([\d.]+)s/); return Number(m[1]) * 60 + Number(m[2]); }).reduce((a, b) => a + b, 0);
}
async function wrk(ctx, id, scenario, seconds) {
  const url = ctx.url(id, scenario === 'POST' ? POST_PATH : GET_PATH);
  const script = scenario === 'POST' ? `-s '${path.join(HERE, 'wrk-post.lua')}' ` : '';
  const r = await run('bash', ['-c', `wrk -t1 -c${ctx.cfg.conns} -d${seconds}s --timeout 10s --latency ${script}'${url}'; times`]);
  if (!/Requests\/sec/.test(r.stdout)) ctx.log(`  wrk failed: ${(r.stdout + r.stderr).slice(0, 500)}`);
  return { ...parseWrk(r.stdout), wrkCpuS: childCpuS(r.stdout) };
}

// ---- checks ----------------------------------------------------------------------------------------
// A setup must answer 200 with the upstream's body and (if it proxies) reach the upstream; otherwise it is
// dropped from the run (returns the reason). Softer mismatches (request count, path with /__clerk not stripped)
// are reported as problems. Also logs which headers the upstream received, for comparing setups.
export async function sanity(ctx, id, data) {
  const setup = ctx.setup(id);
  const checks = [
    { name: 'GET', path: GET_PATH, args: ['-o', '-', '-w', '\n%{http_code}'], want: (code, body) => code === '200' && body.length === 1024 && body.startsWith('{"response"') },
    { name: 'POST', path: POST_PATH, args: ['-X', 'POST', '-d', 'a=1&b=2', '-w', '\n%{http_code}'], want: (code, body) => code === '200' && body === 'a=1&b=2' },
  ];
  for (const c of checks) {
    const before = await ctx.upstreamStats();
    const r = await curl([...c.args, '--max-time', '10', ctx.url(id, c.path)]);
    const after = await ctx.upstreamStats();
    const i = r.stdout.lastIndexOf('\n');
    const body = r.stdout.slice(0, i);
    const code = r.stdout.slice(i + 1);
    if (!c.want(code, body)) return `${c.name} /__clerk${c.path}: HTTP ${code || '(none)'} ${r.stderr.trim()} body ${JSON.stringify(body.slice(0, 300))}`;
    const hits = after.requests - before.requests;
    const expectHits = setup.proxies || id === 'direct' ? 1 : 0;
    if (expectHits && !hits) return `${c.name}: answered 200 but the upstream saw no request`;
    if (hits !== expectHits) ctx.problem(id, `sanity ${c.name}: upstream saw ${hits} requests for one call, expected ${expectHits}`);
    if (expectHits && after.last.url !== c.path) ctx.problem(id, `sanity ${c.name}: upstream saw ${after.last.method} ${after.last.url}, expected ${c.path}`);
    if (expectHits) {
      data.upstreamHeaders[`${id} ${c.name}`] = after.last.headers;
      ctx.log(`  ${id} ${c.name}: upstream got ${after.last.method} ${after.last.url} with headers: ${Object.keys(after.last.headers).join(', ')}`);
    }
  }
  return null;
}

// ---- one measurement -------------------------------------------------------------------------------
async function measure(ctx, id, scenario, round, up, srv) {
  const pid = id === 'direct' ? up.pid : srv.pid;
  const m0 = machineBusyTicks();
  const p0 = procCpuTicks(pid);
  const u0 = procCpuTicks(up.pid);
  const s0 = await ctx.upstreamStats();
  const t0 = Date.now();
  const r = await wrk(ctx, id, scenario, ctx.cfg.duration);
  const wallS = (Date.now() - t0) / 1000;
  const proxyCpuS = (procCpuTicks(pid) - p0) / TICK;
  const upstreamCpuS = id === 'direct' ? 0 : (procCpuTicks(up.pid) - u0) / TICK;
  const machineCpuS = (machineBusyTicks() - m0) / TICK;
  const s1 = await ctx.upstreamStats();
  const mem = procMem(pid);
  const rec = {
    setup: id, scenario, round, ...r, wallS,
    proxyCpuPct: (100 * proxyCpuS) / ctx.cfg.duration,
    reqPerProxyCpuS: r.requests / proxyCpuS,
    upstreamRequests: s1.requests - s0.requests,
    // CPU used by processes outside the benchmark (other sessions, builds) during the run
    otherCpuPct: (100 * (machineCpuS - proxyCpuS - upstreamCpuS - (r.wrkCpuS || 0))) / wallS,
    rssKB: mem.rssKB, hwmKB: mem.hwmKB,
  };
  const errs = rec.non2xx + rec.socketErrors;
  ctx.log(`${scenario} r${round} ${id}: ${fmt(rec.rps)} req/s p50 ${fmt(rec.p50, 2)} ms p99 ${fmt(rec.p99, 2)} ms cpu ${fmt(rec.proxyCpuPct)}% other ${fmt(rec.otherCpuPct)}% rss ${MB(mem.rssKB)} MB upstream saw ${rec.upstreamRequests} errors ${errs}${rec.socketErrorDetail && rec.socketErrors ? ` (${rec.socketErrorDetail})` : ''}`);
  if (errs || (id !== 'direct' && !srv.alive())) {
    // What do the failures look like? One probe each way, plus anything new on the server's stderr.
    const g = await curl(['-o', '-', '-w', '\n%{http_code}', '--max-time', '10', ctx.url(id, GET_PATH)]);
    const p = await curl(['-X', 'POST', '-d', 'a=1', '-w', '\n%{http_code}', '--max-time', '10', ctx.url(id, POST_PATH)]);
    rec.probe = { get: (g.stdout + g.stderr).slice(-300), post: (p.stdout + p.stderr).slice(-300) };
    ctx.problem(id, `${scenario} round ${round}: ${rec.non2xx} non-2xx, ${rec.socketErrors} socket errors ${rec.socketErrorDetail}; probe now: GET -> ${JSON.stringify(rec.probe.get.slice(-120))}, POST -> ${JSON.stringify(rec.probe.post.slice(-120))}`);
  }
  return rec;
}

// ---- section ---------------------------------------------------------------------------------------
async function runSection(ctx) {
  const cfg = ctx.cfg;
  const data = { runs: [], rssStartKB: {}, upstreamHeaders: {} };
  const up = await ctx.startUpstream();
  const servers = {};
  for (const s of [...ctx.setups]) {
    if (s.id === 'direct') continue;
    try { servers[s.id] = await ctx.startSetup(s.id); } catch (e) { ctx.drop(s.id, `did not start: ${e.message}`); }
  }
  for (const s of [...ctx.setups]) {
    const bad = await sanity(ctx, s.id, data);
    if (bad) { ctx.drop(s.id, `sanity check failed: ${bad}`); await servers[s.id]?.stop(); delete servers[s.id]; }
  }
  ctx.log(`sanity ok for: ${ctx.setups.map((s) => s.id).join(', ')}; warming up`);
  for (const s of ctx.setups) {
    await wrk(ctx, s.id, 'GET', cfg.warmupS);
    await wrk(ctx, s.id, 'POST', 1);
    data.rssStartKB[s.id] = procMem(s.id === 'direct' ? up.pid : servers[s.id].pid).rssKB;
  }

  const ids = ctx.setups.map((s) => s.id);
  const planned = ids.length * SCENARIOS.length * cfg.rounds;
  let done = 0;
  for (let round = 1; round <= cfg.rounds; round++) {
    const order = round % 2 ? ids : [...ids].reverse();
    for (const scenario of SCENARIOS) {
      for (const id of order) {
        if (id !== 'direct' && !servers[id].alive()) {
          ctx.problem(id, `server process died (${servers[id].exitInfo()}); stderr tail: ${servers[id].stderr().slice(-1500)}`);
          servers[id] = await ctx.startSetup(id);
        }
        for (let repeats = 0; ; repeats++) {
          const rec = await measure(ctx, id, scenario, round, up, servers[id]);
          data.runs.push(rec);
          // Repeat a noisy run (at most 3 times) if the time budget still allows it after everything planned.
          const leftS = (planned - done) * (cfg.duration + 1);
          if (!(rec.otherCpuPct > cfg.noisePct) || repeats >= 3 || !ctx.mayRepeat(leftS)) break;
          rec.discarded = true;
          ctx.log(`  noisy (other processes used ${Math.round(rec.otherCpuPct)}% CPU), repeating`);
        }
        done++;
      }
    }
  }
  for (const [id, srv] of Object.entries(servers)) {
    if (!srv.alive()) ctx.problem(id, `server process died (${srv.exitInfo()}); stderr tail: ${srv.stderr().slice(-1500)}`);
    else if (srv.stderr().trim()) data[`stderr:${id}`] = srv.stderr().slice(-3000);
    await srv.stop();
  }
  await up.stop();
  return data;
}

// ---- report ----------------------------------------------------------------------------------------
function table(ctx, data, scenario) {
  const rows = data.runs.filter((r) => r.scenario === scenario && !r.discarded);
  const by = (id) => rows.filter((r) => r.setup === id);
  const med = (id, f) => median(by(id).map((r) => r[f]));
  const refClerk = med(REF_CLERK, 'rps');
  const refHpm = med(REF_HPM, 'rps');
  const ms = (x) => fmt(x, x < 10 ? 2 : 1);
  const out = [];
  for (const s of ctx.allSetups) {
    const rs = by(s.id);
    if (!rs.length) continue;
    const rps = med(s.id, 'rps');
    const reached = s.proxies ? `${fmt((100 * rs.reduce((a, r) => a + r.upstreamRequests, 0)) / rs.reduce((a, r) => a + r.requests, 0))}%` : '–';
    out.push([
      s.label,
      `${fmt(rps)} (${range(rs.map((r) => r.rps))})`,
      fmt(rps / refClerk, 2), fmt(rps / refHpm, 2),
      ms(med(s.id, 'p50')), ms(med(s.id, 'p99')),
      fmt(med(s.id, 'proxyCpuPct')), fmt(med(s.id, 'reqPerProxyCpuS')),
      `${MB(data.rssStartKB[s.id])} → ${MB(rs[rs.length - 1].rssKB)}`, MB(Math.max(...rs.map((r) => r.hwmKB))),
      reached, fmt(med(s.id, 'otherCpuPct')), rs.reduce((a, r) => a + r.non2xx + r.socketErrors, 0),
    ]);
  }
  return mdTable(['setup', 'req/s median (range)', '× @clerk/express', '× hpm keep-alive', 'p50 ms', 'p99 ms', 'proxy CPU %', 'req per proxy CPU-s', 'RSS start → end MB', 'peak RSS MB', 'reached upstream', 'other CPU %', 'errors'], out);
}

function report(ctx, data) {
  const c = ctx.cfg;
  const repeated = data.runs.filter((r) => r.discarded).length;
  let md = `## HTTP proxying (wrk, ${c.conns} connections, 1 thread, ${c.duration} s × ${c.rounds} round${c.rounds > 1 ? 's' : ''}, order alternating)\n\n`;
  md += `Noisy runs repeated: ${repeated}. "proxy CPU %" is the server process (all threads; for "upstream alone" the upstream process), 100% = one core. "RSS start → end": after warm-up → after the last run. "reached upstream" = requests the upstream counted / requests wrk completed (≈100% for a real proxy). "errors" = non-2xx + socket errors.\n\n`;
  md += `### GET /__clerk${GET_PATH} (~1 KB JSON)\n\n${table(ctx, data, 'GET')}\n`;
  md += `### POST /__clerk${POST_PATH} (~500 B form body, echoed)\n\n${table(ctx, data, 'POST')}\n`;
  return md;
}
