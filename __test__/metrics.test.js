'use strict'
// metrics(): the Prometheus text exposition (format 0.0.4) of clerk-native's counters (API.md §8). Checked with a
// strict parser of the format, against real traffic: a proxied request through a real upstream, session and
// machine tokens against a real Backend API stand-in, and the caches' counters.

const { describe, it, before, after } = require('node:test')
const assert = require('node:assert/strict')

const core = require('..')
const T = require('./helpers/tokens')
const { startUpstream, withTimeout } = require('./helpers/upstream')

const PK = 'pk_test_Y2xlcmsuZXhhbXBsZS5jb20k'
const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/
const SAMPLE = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(.*)\})? (\S+)$/
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"(,|$)/y

/** Parses the text format strictly: `{ families: Map<name, { type, help, samples: [{ name, labels, value }] }> }`. */
function parseExposition(text) {
  assert.ok(text.endsWith('\n'), 'ends with a newline')
  const families = new Map()
  let current = null
  for (const line of text.split('\n').slice(0, -1)) {
    if (line === '') continue
    if (line.startsWith('# HELP ')) {
      const [name, ...help] = line.slice(7).split(' ')
      assert.match(name, NAME)
      assert.ok(!families.has(name), `family ${name} declared once`)
      current = { name, help: help.join(' '), type: null, samples: [] }
      families.set(name, current)
      continue
    }
    if (line.startsWith('# TYPE ')) {
      const [name, type] = line.slice(7).split(' ')
      assert.equal(name, current && current.name, 'TYPE follows its HELP')
      assert.ok(['counter', 'gauge', 'histogram'].includes(type), type)
      current.type = type
      continue
    }
    assert.ok(!line.startsWith('#'), `unknown comment: ${line}`)
    const m = SAMPLE.exec(line)
    assert.ok(m, `sample line: ${line}`)
    const [, name, , labelText, valueText] = m
    const labels = {}
    if (labelText !== undefined && labelText !== '') {
      LABEL.lastIndex = 0
      while (LABEL.lastIndex < labelText.length) {
        const l = LABEL.exec(labelText)
        assert.ok(l, `labels: ${labelText}`)
        labels[l[1]] = l[2]
      }
    }
    const value = valueText === '+Inf' ? Infinity : Number(valueText)
    assert.ok(!Number.isNaN(value), `value: ${line}`)
    const base = current && (name === current.name || (current.type === 'histogram' && /_(bucket|sum|count)$/.test(name) && name.replace(/_(bucket|sum|count)$/, '') === current.name))
    assert.ok(base, `sample ${name} belongs to the family before it (${current && current.name})`)
    current.samples.push({ name, labels, value })
  }
  for (const f of families.values()) {
    assert.ok(f.type, `${f.name} has a TYPE`)
    assert.ok(f.name.startsWith('clerk_native_'), f.name)
    if (f.type === 'counter') assert.ok(f.name.endsWith('_total'), `counter ${f.name} ends with _total`)
    if (f.type === 'histogram') {
      const buckets = f.samples.filter((s) => s.name.endsWith('_bucket'))
      for (let i = 1; i < buckets.length; i++) assert.ok(buckets[i].value >= buckets[i - 1].value, `${f.name} buckets are cumulative`)
      assert.equal(buckets.at(-1).labels.le, '+Inf')
      assert.equal(buckets.at(-1).value, f.samples.find((s) => s.name.endsWith('_count')).value)
    }
  }
  return families
}

const value = (families, name, labels = {}) => {
  const f = families.get(name)
  assert.ok(f, `family ${name}`)
  const s = f.samples.find((x) => x.name === name && Object.entries(labels).every(([k, v]) => x.labels[k] === v))
  return s ? s.value : 0
}

describe('metrics()', () => {
  let up, bapi
  before(async () => {
    up = await withTimeout(startUpstream(), 5000, 'start upstream')
    bapi = await T.startBackendApi()
  })
  after(async () => {
    await up?.close()
    await bapi?.close()
  })

  it('is a valid Prometheus 0.0.4 exposition with every family an operator watches', () => {
    const families = parseExposition(core.metrics())
    for (const name of [
      'clerk_native_proxy_requests_total',
      'clerk_native_proxy_upstream_duration_seconds',
      'clerk_native_verifications_total',
      'clerk_native_backend_api_duration_seconds',
      'clerk_native_shared_call_duration_seconds',
      'clerk_native_cache_hits_total',
      'clerk_native_cache_misses_total',
      'clerk_native_cache_inserts_total',
      'clerk_native_cache_evictions_total',
      'clerk_native_cache_size',
      'clerk_native_cache_capacity',
      'clerk_native_shared_enabled',
      'clerk_native_jwks_fetches_total',
      'clerk_native_jwks_failures_total',
    ]) {
      assert.ok(families.has(name), name)
    }
    for (const cache of ['negative', 'verified', 'identity', 'jwks']) {
      assert.ok(families.get('clerk_native_cache_size').samples.some((s) => s.labels.cache === cache && s.labels.tier === 'local'), cache)
    }
  })

  it('counts proxied requests by outcome and status, with the upstream latency', async () => {
    const before = parseExposition(core.metrics())
    const res = await withTimeout(core.clerkFrontendApiProxy(new Request('https://example.com/__clerk/v1/client'), { publishableKey: PK, secretKey: 'sk_test_m', fapiUrl: up.url }))
    await res.arrayBuffer()
    const after = parseExposition(core.metrics())
    const key = ['clerk_native_proxy_requests_total', { outcome: 'upstream', status: String(res.status) }]
    assert.equal(value(after, ...key) - value(before, ...key), 1)
    const count = 'clerk_native_proxy_upstream_duration_seconds_count'
    const c = (f) => f.get('clerk_native_proxy_upstream_duration_seconds').samples.find((s) => s.name === count).value
    assert.equal(c(after) - c(before), 1)
  })

  it('counts verification outcomes by reason, Backend API calls and cache counters per cache', async () => {
    const key = T.rsaKey()
    const options = { jwtKey: key.publicPem, secretKey: 'sk_test_metrics', apiUrl: bapi.url, acceptsToken: 'any' }
    const req = (t) => ({ url: 'http://localhost/', headers: { authorization: `Bearer ${t}` } })
    const before = parseExposition(core.metrics())
    const good = T.signJwt(key, T.sessionClaims())
    const expired = T.signJwt(key, T.sessionClaims({ exp: T.nowSec() - 3600, iat: T.nowSec() - 7200, nbf: T.nowSec() - 7200 }))
    assert.equal((await core.authenticateRequest(req(good), options)).status, 'signed-in')
    assert.equal((await core.authenticateRequest(req(good), options)).status, 'signed-in')
    assert.equal((await core.authenticateRequest(req(expired), options)).status, 'signed-out')
    const oat = `oat_metrics_${T.unique()}`
    assert.equal((await core.authenticateRequest(req(oat), options)).reason, 'token-invalid')
    assert.equal((await core.authenticateRequest(req(oat), options)).reason, 'token-invalid')
    const after = parseExposition(core.metrics())
    const diff = (name, labels) => value(after, name, labels) - value(before, name, labels)
    assert.equal(diff('clerk_native_verifications_total', { result: 'signed_in', reason: 'session_token' }), 2)
    assert.equal(diff('clerk_native_verifications_total', { result: 'signed_out', reason: 'token-invalid' }), 2)
    assert.ok(diff('clerk_native_verifications_total', { result: 'signed_out' }) >= 1)
    const bapiCount = (f) => f.get('clerk_native_backend_api_duration_seconds').samples.find((s) => s.name.endsWith('_count')).value
    assert.equal(bapiCount(after) - bapiCount(before), 1, 'one Backend API call: the repeat came from the negative cache')
    assert.equal(diff('clerk_native_cache_hits_total', { cache: 'negative', tier: 'local' }), 1)
    assert.ok(diff('clerk_native_cache_hits_total', { cache: 'verified', tier: 'local' }) >= 1)
    const stats = core.cacheStats()
    assert.equal(value(after, 'clerk_native_cache_size', { cache: 'negative', tier: 'local' }), stats.negative.size)
    assert.equal(value(after, 'clerk_native_shared_enabled'), 0)
  })

  it('joins another registry\'s text (e.g. prom-client) with a newline and stays one valid exposition', () => {
    const promClientLike = '# HELP process_cpu_seconds_total Total CPU.\n# TYPE process_cpu_seconds_total counter\nprocess_cpu_seconds_total 1.5\n'
    const joined = `${promClientLike}\n${core.metrics()}`
    const names = joined.split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2])
    assert.equal(new Set(names).size, names.length, 'no family name twice')
    assert.ok(names.every((n) => n === 'process_cpu_seconds_total' || n.startsWith('clerk_native_')))
  })
})
