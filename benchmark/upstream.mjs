// Upstream stand-in for Clerk's Frontend API (plain http on 127.0.0.1). Usage: node upstream.mjs <port>
//   GET  /big?mb=N        -> streams N MiB (default 100) of bytes, with content-length
//   POST /sink            -> consumes the body, answers {"bytes":N}; /sink?mbps=N reads at N MiB/s
//   POST|PUT|PATCH /*     -> echoes the request body back (same content-type)
//   GET  /*               -> ~1 KB JSON body (shaped like a FAPI /v1/client answer)
//   GET  /__bench/stats   -> {"requests":N,"last":{method,url,headers}} (not counted): lets run.mjs check that
//                            a setup really reached the upstream, with the /__clerk prefix stripped
import http from 'node:http';
import { small } from './payload.mjs';

const port = Number(process.argv[2] || 4300);
const chunk = Buffer.alloc(64 * 1024, 0x61);
let requests = 0;
let last = null;

const server = http.createServer((req, res) => {
  const url = req.url || '/';
  if (url === '/__bench/stats') {
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ requests, last }));
    return;
  }
  requests++;
  last = { method: req.method, url, headers: req.headers };

  if (req.method === 'GET' && url.startsWith('/big')) {
    const mb = Number(new URL(url, 'http://x').searchParams.get('mb') || 100);
    let left = mb * 1024 * 1024;
    res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': String(left) });
    const pump = () => {
      while (left > 0) {
        const n = Math.min(left, chunk.length);
        left -= n;
        if (!res.write(n === chunk.length ? chunk : chunk.subarray(0, n))) { res.once('drain', pump); return; }
      }
      res.end();
    };
    pump();
    return;
  }
  if (req.method === 'POST' && url.startsWith('/sink')) {
    // /sink?mbps=N reads at most N MiB/s (a slow upstream: tests the proxy's upload back-pressure)
    const mbps = Number(new URL(url, 'http://x').searchParams.get('mbps') || 0);
    const t0 = Date.now();
    let bytes = 0;
    req.on('data', (d) => {
      bytes += d.length;
      if (mbps > 0) {
        const aheadMs = (bytes / (mbps * 1048576)) * 1000 - (Date.now() - t0);
        if (aheadMs > 5) { req.pause(); setTimeout(() => req.resume(), aheadMs); }
      }
    });
    req.on('end', () => {
      const body = JSON.stringify({ bytes });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
    });
    return;
  }
  if (req.method === 'POST' || req.method === 'PUT' || req.method === 'PATCH') {
    res.writeHead(200, { 'content-type': req.headers['content-type'] || 'application/octet-stream' });
    req.pipe(res);
    return;
  }
  res.writeHead(200, {
    'content-type': 'application/json',
    'content-length': small.length,
    'cache-control': 'no-store',
    'x-clerk-trace-id': 'upstream-standin',
  });
  res.end(small);
});
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`upstream listening ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
