'use strict'
// The example app (`npm run example`) against its stand-in FAPI: what the README tells a newcomer to curl.

const { test, before, after } = require('node:test')
const assert = require('node:assert')
const { start } = require('../example/server')

let app

before(async () => {
  app = await start({ port: 0, host: '127.0.0.1', fake: true, log: () => {} })
})

after(async () => {
  if (app) await app.close()
})

test('example: / explains what to curl, and is not proxied', async () => {
  const res = await fetch(`${app.url}/`)
  assert.strictEqual(res.status, 200)
  const text = await res.text()
  assert.match(text, /__clerk\/v1\/environment/)
  assert.match(text, /stand-in FAPI/)
})

test('example: /__clerk/v1/environment reaches the stand-in FAPI with the proxy headers, secret never echoed', async () => {
  const res = await fetch(`${app.url}/__clerk/v1/environment`)
  assert.strictEqual(res.status, 200)
  const raw = await res.text()
  const body = JSON.parse(raw)
  assert.strictEqual(body.object, 'environment')
  const seen = body._fake_fapi.received
  assert.strictEqual(seen.secretKeyReceived, true)
  assert.strictEqual(seen.proxyUrl, `${app.url}/__clerk`)
  assert.strictEqual(seen.forwarded['x-forwarded-host'], new URL(app.url).host)
  assert.ok(!raw.includes('sk_test_example'), 'the secret key value must not be echoed')
})

test('example: /__clerk/v1/client keeps every Set-Cookie header', async () => {
  const res = await fetch(`${app.url}/__clerk/v1/client`)
  assert.strictEqual(res.status, 200)
  const cookies = res.headers.getSetCookie().map((c) => c.split('=')[0])
  assert.deepStrictEqual(cookies, ['__client', '__client_uat', '__clerk_db_jwt'])
  await res.arrayBuffer()
})

test('example: a redirect to the FAPI host is rewritten to go through the proxy', async () => {
  const res = await fetch(`${app.url}/__clerk/v1/oauth/authorize?state=s1`, { redirect: 'manual' })
  assert.strictEqual(res.status, 302)
  assert.strictEqual(res.headers.get('location'), `${app.url}/__clerk/v1/oauth/callback?state=s1&code=fake_code`)
  await res.arrayBuffer()
})

test('example: a POST body goes upstream intact', async () => {
  const res = await fetch(`${app.url}/__clerk/v1/client/sign_ins?x=1`, {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: 'identifier=jane@example.com',
  })
  assert.strictEqual(res.status, 200)
  const body = await res.json()
  assert.strictEqual(body.method, 'POST')
  assert.strictEqual(body.path, '/v1/client/sign_ins')
  assert.deepStrictEqual(body.query, { x: '1' })
  assert.strictEqual(body.body, 'identifier=jane@example.com')
})
