'use strict'
// An Express app that serves Clerk's Frontend API through clerk-native's proxy at /__clerk.
//
//   npm run example                      (PORT env, default 3000; HOST env, default 127.0.0.1)
//
// With CLERK_PUBLISHABLE_KEY and CLERK_SECRET_KEY set, /__clerk/* goes to your real Clerk instance.
// Without them, a stand-in FAPI (./fake-fapi.js) is started on a random local port and the proxy points at it,
// so you can see the proxy work without a Clerk account.
//
// In-process use (tests): const { start } = require('./server'); const s = await start({ port: 0 }); … await s.close()

const express = require('express')
const { clerkMiddleware } = require('../express')
const fakeFapi = require('./fake-fapi')

const PROXY_PATH = '/__clerk'
const DUMMY_PUBLISHABLE_KEY = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k' // decodes to clerk.example.com
const DUMMY_SECRET_KEY = 'sk_test_example'

function curlCommands(base, fake) {
  const p = `${base}${PROXY_PATH}`
  const lines = [
    `curl -i ${p}/v1/environment`,
    `curl -i ${p}/v1/client            # every Set-Cookie header arrives separately`,
  ]
  if (fake) {
    lines.push(
      `curl -i ${p}/v1/oauth/authorize   # 302: the Location pointing at the FAPI host is rewritten to ${PROXY_PATH}`,
      `curl -i -X POST --data 'identifier=jane@example.com' ${p}/v1/client/sign_ins   # body streamed upstream and echoed`,
      `curl -N ${p}/v1/stream            # a slow response, streamed chunk by chunk`,
    )
  }
  return lines
}

/**
 * Starts the example. Resolves to `{ app, server, port, url, mode, fapi, close() }`.
 * `mode` is 'fake' (stand-in FAPI) or 'clerk' (real keys); `fapi` is the stand-in's handle or null.
 * @param {{ port?: number, host?: string, publishableKey?: string, secretKey?: string, fake?: boolean, log?: (line: string) => void }} [opts]
 */
async function start(opts = {}) {
  const host = opts.host || process.env.HOST || '127.0.0.1'
  const port = opts.port !== undefined ? Number(opts.port) : Number(process.env.PORT || 3000)
  const log = opts.log || ((line) => console.log(line))

  let publishableKey = opts.publishableKey || process.env.CLERK_PUBLISHABLE_KEY || ''
  let secretKey = opts.secretKey || process.env.CLERK_SECRET_KEY || ''
  const fake = opts.fake !== undefined ? Boolean(opts.fake) : !publishableKey && !secretKey

  let fapi = null
  const middlewareOptions = { frontendApiProxy: { enabled: true } }
  if (fake) {
    fapi = await fakeFapi.start({ port: 0, host: '127.0.0.1' })
    publishableKey = DUMMY_PUBLISHABLE_KEY
    secretKey = DUMMY_SECRET_KEY
    middlewareOptions.fapiUrl = fapi.url
  }
  // With only one of the two keys set, clerkMiddleware() below throws at once, naming the missing key
  // (err.code 'proxy_configuration_error'), instead of every proxied call answering 500.
  if (publishableKey) middlewareOptions.publishableKey = publishableKey
  if (secretKey) middlewareOptions.secretKey = secretKey

  const app = express()
  app.disable('x-powered-by')
  app.use(clerkMiddleware(middlewareOptions))

  let base = `http://${host}:${port}`
  app.get('/', (req, res) => {
    const text = [
      'clerk-native example: Clerk Frontend API proxy on Express',
      '',
      fake
        ? `Mode: stand-in FAPI at ${fapi.url} (no CLERK_PUBLISHABLE_KEY / CLERK_SECRET_KEY set; nothing here reaches Clerk)`
        : 'Mode: real Clerk instance (from CLERK_PUBLISHABLE_KEY / CLERK_SECRET_KEY)',
      '',
      `Everything under ${PROXY_PATH}/ is forwarded to the Frontend API; this page is not. Try:`,
      '',
      ...curlCommands(base, fake).map((l) => `  ${l}`),
      '',
      'In a real app, point Clerk\'s frontend at the proxy: proxyUrl="' + base + PROXY_PATH + '" (ClerkProvider / clerk-js).',
      '',
    ].join('\n')
    res.type('text/plain').send(text)
  })

  const server = await new Promise((resolve, reject) => {
    const s = app.listen(port, host)
    s.once('listening', () => resolve(s))
    s.once('error', reject)
  }).catch(async (err) => {
    if (fapi) await fapi.close()
    throw err
  })
  const actualPort = server.address().port
  base = `http://${host}:${actualPort}`

  const close = async () => {
    await new Promise((done) => {
      server.close(() => done())
      if (typeof server.closeAllConnections === 'function') server.closeAllConnections()
    })
    if (fapi) await fapi.close()
  }

  return { app, server, port: actualPort, url: base, mode: fake ? 'fake' : 'clerk', fapi, close, curl: curlCommands(base, fake) }
}

module.exports = { start, PROXY_PATH, DUMMY_PUBLISHABLE_KEY, DUMMY_SECRET_KEY }

if (require.main === module) {
  start().then(
    (s) => {
      console.log(`clerk-native example listening on ${s.url}`)
      console.log(
        s.mode === 'fake'
          ? `No Clerk keys in env: proxying ${PROXY_PATH} to the stand-in FAPI at ${s.fapi.url}`
          : `Proxying ${PROXY_PATH} to your Clerk instance`,
      )
      console.log('\nTry:')
      for (const line of s.curl) console.log(`  ${line}`)
      console.log(`\nOr open ${s.url}/ for this help. Ctrl-C stops.`)
      const stop = () => {
        s.close().then(() => process.exit(0))
        setTimeout(() => process.exit(0), 2000).unref()
      }
      process.once('SIGINT', stop)
      process.once('SIGTERM', stop)
    },
    (err) => {
      console.error(`example failed to start: ${(err && err.stack) || err}`)
      process.exit(1)
    },
  )
}
