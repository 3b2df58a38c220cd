// Small helpers shared by run.mjs, the sections and soak.mjs.
import { spawn, execFile } from 'node:child_process';
import crypto from 'node:crypto';
import { readFileSync } from 'node:fs';
import net from 'node:net';

/**
 * `crypto.generateKeyPairSync` whose KeyObjects are parsed from its PEM output, never the key-generation job's own.
 * On Node 20, `export({ format: 'jwk' })` of the job's KeyObject can deadlock: the export holds the key's mutex
 * while it allocates, a GC at that moment finalizes the finished job, and the job's destructor takes the same
 * mutex (the soak hung this way in a clean-clone CI run; SECURITY.md, "Soak").
 */
export function generateKeyPair(type, options) {
  const pair = crypto.generateKeyPairSync(type, {
    ...options,
    publicKeyEncoding: { type: 'spki', format: 'pem' },
    privateKeyEncoding: { type: 'pkcs8', format: 'pem' },
  });
  return { privateKey: crypto.createPrivateKey(pair.privateKey), publicKey: crypto.createPublicKey(pair.publicKey) };
}

export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function median(xs) {
  const a = xs.filter(Number.isFinite).sort((x, y) => x - y);
  if (!a.length) return NaN;
  const m = a.length >> 1;
  return a.length % 2 ? a[m] : (a[m - 1] + a[m]) / 2;
}

export function fmt(n, digits = 0) {
  if (!Number.isFinite(n)) return 'n/a';
  return n.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}
export const MB = (kb) => fmt(kb / 1024, 1);
export function range(xs, d = 0) {
  const a = xs.filter(Number.isFinite);
  return a.length > 1 ? `${fmt(Math.min(...a), d)}–${fmt(Math.max(...a), d)}` : fmt(a[0], d);
}
// One markdown table from a header row and body rows (arrays of cells); `align` is 'l' or 'r' per column.
export function mdTable(head, rows, align) {
  const sep = head.map((_, i) => ((align?.[i] ?? (i ? 'r' : 'l')) === 'r' ? '---:' : '---'));
  const line = (cells) => `| ${cells.map((c) => String(c).replace(/\|/g, '\\|').replace(/\n/g, ' ')).join(' | ')} |`;
  return [line(head), `|${sep.join('|')}|`, ...rows.map(line)].join('\n') + '\n';
}

// ---- /proc accounting ----------------------------------------------------------------------------
// {rssKB, hwmKB} (VmRSS, VmHWM = peak RSS) of a process; all threads count, so Rust/tokio threads are included.
export function procMem(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k) => Number((s.match(new RegExp(`^${k}:\\s+(\\d+)`, 'm')) || [])[1]);
    return { rssKB: get('VmRSS'), hwmKB: get('VmHWM') };
  } catch {
    return { rssKB: NaN, hwmKB: NaN };
  }
}
export const TICK = 100; // USER_HZ
// utime + stime of a process (all threads), in ticks.
export function procCpuTicks(pid) {
  try {
    const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
    return Number(f[11]) + Number(f[12]);
  } catch { return NaN; }
}
// Busy ticks of the whole machine (all cores).
export function machineBusyTicks() {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0].trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f;
  return user + nice + system + irq + softirq + steal;
}

// ---- processes -----------------------------------------------------------------------------------
export function portFree(port) {
  return new Promise((resolve) => {
    const s = net.createServer();
    s.once('error', () => resolve(false));
    s.listen(port, '127.0.0.1', () => s.close(() => resolve(true)));
  });
}

export function waitPort(port, child, timeoutMs = 20000) {
  const end = Date.now() + timeoutMs;
  return new Promise((resolve, reject) => {
    const attempt = () => {
      if (child.exitCode !== null || child.signalCode) return reject(new Error(`exited (${child.exitCode ?? child.signalCode}) before listening`));
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => { s.destroy(); resolve(); });
      s.once('error', () => {
        s.destroy();
        if (Date.now() > end) reject(new Error(`port ${port} not ready after ${timeoutMs} ms`));
        else setTimeout(attempt, 50);
      });
    };
    attempt();
  });
}

// Start a long-running child server and wait until it listens. Returns {pid, alive(), exitInfo(), stderr(), stop()}.
export async function startServer(cmd, args, port, env = {}) {
  const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let err = '';
  child.stderr.on('data', (d) => { err += d; if (err.length > 40000) err = err.slice(-20000); });
  child.stdout.on('data', () => {});
  const exitInfo = () => (child.exitCode !== null || child.signalCode ? `exit code ${child.exitCode}, signal ${child.signalCode}` : null);
  try {
    await waitPort(port, child);
  } catch (e) {
    child.kill('SIGKILL');
    throw new Error(`${args.join(' ')}: ${e.message}\n${err.slice(-3000)}`);
  }
  return {
    pid: child.pid,
    alive: () => !exitInfo(),
    exitInfo,
    stderr: () => err,
    stop: () => new Promise((r) => {
      if (!exitInfo()) { child.once('exit', () => r()); child.kill('SIGTERM'); } else r();
    }),
  };
}

// Run a command to completion: {code, stdout, stderr}.
export function run(cmd, args, opts = {}) {
  return new Promise((resolve) => {
    execFile(cmd, args, { maxBuffer: 64 * 1024 * 1024, ...opts }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? 1) : 0, stdout: String(stdout), stderr: String(stderr) });
    });
  });
}
export const curl = (args, opts) => run('curl', ['-s', '-S', ...args], opts);

// JSON GET (for the upstream's /__bench/stats).
export async function getJson(url) {
  const r = await fetch(url);
  return r.json();
}
