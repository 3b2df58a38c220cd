'use strict'
// A real browser (Debian's Chromium, driven by playwright-core) against the example Next.js app (example/next) served
// by `next start` on 127.0.0.1 with the Clerk stand-in: a signed-out browser on a protected page lands on sign-in
// and signs in through the /__clerk proxy; a browser whose session token has expired (with __client_uat and the
// FAPI's __client cookie) follows the handshake 307 to the stand-in FAPI (through the /__clerk proxy), comes back with
// __clerk_handshake_nonce, gets fresh cookies from the Backend API's handshake_payload and lands signed in; a forged
// hand-off header is ignored.
// Needs /usr/bin/chromium (.ci/run installs it) and example/next's dependencies.

const { test, before, after } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const crypto = require('node:crypto')
const { startExampleApp, skipReason } = require('../example/next/scripts/test-server')

const CHROMIUM = process.env.CHROMIUM_PATH || '/usr/bin/chromium'
const SKIP = skipReason() || (fs.existsSync(CHROMIUM) ? null : `no Chromium at ${CHROMIUM} (apt-get install -y chromium)`)
let app
let browser

before(async () => {
  if (SKIP) return
  app = await startExampleApp()
  const { chromium } = require('playwright-core')
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ['--no-sandbox'] })
}, { timeout: 360_000 })
after(async () => {
  await browser?.close()
  await app?.close()
})

const opts = { skip: SKIP || false, timeout: 60_000 }

async function withPage(fn) {
  const context = await browser.newContext()
  const page = await context.newPage()
  page.setDefaultTimeout(20_000)
  try {
    return await fn(page, context)
  } finally {
    await context.close()
  }
}

test('a signed-out browser on a protected page lands on sign-in, signs in through /__clerk and sees the dashboard', opts, async () => {
  await withPage(async (page, context) => {
    const first = await page.goto(`${app.base}/dashboard`)
    assert.equal(first.status(), 200)
    const url = new URL(page.url())
    assert.equal(url.pathname, '/sign-in')
    assert.equal(url.searchParams.get('redirect_url'), `${app.base}/dashboard`)
    await Promise.all([page.waitForURL(`${app.base}/dashboard`), page.click('#sign-in')])
    assert.equal(await page.textContent('#user-id'), app.standIn.userId)
    assert.equal(await page.textContent('#user-name'), 'Ada Demo')
    const names = (await context.cookies()).map((c) => c.name).sort()
    assert.deepEqual(names, ['__client', '__client_uat', '__session'])
    // a server action calling auth.protect() (its POST goes through the middleware and the hand-off too)
    await Promise.all([page.waitForURL(/action=/), page.click('#who-am-i')])
    assert.equal(await page.textContent('#action-result'), app.standIn.userId)
  })
})

test('an expired session cookie with __client_uat: the handshake 307 to the stand-in FAPI and back, then signed in', opts, async () => {
  await withPage(async (page, context) => {
    const client = app.standIn.newClient()
    const expired = app.standIn.sessionToken({ expiresIn: -30, iat: Math.floor(Date.now() / 1000) - 120 })
    const uat = String(Math.floor(Date.now() / 1000) - 120)
    const url = new URL(app.base)
    await context.addCookies(
      [
        ['__client', client],
        ['__session', expired],
        ['__client_uat', uat],
      ].map(([name, value]) => ({ name, value, domain: url.hostname, path: '/' })),
    )
    const chain = []
    page.on('response', (r) => chain.push({ status: r.status(), url: r.url(), location: r.headers().location }))
    await page.goto(`${app.base}/dashboard?from=handshake`)
    // the document requests: 307 to the handshake (through the proxy), 307 back with the nonce, 307 to the clean URL
    const documents = chain.filter((r) => r.status === 307 || new URL(r.url).pathname === '/dashboard')
    const toHandshake = documents.find((r) => r.location && new URL(r.location, app.base).pathname === '/__clerk/v1/client/handshake')
    assert.ok(toHandshake, `no handshake redirect in ${JSON.stringify(documents, null, 1)}`)
    const handshake = new URL(toHandshake.location, app.base)
    assert.equal(handshake.searchParams.get('redirect_url'), `${app.base}/dashboard?from=handshake`)
    assert.equal(handshake.searchParams.get('format'), 'nonce')
    assert.ok(chain.some((r) => r.location && new URL(r.location, app.base).searchParams.has('__clerk_handshake_nonce')), 'the stand-in did not answer with a nonce')
    assert.ok(app.standIn.requests.some((r) => r.server === 'bapi' && r.path === '/v1/clients/handshake_payload'), 'the middleware did not fetch the handshake payload')
    // a production instance: the page answers at once with the fresh cookies (no redirect to strip the nonce, as
    // Clerk's; Clerk's browser SDK removes it from the address bar)
    const landed = new URL(page.url())
    assert.equal(landed.pathname, '/dashboard')
    assert.equal(landed.searchParams.get('from'), 'handshake')
    assert.equal(await page.textContent('#user-id'), app.standIn.userId)
    const session = (await context.cookies()).find((c) => c.name === '__session')
    assert.ok(session && session.value !== expired, 'the session cookie was not refreshed')
  })
})

test('a forged hand-off header from the browser is ignored', opts, async () => {
  await withPage(async (page) => {
    const token = app.standIn.sessionToken()
    const body = Buffer.from(JSON.stringify({ s: 'signed-in', r: '', m: '', y: 'session_token', a: null, u: `${app.base}/`, o: 'x', p: {} })).toString('base64url')
    await page.setExtraHTTPHeaders({
      'x-clerk-native-auth': body,
      'x-clerk-native-auth-signature': `v1.${crypto.createHmac('sha256', 'not-the-key').update(`v1\n${token}\n${body}`).digest('base64url')}`,
      'x-clerk-auth-status': 'signed-in',
      'x-clerk-auth-token': token,
    })
    await page.goto(`${app.base}/`)
    assert.equal(await page.textContent('#status'), 'Signed out')
    const res = await page.goto(`${app.base}/api/me`)
    assert.equal(res.status(), 401)
    await page.goto(`${app.base}/dashboard`)
    assert.equal(new URL(page.url()).pathname, '/sign-in')
  })
})
