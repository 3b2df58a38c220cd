// One server process per setup. Usage: node server.mjs <setup> <port> <upstreamUrl>
// Every setup serves /__clerk/* and (except express-only) forwards it to <upstreamUrl>/* with the prefix
// stripped, which is what Clerk's Frontend API proxy does. The setups (labels live in setups.mjs):
//   express-only   no proxying: Express answers the same 1 KB JSON itself (GET) or echoes the body (POST);
//                  the ceiling for anything mounted in Express
//   hpm-ka         Express + http-proxy-middleware with a keep-alive http.Agent (the fair generic peer;
//                  its default agent:false opens a new upstream connection per request)
//   clerk-express  Express + @clerk/express clerkMiddleware({ frontendApiProxy: { enabled: true } });
//                  upstream chosen with the CLERK_FAPI_URL env var (clerkMiddleware passes no fapiUrl)
//   clerk-native   Express + clerk-native's clerkMiddleware, loaded from the repo root: require('../express')
import http from 'node:http';
import { createRequire } from 'node:module';
import express from 'express';
import { small } from './payload.mjs';
import { PUBLISHABLE_KEY, SECRET_KEY, PROXY_PATH } from './setups.mjs';

const require = createRequire(import.meta.url);
const [setup, portStr, upstream] = process.argv.slice(2);
const port = Number(portStr);
const app = express();

if (setup === 'express-only') {
  app.use(PROXY_PATH, (req, res) => {
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.setHeader('content-type', req.headers['content-type'] || 'application/octet-stream');
      req.pipe(res);
      return;
    }
    res.set({ 'content-type': 'application/json', 'cache-control': 'no-store', 'x-clerk-trace-id': 'upstream-standin' });
    res.end(small);
  });
} else if (setup === 'hpm-ka') {
  const { createProxyMiddleware } = await import('http-proxy-middleware');
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  app.use(PROXY_PATH, createProxyMiddleware({ target: upstream, changeOrigin: true, agent }));
} else if (setup === 'clerk-express') {
  process.env.CLERK_FAPI_URL = upstream; // documented override read by @clerk/backend's clerkFrontendApiProxy
  const { clerkMiddleware } = await import('@clerk/express');
  app.use(clerkMiddleware({ publishableKey: PUBLISHABLE_KEY, secretKey: SECRET_KEY, frontendApiProxy: { enabled: true } }));
} else if (setup === 'clerk-native') {
  const { clerkMiddleware } = require(process.env.CLERK_NATIVE_EXPRESS || '../express');
  app.use(clerkMiddleware({
    publishableKey: PUBLISHABLE_KEY,
    secretKey: SECRET_KEY,
    fapiUrl: upstream,
    frontendApiProxy: { enabled: true },
  }));
} else {
  console.error('unknown setup', setup);
  process.exit(2);
}

const server = http.createServer(app);
server.keepAliveTimeout = 65_000;
server.listen(port, '127.0.0.1', () => process.stdout.write(`${setup} listening ${port}\n`));
process.on('SIGTERM', () => process.exit(0));
