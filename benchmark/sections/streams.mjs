// Section "streams": large bodies through each setup with curl, a fresh server process per transfer.
//   download / upload of STREAM_MB (100 MB), each also with a slow side (client reading at SLOW_RATE, upstream
//   reading at SLOW_SINK_MBPS) to test back-pressure; one BIG_UPLOAD_MB (1 GiB) chunked upload; one upload with
//   curl's default `Expect: 100-continue`.
// Peak RSS growth = VmHWM after the transfer minus VmRSS before it; VmHWM is reset just before the transfer
// (echo 5 > /proc/PID/clear_refs), so start-up peaks do not count.
import { existsSync, writeFileSync, unlinkSync, statSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { run, curl, median, fmt, MB, mdTable, procMem, procCpuTicks, TICK } from '../lib.mjs';
import { GET_PATH } from './http.mjs';

const TESTS = ['download', 'download-slow', 'upload', 'upload-slow-upstream'];

export default {
  name: 'streams',
  estimateS: (ctx) => {
    const n = ctx.setups.length;
    return n * (TESTS.length * ctx.cfg.streamTrials * 3.5 + 6 + ctx.cfg.bigUploadMB / 200);
  },
  run: runSection,
  report,
};

// curl -w '\n%{http_code} %{size_upload|size_download} %{time_total}'; for uploads the body before that line is the
// upstream's {"bytes":N}, i.e. what really arrived upstream.
function parseCurl(out) {
  const lines = out.trim().split('\n');
  const [code, size, secs] = (lines.pop() || '').trim().split(' ');
  const body = lines.join('\n');
  let bytes = Number(size);
  if (body) { try { bytes = JSON.parse(body).bytes ?? NaN; } catch { bytes = NaN; } }
  return { code: Number(code), bytes, seconds: Number(secs), body: body.slice(0, 300) };
}

// Start a fresh server for `id` (none for 'direct'), warm it up, reset its peak RSS; returns a probe object.
async function fresh(ctx, id) {
  const srv = id === 'direct' ? null : await ctx.startSetup(id);
  const warm = [];
  for (let i = 0; i < 20; i++) warm.push('-o', '/dev/null', ctx.url(id, GET_PATH));
  await curl(warm);
  let hwmReset = false;
  if (srv) { try { writeFileSync(`/proc/${srv.pid}/clear_refs`, '5'); hwmReset = true; } catch {} }
  const base = srv ? procMem(srv.pid).rssKB : NaN;
  const cpu0 = srv ? procCpuTicks(srv.pid) : NaN;
  return {
    srv,
    async finish(what) {
      if (!srv) return { baseRssKB: NaN, peakRssKB: NaN, endRssKB: NaN, growthKB: NaN, cpuS: NaN };
      const mem = procMem(srv.pid);
      const cpuS = (procCpuTicks(srv.pid) - cpu0) / TICK;
      if (!srv.alive()) ctx.problem(id, `${what}: server process died (${srv.exitInfo()}); stderr tail: ${srv.stderr().slice(-1500)}`);
      await srv.stop();
      return { baseRssKB: base, peakRssKB: mem.hwmKB, endRssKB: mem.rssKB, growthKB: mem.hwmKB - base, cpuS, hwmReset };
    },
  };
}

async function runSection(ctx) {
  const cfg = ctx.cfg;
  const data = { transfers: [], big: [], expect: [] };
  const file = path.join(existsSync('/dev/shm') ? '/dev/shm' : os.tmpdir(), `clerk-native-bench-${cfg.streamMB}mb.bin`);
  const size = cfg.streamMB * 1048576;
  if (!existsSync(file) || statSync(file).size !== size) writeFileSync(file, Buffer.alloc(size, 0x62));
  const up = await ctx.startUpstream();
  const max = ['--max-time', '300'];
  const args = {
    download: (id) => ['-o', '/dev/null', '-w', '\n%{http_code} %{size_download} %{time_total}', ...max, ctx.url(id, `/big?mb=${cfg.streamMB}`)],
    'download-slow': (id) => ['--limit-rate', cfg.slowRate, ...args.download(id)],
    // -H 'Expect:' drops curl's automatic "Expect: 100-continue" (that case has its own table)
    upload: (id, q = '') => ['-X', 'POST', '-H', 'Expect:', '-H', 'content-type: application/octet-stream', '-T', file, '-w', '\n%{http_code} %{size_upload} %{time_total}', ...max, ctx.url(id, `/sink${q}`)],
    'upload-slow-upstream': (id) => args.upload(id, `?mbps=${cfg.slowSinkMbps}`),
  };

  const ids = () => ctx.setups.filter((s) => s.id !== 'express-only').map((s) => s.id);
  for (let t = 1; t <= cfg.streamTrials; t++) {
    for (const test of TESTS) {
      for (const id of t % 2 ? ids() : ids().reverse()) {
        const f = await fresh(ctx, id);
        const r = parseCurl((await curl(args[test](id))).stdout);
        const m = await f.finish(`${test} trial ${t}`);
        const rec = { test, setup: id, trial: t, ...r, ...m, ok: r.code === 200 && r.bytes === size };
        data.transfers.push(rec);
        ctx.log(`${test} t${t} ${id}: HTTP ${r.code} ${fmt(r.bytes)} B in ${fmt(r.seconds, 2)} s; RSS before ${MB(m.baseRssKB)} MB, peak growth ${MB(m.growthKB)} MB, cpu ${fmt(m.cpuS, 2)} s`);
        if (!rec.ok) ctx.problem(id, `${test} trial ${t}: HTTP ${r.code}, ${r.bytes} of ${size} bytes arrived; body ${JSON.stringify(r.body)}`);
      }
    }
  }

  // One big chunked upload per setup (stdin -> curl, so no content-length).
  if (cfg.bigUploadMB > 0) {
    const bigSize = cfg.bigUploadMB * 1048576;
    for (const id of ids()) {
      const f = await fresh(ctx, id);
      const out = await run('bash', ['-c', `head -c ${bigSize} /dev/zero | curl -s -S -X POST -H 'Expect:' -H 'content-type: application/octet-stream' -T - --max-time 600 -w '\\n%{http_code} %{size_upload} %{time_total}' '${ctx.url(id, '/sink')}'`]);
      const r = parseCurl(out.stdout);
      const m = await f.finish(`${cfg.bigUploadMB} MiB chunked upload`);
      const rec = { setup: id, mb: cfg.bigUploadMB, ...r, ...m, ok: r.code === 200 && r.bytes === bigSize };
      data.big.push(rec);
      ctx.log(`chunked upload ${cfg.bigUploadMB} MiB ${id}: HTTP ${r.code} ${fmt(r.bytes)} B in ${fmt(r.seconds, 2)} s; RSS before ${MB(m.baseRssKB)} MB, peak growth ${MB(m.growthKB)} MB, after ${MB(m.endRssKB)} MB`);
      if (!rec.ok) ctx.problem(id, `${cfg.bigUploadMB} MiB chunked upload: HTTP ${r.code}, ${r.bytes} of ${bigSize} bytes arrived; ${out.stderr.trim().slice(0, 200)} body ${JSON.stringify(r.body)}`);
    }
  }

  // Upload with curl's default "Expect: 100-continue" (curl adds it to bodies over 1 MB).
  for (const id of ids()) {
    const f = await fresh(ctx, id);
    const out = await curl(['-v', '-X', 'POST', '-H', 'content-type: application/octet-stream', '-T', file, '-w', '\n%{http_code} %{size_upload} %{time_total}', ...max, ctx.url(id, '/sink')]);
    const r = parseCurl(out.stdout);
    const m = await f.finish('Expect: 100-continue upload');
    const rec = { setup: id, ...r, got100: /^< HTTP\/1\.1 100/m.test(out.stderr), ...m, ok: r.code === 200 && r.bytes === size };
    data.expect.push(rec);
    ctx.log(`Expect: 100-continue upload ${id}: HTTP ${r.code} in ${fmt(r.seconds, 2)} s, 100 Continue ${rec.got100 ? 'received' : 'NOT received'}, upstream got ${fmt(r.bytes)} B; ${r.body.slice(0, 120)}`);
    if (!rec.ok) ctx.problem(id, `Expect: 100-continue upload: HTTP ${r.code}, upstream got ${r.bytes} of ${size} bytes; body ${JSON.stringify(r.body)}`);
  }
  await up.stop();
  try { unlinkSync(file); } catch {}
  return data;
}

function report(ctx, data) {
  const c = ctx.cfg;
  const direct = (id) => id === 'direct';
  let md = `## Streaming (curl; fresh server process per transfer; median of ${c.streamTrials})\n\n`;
  md += `${c.streamMB} MB each way. "-slow": the client reads at ${c.slowRate}B/s, or the upstream reads at ${c.slowSinkMbps} MiB/s (back-pressure). Uploads here are sent without \`Expect: 100-continue\`. Peak RSS growth = VmHWM − VmRSS before the transfer (VmHWM reset after 20 warm-up GETs), max over trials.\n\n`;
  const rows = [];
  for (const s of ctx.allSetups) {
    const rs = data.transfers.filter((r) => r.setup === s.id);
    if (!rs.length) continue;
    const sec = (t) => fmt(median(rs.filter((r) => r.test === t).map((r) => r.seconds)), 2);
    const grow = (t) => (direct(s.id) ? '–' : MB(Math.max(...rs.filter((r) => r.test === t).map((r) => r.growthKB))));
    const cpu = (t) => fmt(median(rs.filter((r) => r.test === t).map((r) => r.cpuS)), 2);
    rows.push([s.label, ...TESTS.map(sec), ...TESTS.map(grow), direct(s.id) ? '–' : MB(median(rs.map((r) => r.baseRssKB))),
      direct(s.id) ? '–' : `${cpu('download')} / ${cpu('upload')}`, rs.every((r) => r.ok) ? 'yes' : `**NO** (${rs.filter((r) => !r.ok).length} failed)`]);
  }
  const head = ['setup', ...TESTS.map((t) => `${t} s`), ...TESTS.map((t) => `${t} peak RSS growth MB`), 'RSS before MB', 'proxy CPU s (download / upload)', 'all OK'];
  md += mdTable(head, rows, head.map((_, i) => (i === 0 || i === head.length - 1 ? 'l' : 'r')));
  if (data.big.length) {
    md += `\n### One ${c.bigUploadMB} MiB chunked upload (\`head -c | curl -T -\`, no content-length)\n\n`;
    md += mdTable(['setup', 'seconds', 'RSS before MB', 'peak RSS growth MB', 'RSS after MB', 'OK'],
      data.big.map((r) => [ctx.label(r.setup), fmt(r.seconds, 2), ...(direct(r.setup) ? ['–', '–', '–'] : [MB(r.baseRssKB), MB(r.growthKB), MB(r.endRssKB)]), r.ok ? 'yes' : `**NO** (HTTP ${r.code}, ${fmt(r.bytes)} B arrived)`]),
      ['l', 'r', 'r', 'r', 'r', 'l']);
  }
  if (data.expect.length) {
    md += `\n### ${c.streamMB} MB upload with curl's default \`Expect: 100-continue\`\n\n`;
    md += mdTable(['setup', 'HTTP status', 'seconds', '100 Continue seen by curl', 'bytes reached upstream', 'body (truncated)'],
      data.expect.map((r) => [ctx.label(r.setup), r.code, fmt(r.seconds, 2), r.got100 ? 'yes' : 'no', fmt(r.bytes), r.body.slice(0, 150)]),
      ['l', 'r', 'r', 'l', 'r', 'l']);
  }
  return md;
}
