'use strict'
// verifyWebhook (clerk-native/webhooks, /express/webhooks, /next/webhooks) against Clerk's own
// (@clerk/backend/webhooks 3.25.0, @clerk/express/webhooks 2.1.70) over a generated matrix of valid and invalid
// deliveries: the same request to both, the same clock, and the same result or the same error (class and
// message). Then a real Express app receiving signed POSTs through express.raw / express.text / express.json, the
// body cap, the error codes, and the package entry points (CJS, ESM, types).

const { test, describe, before, after } = require('node:test')
const assert = require('node:assert/strict')
const crypto = require('node:crypto')
const fs = require('node:fs')
const path = require('node:path')

const express = require('express')
const clerkBackend = require('@clerk/backend/webhooks')
const clerkExpress = require('@clerk/express/webhooks')

const ours = require('../webhooks')
const oursExpress = require('../express/webhooks')
const oursNext = require('../next/webhooks')
const binding = require('../binding.js')
const { envKeys } = require('./helpers/env')
const { listenApp } = require('./helpers/express-app')

const ENV = envKeys(['CLERK_WEBHOOK_SIGNING_SECRET'])
const NOW_MS = 1764600000123
const NOW = Math.floor(NOW_MS / 1000)

// ---- signing, independent of both implementations (node:crypto)

const KEY = crypto.createHash('sha256').update('clerk-native webhooks test key').digest().subarray(0, 24)
const SECRET = `whsec_${KEY.toString('base64')}`
const OTHER_SECRET = `whsec_${crypto.createHash('sha256').update('another key').digest().subarray(0, 24).toString('base64')}`

/** `base64(HMAC-SHA256(key, "${id}.${ts}.${body}"))`, body as UTF-8 (lone surrogates as U+FFFD, as TextEncoder). */
function sign(id, ts, body, key = KEY) {
  return crypto.createHmac('sha256', key).update(`${id}.${ts}.${body}`).digest('base64')
}

const EVENT = {
  data: { id: 'user_2RfWKJREkjKbHZy0Wqa5qrHeAnb', object: 'user', first_name: 'Zoë', email_addresses: [{ email_address: 'z@example.com' }] },
  event_attributes: { http_request: { client_ip: '203.0.113.9', user_agent: 'Mozilla/5.0' } },
  instance_id: 'ins_2RfWKJREkjKbHZy0Wqa5qrHeAnb',
  object: 'event',
  timestamp: 1764600000000,
  type: 'user.created',
  extra: 'dropped by verifyWebhook',
}
const EVENT_JSON = JSON.stringify(EVENT)

/** Pins Date.now for the duration of `fn` (both implementations read the clock through it). */
async function atNow(fn) {
  const real = Date.now
  Date.now = () => NOW_MS
  try {
    return await fn()
  } finally {
    Date.now = real
  }
}

/** `{ ok: true, value }` or `{ ok: false, name, message }` of an async call. */
async function outcome(fn) {
  try {
    return { ok: true, value: await fn() }
  } catch (err) {
    return { ok: false, name: err && err.constructor && err.constructor.name, message: err && err.message }
  }
}

// ---- the generated matrix

const SECRETS = [
  { name: 'valid', options: { signingSecret: SECRET } },
  { name: 'valid without whsec_', options: { signingSecret: SECRET.slice(6) } },
  { name: 'valid from env', options: undefined, env: SECRET },
  { name: 'wrong secret', options: { signingSecret: OTHER_SECRET } },
  { name: 'bad characters', options: { signingSecret: 'whsec_abc$defgh' } },
  { name: 'URL-safe alphabet', options: { signingSecret: 'whsec_ab-_abcd' } },
  { name: 'bad padding', options: { signingSecret: 'whsec_ab' } },
  { name: 'only whsec_', options: { signingSecret: 'whsec_' } },
  { name: 'empty string', options: { signingSecret: '' } },
  { name: 'missing', options: {} },
  { name: 'not a string', options: { signingSecret: 12345 } },
]

const ID = 'msg_2tHv1Vb8ZJp0nAqWcQ'
const IDS = [
  { name: 'id', header: ID, signed: ID },
  { name: 'id with spaces', header: `  ${ID}\t`, signed: ID },
  { name: 'id missing', header: undefined, signed: ID },
  { name: 'id blank', header: '   ', signed: ID },
]

const TIMESTAMPS = [
  { name: 'now', header: String(NOW), signed: NOW },
  { name: 'now-300 (edge)', header: String(NOW - 300), signed: NOW - 300 },
  { name: 'now-301 (too old)', header: String(NOW - 301), signed: NOW - 301 },
  { name: 'now+300 (edge)', header: String(NOW + 300), signed: NOW + 300 },
  { name: 'now+301 (too new)', header: String(NOW + 301), signed: NOW + 301 },
  { name: 'leading zero', header: `0${NOW}`, signed: NOW },
  { name: 'trailing junk', header: `${NOW}abc`, signed: NOW },
  { name: 'signed as spelled', header: `0${NOW}`, signed: `0${NOW}` },
  { name: 'with spaces', header: ` ${NOW} `, signed: NOW },
  { name: 'not a number', header: 'yesterday', signed: NOW },
  { name: 'negative', header: '-1', signed: -1 },
  { name: 'missing', header: undefined, signed: NOW },
]

const BODIES = [
  { name: 'event', sent: EVENT_JSON, signed: EVENT_JSON },
  { name: 'tampered', sent: EVENT_JSON.replace('user.created', 'user.deleted'), signed: EVENT_JSON },
  { name: 'not JSON', sent: 'hello world', signed: 'hello world' },
  { name: 'empty', sent: '', signed: '' },
  { name: 'JSON null', sent: 'null', signed: 'null' },
  { name: 'JSON array', sent: '[1,2]', signed: '[1,2]' },
  { name: 'non-ASCII', sent: JSON.stringify({ type: 'x', data: { s: 'ünï 🚀 \u2028' } }), signed: JSON.stringify({ type: 'x', data: { s: 'ünï 🚀 \u2028' } }) },
]

/** Signature header variants, given the correct base64 signature. */
const SIGNATURES = [
  { name: 'valid', header: (s) => `v1,${s}` },
  { name: 'one of several', header: (s) => `v1,${sign('x', 1, 'y')} v1,${s} v1,bogus` },
  { name: 'v2 only', header: (s) => `v2,${s}` },
  { name: 'v2 then v1', header: (s) => `v2,abc v1,${s}` },
  { name: 'surrounding whitespace', header: (s) => `  v1,${s}  ` },
  { name: 'double space', header: (s) => `v1,bogus  v1,${s}` },
  { name: 'tab separated', header: (s) => `v1,bogus\tv1,${s}` },
  { name: 'extra part', header: (s) => `v1,${s},extra` },
  { name: 'no comma', header: (s) => `v1 ${s}` },
  { name: 'unpadded', header: (s) => `v1,${s.replace(/=+$/, '')}` },
  { name: 'tampered', header: (s) => `v1,${s.slice(0, 10)}${s[10] === 'A' ? 'B' : 'A'}${s.slice(11)}` },
  { name: 'wrong key', header: (_s, c) => `v1,${sign(c.id.signed, c.ts.signed, c.body.signed, Buffer.from('wrong'))}` },
  { name: 'missing', header: () => undefined },
]

function* cases() {
  // The full product of the axes that interact (secret x timestamp x signature x body), with a plain id; then the
  // id variants against a smaller set.
  for (const secret of SECRETS)
    for (const ts of TIMESTAMPS)
      for (const sig of SIGNATURES)
        for (const body of BODIES) yield { secret, id: IDS[0], ts, sig, body }
  for (const id of IDS.slice(1))
    for (const ts of TIMESTAMPS.slice(0, 3))
      for (const sig of SIGNATURES.slice(0, 3)) for (const body of BODIES.slice(0, 3)) yield { secret: SECRETS[0], id, ts, sig, body }
}

function headersOf(c) {
  const good = sign(c.id.signed, c.ts.signed, c.body.signed)
  const h = {}
  if (c.id.header !== undefined) h['svix-id'] = c.id.header
  if (c.ts.header !== undefined) h['svix-timestamp'] = c.ts.header
  const s = c.sig.header(good, c)
  if (s !== undefined) h['svix-signature'] = s
  h['content-type'] = 'application/json'
  return h
}

const label = (c) => `secret=${c.secret.name} id=${c.id.name} ts=${c.ts.name} sig=${c.sig.name} body=${c.body.name}`

async function runBoth(c, clerkFn, oursFn) {
  if (c.secret.env) process.env.CLERK_WEBHOOK_SIGNING_SECRET = c.secret.env
  else delete process.env.CLERK_WEBHOOK_SIGNING_SECRET
  try {
    return await atNow(async () => [await outcome(clerkFn), await outcome(oursFn)])
  } finally {
    delete process.env.CLERK_WEBHOOK_SIGNING_SECRET
  }
}

function webRequest(headers, body, method = 'POST') {
  return new Request('http://127.0.0.1/api/webhooks', { method, headers, body: method === 'GET' ? undefined : body })
}

function tally(results, key) {
  results[key] = (results[key] || 0) + 1
}

describe('verifyWebhook: differential against @clerk/backend/webhooks (Web Request)', () => {
  before(() => ENV.save())
  after(() => ENV.restore())

  test('every generated delivery gets the same event or the same error', async () => {
    const seen = {}
    let n = 0
    for (const c of cases()) {
      const headers = headersOf(c)
      const [theirs, mine] = await runBoth(
        c,
        () => clerkBackend.verifyWebhook(webRequest(headers, c.body.sent), c.secret.options),
        () => ours.verifyWebhook(webRequest(headers, c.body.sent), c.secret.options),
      )
      assert.deepStrictEqual(mine, theirs, label(c))
      tally(seen, theirs.ok ? 'ok' : theirs.message.replace(/Unexpected token.*|is not valid JSON.*/, 'JSON…'))
      n++
    }
    assert.ok(n >= 3000, `${n} cases`)
    // The matrix reaches every outcome Clerk has (so it is not, e.g., all "missing secret").
    const messages = Object.keys(seen).join('\n')
    for (const expected of [
      'ok',
      'Missing webhook signing secret',
      'Missing required webhook headers: svix-id',
      'Missing required webhook headers: svix-timestamp',
      'Missing required webhook headers: svix-signature',
      'Invalid Signature Headers',
      'Message timestamp too old',
      'Message timestamp too new',
      'No matching signature found',
      'Base64Coder: incorrect characters for decoding',
      'Base64Coder: incorrect padding',
      "Secret can't be empty.",
      'Expected secret to be of type string',
      "Cannot read properties of undefined (reading 'type')",
      "Cannot read properties of null (reading 'type')",
      'JSON…',
    ]) {
      assert.ok(messages.includes(expected), `no case produced "${expected}"; outcomes:\n${messages}`)
    }
    assert.ok(seen.ok >= 50, `${seen.ok} valid deliveries`)
  })

  test('the event has exactly Clerk’s shape', async () => {
    const c = { secret: SECRETS[0], id: IDS[0], ts: TIMESTAMPS[0], sig: SIGNATURES[0], body: BODIES[0] }
    const [, mine] = await runBoth(c, async () => null, () => ours.verifyWebhook(webRequest(headersOf(c), EVENT_JSON), c.secret.options))
    assert.deepStrictEqual(mine.value, {
      type: EVENT.type,
      object: 'event',
      data: EVENT.data,
      event_attributes: EVENT.event_attributes,
      timestamp: EVENT.timestamp,
      instance_id: EVENT.instance_id,
    })
  })

  test('bodies that are not valid UTF-8 or start with a BOM are read as request.text() reads them', async () => {
    const bodies = [
      Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(EVENT_JSON)]),
      Buffer.concat([Buffer.from('{"type":"a","data":"'), Buffer.from([0xff, 0xfe, 0xc3]), Buffer.from('"}')]),
    ]
    for (const raw of bodies) {
      const text = new TextDecoder().decode(raw)
      for (const signedText of [text, raw.toString('latin1')]) {
        const headers = { 'svix-id': ID, 'svix-timestamp': String(NOW), 'svix-signature': `v1,${sign(ID, NOW, signedText)}` }
        const c = { secret: SECRETS[0] }
        const [theirs, mine] = await runBoth(
          c,
          () => clerkBackend.verifyWebhook(webRequest(headers, raw), c.secret.options),
          () => ours.verifyWebhook(webRequest(headers, raw), c.secret.options),
        )
        assert.deepStrictEqual(mine, theirs)
      }
    }
  })

  test('a request whose body was already read fails as Clerk’s does', async () => {
    const c = { secret: SECRETS[0], id: IDS[0], ts: TIMESTAMPS[0], sig: SIGNATURES[0], body: BODIES[0] }
    const used = async (impl) => {
      const r = webRequest(headersOf(c), EVENT_JSON)
      await r.text()
      return impl.verifyWebhook(r, c.secret.options)
    }
    const [theirs, mine] = await runBoth(c, () => used(clerkBackend), () => used(ours))
    assert.equal(theirs.ok, false)
    assert.deepStrictEqual(mine, theirs)
  })

  test('options = null and a request without headers fail as Clerk’s do', async () => {
    const c = { secret: SECRETS[0] }
    let [theirs, mine] = await runBoth(c, () => clerkBackend.verifyWebhook(webRequest({}, ''), null), () => ours.verifyWebhook(webRequest({}, ''), null))
    assert.equal(theirs.ok, false)
    assert.deepStrictEqual(mine, theirs)
    ;[theirs, mine] = await runBoth(c, () => clerkBackend.verifyWebhook({}, c.secret.options), () => ours.verifyWebhook({}, c.secret.options))
    assert.equal(theirs.ok, false)
    assert.deepStrictEqual(mine, theirs)
  })
})

/** A request-like object as Express hands it to a route after a body parser. */
function expressReq(headers, body, { method = 'POST', url = '/api/webhooks' } = {}) {
  const lower = Object.fromEntries(Object.entries(headers).map(([k, v]) => [k.toLowerCase(), v]))
  const req = { method, url, originalUrl: url, headers: lower, connection: {}, socket: {} }
  if (body !== undefined) req.body = body
  return req
}

describe('verifyWebhook: differential against @clerk/express/webhooks (req.body serialisation)', () => {
  before(() => ENV.save())
  after(() => ENV.restore())

  const circular = { type: 'x' }
  circular.self = circular
  const BODY_FORMS = [
    { name: 'Buffer (express.raw)', body: (s) => Buffer.from(s) },
    { name: 'string (express.text)', body: (s) => s },
    { name: 'parsed object (express.json)', body: (s) => { try { return JSON.parse(s) } catch { return { unparsed: s } } } },
    { name: 'undefined (no parser)', body: () => undefined },
    { name: 'null', body: () => null },
    { name: 'number', body: () => 42 },
    { name: 'BigInt (cannot serialise)', body: () => ({ n: 10n }) },
    { name: 'circular (cannot serialise)', body: () => circular },
    { name: 'BOM + Buffer', body: (s) => Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(s)]) },
    { name: 'lone surrogate string', body: (s) => `${s.slice(0, -1)}\ud800}` },
  ]

  test('every body form and delivery variant gets the same event or the same error', async () => {
    let n = 0
    let ok = 0
    for (const form of BODY_FORMS) {
      for (const secret of SECRETS.slice(0, 5)) {
        for (const ts of TIMESTAMPS.slice(0, 5)) {
          for (const sig of SIGNATURES) {
            for (const body of BODIES) {
              const c = { secret, id: IDS[0], ts, sig, body }
              const headers = headersOf(c)
              const [theirs, mine] = await runBoth(
                c,
                () => clerkExpress.verifyWebhook(expressReq(headers, form.body(body.sent)), secret.options),
                () => oursExpress.verifyWebhook(expressReq(headers, form.body(body.sent)), secret.options),
              )
              assert.deepStrictEqual(mine, theirs, `${form.name}: ${label(c)}`)
              if (theirs.ok) ok++
              n++
            }
          }
        }
      }
    }
    assert.ok(n >= 3000, `${n} cases`)
    assert.ok(ok >= 100, `${ok} valid deliveries`)
  })

  test('also with signatures over the exact bytes of BOM and lone-surrogate bodies', async () => {
    const c = { secret: SECRETS[0] }
    const variants = [
      { body: Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from(EVENT_JSON)]), signed: [`\ufeff${EVENT_JSON}`, EVENT_JSON] },
      { body: `${EVENT_JSON.slice(0, -1)},"s":"\ud800"}`, signed: [`${EVENT_JSON.slice(0, -1)},"s":"\ufffd"}`] },
    ]
    for (const v of variants) {
      for (const signedText of v.signed) {
        const headers = { 'svix-id': ID, 'svix-timestamp': String(NOW), 'svix-signature': `v1,${sign(ID, NOW, signedText)}` }
        const [theirs, mine] = await runBoth(
          c,
          () => clerkExpress.verifyWebhook(expressReq(headers, v.body), c.secret.options),
          () => oursExpress.verifyWebhook(expressReq(headers, v.body), c.secret.options),
        )
        assert.deepStrictEqual(mine, theirs, JSON.stringify(signedText.slice(0, 12)))
      }
    }
  })

  test('GET/HEAD requests, duplicate and mixed-case headers, odd URLs: as Clerk', async () => {
    const c = { secret: SECRETS[0], id: IDS[0], ts: TIMESTAMPS[0], sig: SIGNATURES[0], body: BODIES[0] }
    const headers = headersOf(c)
    const reqs = [
      () => expressReq(headers, Buffer.from(EVENT_JSON), { method: 'GET' }),
      () => expressReq(headers, Buffer.from(EVENT_JSON), { method: 'HEAD' }),
      () => ({ ...expressReq(headers, Buffer.from(EVENT_JSON)), method: undefined }),
      () => ({ ...expressReq({}, Buffer.from(EVENT_JSON)), headers: { 'Svix-Id': ID, 'SVIX-TIMESTAMP': String(NOW), 'svix-signature': headers['svix-signature'] } }),
      () => expressReq({ ...headers, 'svix-id': `${ID}, ${ID}` }, Buffer.from(EVENT_JSON)),
      () => expressReq({ ...headers, 'set-cookie': ['a=1', 'b=2'] }, Buffer.from(EVENT_JSON)),
      () => expressReq(headers, Buffer.from(EVENT_JSON), { url: '/hooks?x=1#frag' }),
      () => ({ ...expressReq(headers, Buffer.from(EVENT_JSON)), originalUrl: undefined, url: undefined }),
    ]
    for (const [i, make] of reqs.entries()) {
      const [theirs, mine] = await runBoth(c, () => clerkExpress.verifyWebhook(make(), c.secret.options), () => oursExpress.verifyWebhook(make(), c.secret.options))
      assert.deepStrictEqual(mine, theirs, `request variant ${i}`)
    }
  })
})

describe('verifyWebhook: clerk-native/next/webhooks', () => {
  before(() => ENV.save())
  after(() => ENV.restore())

  test('a Web Request (route handler) is verified exactly as @clerk/backend does', async () => {
    let n = 0
    for (const c of cases()) {
      if (n++ % 7) continue // a seventh of the matrix: the path is the same function as the core entry's
      const headers = headersOf(c)
      const [theirs, mine] = await runBoth(
        c,
        () => clerkBackend.verifyWebhook(webRequest(headers, c.body.sent), c.secret.options),
        () => oursNext.verifyWebhook(webRequest(headers, c.body.sent), c.secret.options),
      )
      assert.deepStrictEqual(mine, theirs, label(c))
    }
  })

  test('a Pages Router request: its parsed body is re-serialised with JSON.stringify, as @clerk/nextjs does', async () => {
    const c = { secret: SECRETS[0] }
    const compact = JSON.parse(EVENT_JSON) // EVENT_JSON is JSON.stringify output: re-serialising gives the same text
    const headers = { 'svix-id': ID, 'svix-timestamp': String(NOW), 'svix-signature': `v1,${sign(ID, NOW, EVENT_JSON)}`, host: 'app.example.com' }
    const [, ok] = await runBoth(c, async () => null, () => oursNext.verifyWebhook(expressReq(headers, compact), c.secret.options))
    assert.equal(ok.ok, true, ok.message)
    assert.equal(ok.value.type, 'user.created')
    // A body signed with other spacing does not survive the round trip (as with Clerk's).
    const spaced = JSON.stringify(EVENT, null, 1)
    const h2 = { ...headers, 'svix-signature': `v1,${sign(ID, NOW, spaced)}` }
    const [, bad] = await runBoth(c, async () => null, () => oursNext.verifyWebhook(expressReq(h2, JSON.parse(spaced)), c.secret.options))
    assert.equal(bad.message, '@clerk/backend: Unable to verify incoming webhook: No matching signature found')
    // Headers missing: Clerk's message; a GET with a body: the platform's TypeError, as Clerk's conversion throws.
    const [, missing] = await runBoth(c, async () => null, () => oursNext.verifyWebhook(expressReq({ host: 'a' }, compact), c.secret.options))
    assert.equal(missing.message, '@clerk/backend: Missing required webhook headers: svix-id, svix-timestamp, svix-signature')
    const [, get] = await runBoth(c, async () => null, () => oursNext.verifyWebhook(expressReq(headers, compact, { method: 'GET' }), c.secret.options))
    assert.equal(get.name, 'TypeError')
  })
})

describe('verifyWebhook: a real Express app', () => {
  const apps = []
  let app
  before(async () => {
    ENV.save()
    const a = express()
    const handler = (impl) => async (req, res) => {
      try {
        const evt = await impl.verifyWebhook(req, { signingSecret: SECRET })
        res.json({ ok: true, type: evt.type, userId: evt.data.id })
      } catch (err) {
        res.status(400).json({ ok: false, message: err.message })
      }
    }
    const raw = express.raw({ type: 'application/json' })
    const text = express.text({ type: 'application/json' })
    const json = express.json()
    a.post('/ours/raw', raw, handler(oursExpress))
    a.post('/ours/text', text, handler(oursExpress))
    a.post('/ours/json', json, handler(oursExpress))
    a.post('/ours/none', handler(oursExpress))
    a.post('/clerk/raw', raw, handler(clerkExpress))
    a.post('/clerk/text', text, handler(clerkExpress))
    a.post('/clerk/json', json, handler(clerkExpress))
    a.post('/clerk/none', handler(clerkExpress))
    app = await listenApp(a, apps)
  })
  after(async () => {
    await Promise.all(apps.map((x) => x.close()))
    ENV.restore()
  })

  async function post(route, body, headers) {
    const res = await fetch(`${app.url}${route}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body })
    return { status: res.status, body: await res.json() }
  }

  test('signed POSTs through express.raw / express.text verify; both apps answer alike', async () => {
    const now = Math.floor(Date.now() / 1000)
    const pretty = JSON.stringify(EVENT, null, 2) // what a sender's bytes may look like: only raw/text keep them
    for (const body of [EVENT_JSON, pretty]) {
      const good = { 'svix-id': ID, 'svix-timestamp': String(now), 'svix-signature': `v1,${sign(ID, now, body)}` }
      const deliveries = [
        { name: 'valid', headers: good, body },
        { name: 'tampered', headers: good, body: body.replace('Zoë', 'Zoe') },
        { name: 'old', headers: { ...good, 'svix-timestamp': String(now - 1000), 'svix-signature': `v1,${sign(ID, now - 1000, body)}` }, body },
        { name: 'no signature', headers: { 'svix-id': ID, 'svix-timestamp': String(now) }, body },
      ]
      for (const parser of ['raw', 'text', 'json', 'none']) {
        for (const d of deliveries) {
          const [theirs, mine] = [await post(`/clerk/${parser}`, d.body, d.headers), await post(`/ours/${parser}`, d.body, d.headers)]
          assert.deepStrictEqual(mine, theirs, `${parser} ${d.name} ${body === pretty ? 'pretty' : 'compact'}`)
          if (d.name === 'valid' && (parser === 'raw' || parser === 'text')) {
            assert.deepStrictEqual(mine, { status: 200, body: { ok: true, type: 'user.created', userId: EVENT.data.id } })
          }
        }
      }
      // express.json() re-serialises: compact bodies survive it, pretty ones do not (as with Clerk's).
      const viaJson = await post('/ours/json', body, good)
      assert.equal(viaJson.status, body === pretty ? 400 : 200)
    }
  })
})

describe('verifyWebhook: body cap (clerk-native only)', () => {
  before(() => ENV.save())
  after(() => ENV.restore())

  const signed = (body) => ({ 'svix-id': ID, 'svix-timestamp': String(NOW), 'svix-signature': `v1,${sign(ID, NOW, body)}` })

  test('a body over maxBodyBytes is refused (declared length, or counted while streaming); at the cap it verifies', async () => {
    const body = JSON.stringify({ type: 'x', data: { pad: 'a'.repeat(200) } })
    const size = Buffer.byteLength(body)
    await atNow(async () => {
      const atCap = await ours.verifyWebhook(webRequest(signed(body), body), { signingSecret: SECRET, maxBodyBytes: size })
      assert.equal(atCap.type, 'x')
      await assert.rejects(ours.verifyWebhook(webRequest(signed(body), body), { signingSecret: SECRET, maxBodyBytes: size - 1 }), {
        code: 'webhook_body_too_large',
        message: /maxBodyBytes \(\d+ bytes\)/,
      })
      // Declared by Content-Length before any byte is read.
      const declared = webRequest({ ...signed(body), 'content-length': String(10 * 1024 * 1024) }, body)
      await assert.rejects(ours.verifyWebhook(declared, { signingSecret: SECRET }), { code: 'webhook_body_too_large' })
      assert.equal(declared.bodyUsed, false)
      // A stream with no length: counted while read, and the stream is cancelled.
      let pulled = 0
      let cancelled = false
      const stream = new ReadableStream({
        pull(ctrl) {
          pulled++
          ctrl.enqueue(new Uint8Array(64 * 1024))
        },
        cancel() {
          cancelled = true
        },
      })
      const streamed = new Request('http://127.0.0.1/wh', { method: 'POST', headers: signed('x'), body: stream, duplex: 'half' })
      await assert.rejects(ours.verifyWebhook(streamed, { signingSecret: SECRET }), { code: 'webhook_body_too_large' })
      assert.ok(pulled <= 20, `${pulled} chunks pulled`)
      assert.ok(cancelled, 'the body stream was cancelled')
      // Express: the same cap over the serialised body.
      await assert.rejects(oursExpress.verifyWebhook(expressReq(signed(body), body), { signingSecret: SECRET, maxBodyBytes: 10 }), {
        code: 'webhook_body_too_large',
      })
    })
  })

  test('the default cap is 1 MiB and a bad maxBodyBytes is a TypeError naming the option', async () => {
    const { DEFAULT_MAX_BODY_BYTES } = require('../lib/webhooks')
    assert.equal(DEFAULT_MAX_BODY_BYTES, 1024 * 1024)
    const big = JSON.stringify({ type: 'x', data: 'a'.repeat(DEFAULT_MAX_BODY_BYTES) })
    await atNow(() =>
      assert.rejects(ours.verifyWebhook(webRequest(signed(big), big), { signingSecret: SECRET }), { code: 'webhook_body_too_large' }),
    )
    for (const bad of [0, -1, 1.5, '1000', Number.NaN, 2 ** 40]) {
      await assert.rejects(ours.verifyWebhook(webRequest({}, ''), { signingSecret: SECRET, maxBodyBytes: bad }), {
        name: 'TypeError',
        message: /maxBodyBytes/,
      })
    }
  })

  test('errors never contain the signing secret', async () => {
    const secrets = [SECRET, OTHER_SECRET, 'whsec_abc$defgh', 'whsec_ab', 'whsec_']
    for (const s of secrets) {
      for (const headers of [{}, signed(EVENT_JSON), { ...signed(EVENT_JSON), 'svix-signature': 'v1,xx' }]) {
        const r = await atNow(() => outcome(() => ours.verifyWebhook(webRequest(headers, EVENT_JSON), { signingSecret: s })))
        if (!r.ok) {
          assert.ok(!r.message.includes(s.slice(6) || 'whsec_'), r.message)
        }
      }
    }
  })
})

describe('verifyWebhook: codes and entry points', () => {
  test('the codes of webhooks.d.ts are the native codes plus the JS-only ones', () => {
    const dts = fs.readFileSync(path.join(__dirname, '..', 'webhooks.d.ts'), 'utf8')
    const m = /export type WebhookErrorCode =([^]*?)\n\n/.exec(dts)
    assert.ok(m, 'WebhookErrorCode union')
    const declared = [...m[1].matchAll(/'([^']+)'/g)].map((x) => x[1]).sort()
    const native = binding.webhookErrorCodes()
    assert.deepStrictEqual(declared, [...native, 'webhook_payload_invalid', 'webhook_body_too_large'].sort())
  })

  test('native refusals carry their code; Clerk-only errors carry none', async () => {
    const headers = { 'svix-id': ID, 'svix-timestamp': String(NOW), 'svix-signature': 'v1,xx' }
    await atNow(async () => {
      await assert.rejects(ours.verifyWebhook(webRequest(headers, '{}'), { signingSecret: SECRET }), { code: 'webhook_signature_mismatch' })
      await assert.rejects(ours.verifyWebhook(webRequest(headers, '{}'), { signingSecret: 'whsec_' }), { code: 'webhook_secret_empty' })
      await assert.rejects(ours.verifyWebhook(webRequest({ ...headers, 'svix-timestamp': '1' }, '{}'), { signingSecret: SECRET }), {
        code: 'webhook_timestamp_too_old',
      })
      const missing = await outcome(() => ours.verifyWebhook(webRequest({}, '{}'), { signingSecret: SECRET }))
      assert.match(missing.message, /^@clerk\/backend: Missing required webhook headers/)
    })
  })

  test('CJS and ESM entry points, by package name, export verifyWebhook', async () => {
    for (const sub of ['webhooks', 'express/webhooks', 'next/webhooks']) {
      const cjs = require(`clerk-native/${sub}`)
      assert.equal(typeof cjs.verifyWebhook, 'function', `require clerk-native/${sub}`)
      const esm = await import(`clerk-native/${sub}`)
      assert.equal(esm.verifyWebhook, cjs.verifyWebhook, `import clerk-native/${sub}`)
      assert.equal(esm.default.verifyWebhook, cjs.verifyWebhook)
    }
    assert.equal(require('clerk-native/webhooks').verifyWebhook, ours.verifyWebhook)
  })

  test('code written against Clerk’s webhook types compiles against ours (tsc --strict)', (t) => {
    let tsc
    try {
      tsc = require.resolve('typescript/bin/tsc')
    } catch {
      t.skip('typescript is not installed')
      return
    }
    const { spawnSync } = require('node:child_process')
    const os = require('node:os')
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clerk-native-webhook-types-'))
    try {
      const root = path.join(__dirname, '..')
      // No @types packages are installed here: the request of an Express route is declared structurally, as
      // @types/express's Request satisfies it.
      const src = `
import { verifyWebhook } from 'clerk-native/express/webhooks'
import { verifyWebhook as verifyWeb, type WebhookEvent, type WebhookEventType } from 'clerk-native/webhooks'
import { verifyWebhook as verifyNext } from 'clerk-native/next/webhooks'

declare const req: { method: string; url: string; originalUrl: string; headers: { [k: string]: string | string[] | undefined }; body: any }
declare const secret: string | undefined

export async function route(): Promise<string> {
  try {
    const evt = await verifyWebhook(req, { signingSecret: secret })
    const { id } = evt.data
    const eventType: WebhookEventType = evt.type
    if (evt.type === 'user.created') return String(evt.data.email_addresses[0].email_address) + id + eventType
    return 'Webhook received'
  } catch (err) {
    return err instanceof Error ? err.message : 'Webhook verification failed'
  }
}

export async function POST(request: Request): Promise<Response> {
  const evt: WebhookEvent = await verifyWeb(request)
  const again = await verifyNext(request, {})
  const pages = await verifyNext(req)
  const ts: number = evt.timestamp + again.timestamp + pages.timestamp
  const attrs: string = evt.event_attributes.http_request.client_ip
  return new Response(evt.instance_id + evt.object + ts + attrs)
}
`
      fs.writeFileSync(path.join(dir, 'app.ts'), src)
      fs.writeFileSync(
        path.join(dir, 'tsconfig.json'),
        JSON.stringify({
          compilerOptions: {
            strict: true,
            noEmit: true,
            module: 'nodenext',
            moduleResolution: 'nodenext',
            target: 'es2022',
            lib: ['es2022', 'dom'],
            skipLibCheck: false,
            types: [],
          },
          files: ['app.ts'],
        }),
      )
      // Resolve `clerk-native` through a node_modules link to the repo (package exports included).
      fs.mkdirSync(path.join(dir, 'node_modules'))
      fs.symlinkSync(root, path.join(dir, 'node_modules', 'clerk-native'), 'dir')
      const r = spawnSync(process.execPath, [tsc, '-p', dir], { encoding: 'utf8', timeout: 120000 })
      assert.equal(r.status, 0, `tsc failed:\n${r.stdout}${r.stderr}`)
    } finally {
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })
})
