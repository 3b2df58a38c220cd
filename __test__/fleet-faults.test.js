'use strict'
// The shared tier in one process against a misbehaving Redis: a server answering garbage, a slow one, a refused
// port, a TLS URL against a plain server, and bad settings. None of it may turn into an authentication error, a
// rejected promise or a crash; cacheStats().shared reports it. (Pausing and restarting a real redis-server under
// load across four processes is in fleet.test.js.)

const { describe, it, before, after, afterEach } = require('node:test')
const assert = require('node:assert/strict')
const net = require('node:net')
const tls = require('node:tls')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')
const { spawn, spawnSync, execFile } = require('node:child_process')

const core = require('..')
const T = require('./helpers/tokens')
const { startRedis, hasRedis, freePort } = require('./helpers/redis')

const req = (t) => ({ url: 'http://localhost/', headers: { authorization: `Bearer ${t}` } })

/** A TCP server that answers every write with `reply(data)` (after `delayMs`), or proxies to `target`. */
async function startFake({ reply, delayMs = 0, target } = {}) {
  const sockets = new Set()
  const server = net.createServer((s) => {
    sockets.add(s)
    s.on('close', () => sockets.delete(s))
    s.on('error', () => {})
    if (target) {
      const upstream = net.connect(target, '127.0.0.1')
      upstream.on('error', () => s.destroy())
      s.on('data', (d) => setTimeout(() => upstream.write(d), delayMs))
      upstream.on('data', (d) => setTimeout(() => s.writable && s.write(d), delayMs))
      return
    }
    s.on('data', (d) => setTimeout(() => s.writable && s.write(reply(d)), delayMs))
  })
  const port = await new Promise((r) => server.listen(0, '127.0.0.1', () => r(server.address().port)))
  return { port, close: () => new Promise((r) => (sockets.forEach((s) => s.destroy()), server.close(() => r()))) }
}

describe('shared tier faults (one process)', () => {
  let bapi, key
  const options = () => ({ secretKey: 'sk_test_faults', apiUrl: bapi.url, jwtKey: key.publicPem, acceptsToken: 'any' })
  before(async () => {
    bapi = await T.startBackendApi()
    key = T.rsaKey()
  })
  after(() => bapi?.close())
  afterEach(() => core.configureCaches({ shared: null }))

  /** Authentications that must behave exactly as without a tier: a valid session, a valid and an invalid oat_. */
  async function authenticateAll(tag, n = 6) {
    for (let i = 0; i < n; i++) {
      const oat = `oat_faults_${tag}_${i}_${T.unique()}`
      const good = `oat_faults_good_${tag}_${i}_${T.unique()}`
      bapi.answer(good, { status: 200, body: { id: 'oat_id', subject: 'user_1', scopes: [], client_id: 'c' } })
      const session = T.signJwt(key, T.sessionClaims({ sub: `user_faults_${i}` }))
      assert.equal((await core.authenticateRequest(req(oat), options())).reason, 'token-invalid')
      assert.equal((await core.authenticateRequest(req(good), options())).status, 'signed-in')
      assert.equal((await core.authenticateRequest(req(session), options())).status, 'signed-in')
    }
  }

  it('a server answering garbage: no auth error, no crash, errors counted', async () => {
    for (const reply of [() => Buffer.from('HTTP/1.1 200 OK\r\n\r\nnot redis'), () => Buffer.from('*-9\r\n$x\r\n+\u0000\r\n'), (d) => d]) {
      const fake = await startFake({ reply })
      core.configureCaches({ shared: { url: `redis://127.0.0.1:${fake.port}`, lookupTimeoutMs: 20 } })
      await authenticateAll('garbage')
      const s = core.cacheStats().shared
      assert.ok(s.errors + s.timeouts + s.skipped > 0, JSON.stringify(s))
      assert.equal(s.hits, 0)
      core.configureCaches({ shared: null })
      await fake.close()
    }
  })

  it('a refused port and a TLS URL against a plain server: the request goes on with local state', async () => {
    const port = await freePort()
    core.configureCaches({ shared: { url: `redis://127.0.0.1:${port}`, lookupTimeoutMs: 20 } })
    await authenticateAll('refused')
    assert.equal(core.cacheStats().shared.connected, false)
    const plain = await startFake({ reply: () => Buffer.from('+OK\r\n') })
    core.configureCaches({ shared: { url: `rediss://127.0.0.1:${plain.port}`, lookupTimeoutMs: 20 } })
    await authenticateAll('tls')
    assert.equal(core.cacheStats().shared.hits, 0)
    await plain.close()
  })

  it('a slow Redis: each lookup is cut at lookupTimeoutMs and the breaker opens', { skip: hasRedis() ? false : 'no redis-server' }, async () => {
    const redis = await startRedis()
    const slow = await startFake({ target: redis.port, delayMs: 60 })
    try {
      core.configureCaches({ shared: { url: `redis://127.0.0.1:${slow.port}`, lookupTimeoutMs: 5 } })
      const oat = `oat_faults_slow_${T.unique()}`
      const started = performance.now()
      for (let i = 0; i < 8; i++) {
        core.clearCaches('negative')
        assert.equal((await core.authenticateRequest(req(oat), options())).reason, 'token-invalid')
      }
      const perRequest = (performance.now() - started) / 8
      const s = core.cacheStats().shared
      assert.ok(s.timeouts >= 1, JSON.stringify(s))
      assert.ok(s.breakerOpens >= 1 && s.skipped >= 1, JSON.stringify(s))
      console.log(`# slow Redis (60 ms per hop, budget 5 ms): ${perRequest.toFixed(1)} ms per request including the Backend API call; ${JSON.stringify(s)}`)
    } finally {
      core.configureCaches({ shared: null })
      await slow.close()
      await redis.close()
    }
  })

  it('rediss:// with a password and a database number, over rustls', { skip: hasRedis() && spawnSync('openssl', ['version']).status === 0 ? false : 'needs redis-server and openssl' }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clerk-native-tls-'))
    const run = (...args) => assert.equal(spawnSync('openssl', args, { cwd: dir }).status, 0, args.join(' '))
    run('req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=clerk-native test CA')
    run('req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'srv.key', '-out', 'srv.csr', '-subj', '/CN=127.0.0.1')
    fs.writeFileSync(path.join(dir, 'ext.cnf'), 'subjectAltName=IP:127.0.0.1\n')
    run('x509', '-req', '-in', 'srv.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'srv.pem', '-days', '2', '-extfile', 'ext.cnf')
    const port = await freePort()
    const server = spawn('redis-server', ['--port', '0', '--tls-port', String(port), '--bind', '127.0.0.1', '--tls-cert-file', 'srv.pem', '--tls-key-file', 'srv.key', '--tls-ca-cert-file', 'ca.pem', '--tls-auth-clients', 'no', '--requirepass', 'tls-pw', '--save', '', '--appendonly', 'no'], { cwd: dir, stdio: 'ignore' })
    try {
      await T.within(
        (async () => {
          for (;;) {
            const ok = await new Promise((resolve) => {
              const c = tls.connect({ port, host: '127.0.0.1', ca: fs.readFileSync(path.join(dir, 'ca.pem')) }, () => (c.end(), resolve(true)))
              c.on('error', () => resolve(false))
            })
            if (ok) return
            await T.sleep(50)
          }
        })(),
        10000,
        'TLS redis-server up',
      )
      // In a child process whose trust store is the test CA (rustls-native-certs reads SSL_CERT_FILE).
      const script = `
        const cn = require(${JSON.stringify(path.join(__dirname, '..'))})
        cn.configureCaches({ negative: { ttlMs: 60000 }, shared: { url: 'rediss://:tls-pw@127.0.0.1:${port}/3', lookupTimeoutMs: 1000 } })
        const opts = { secretKey: 'sk_test_tls', apiUrl: ${JSON.stringify(bapi.url)}, acceptsToken: 'any' }
        const req = (t) => ({ url: 'http://x/', headers: { authorization: 'Bearer ' + t } })
        ;(async () => {
          const s = await cn.authenticateRequest(req('oat_tls_${T.unique()}'), opts)
          await new Promise((r) => setTimeout(r, 300))
          console.log(JSON.stringify({ reason: s.reason, shared: cn.cacheStats().shared }))
          process.exit(0)
        })()`
      const out = await new Promise((resolve, reject) =>
        execFile(process.execPath, ['-e', script], { env: { ...process.env, SSL_CERT_FILE: path.join(dir, 'ca.pem') }, timeout: 20000 }, (err, stdout) => (err ? reject(err) : resolve(stdout))),
      )
      const r = JSON.parse(out.trim().split('\n').pop())
      assert.equal(r.reason, 'token-invalid')
      assert.equal(r.shared.writes, 1, JSON.stringify(r.shared))
      assert.equal(r.shared.errors, 0)
      assert.equal(r.shared.subscribed, true)
      const keys = spawnSync('redis-cli', ['--tls', '--cacert', 'ca.pem', '-p', String(port), '-a', 'tls-pw', '--no-auth-warning', '-n', '3', '--scan'], { cwd: dir, encoding: 'utf8' }).stdout
      assert.match(keys, /clerk-native:neg:[0-9a-f]{64}/, 'written to database 3 over TLS')
    } finally {
      server.kill('SIGKILL')
      fs.rmSync(dir, { recursive: true, force: true })
    }
  })

  it('bad settings are refused before anything changes, naming the option, never the password', () => {
    const bad = (shared) => {
      try {
        core.configureCaches({ shared })
      } catch (err) {
        return err
      }
      assert.fail('expected a throw')
    }
    let e = bad({ url: 'http://:hunter2@127.0.0.1' })
    assert.equal(e.code, 'invalid_cache_option')
    assert.match(e.message, /shared\.url must start with redis:\/\/ or rediss:\/\//)
    assert.ok(!e.message.includes('hunter2'))
    e = bad({ url: 'redis://:hunter2@[::1' })
    assert.ok(!e.message.includes('hunter2'), e.message)
    assert.match(bad({ url: 'redis://127.0.0.1', lookupTimeoutMs: 0 }).message, /shared\.lookupTimeoutMs must be a positive integer/)
    assert.match(bad({ url: 'redis://127.0.0.1', nope: 1 }).message, /unknown option shared\.nope/)
    assert.match(bad({ keyPrefix: 'x' }).message, /shared\.url is required/)
    assert.match(bad('redis://x').message, /shared must be/)
    assert.equal(core.cacheStats().shared, undefined, 'still off')
    assert.throws(() => core.configureCaches({ negative: { capacity: 0 }, shared: { url: 'redis://127.0.0.1:1' } }))
    assert.equal(core.cacheStats().shared, undefined, 'all or nothing')
    core.configureCaches({ shared: { url: 'redis://user:pw@127.0.0.1:1/15', keyPrefix: 'app1:', lookupTimeoutMs: 3, lockLeaseMs: 500 } })
    assert.equal(core.cacheStats().shared.lookupTimeoutMs, 3)
    core.configureCaches({ shared: null })
    assert.ok(!('shared' in core.cacheStats()), 'the shape of API.md §3 again')
  })
})
