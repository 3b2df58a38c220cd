'use strict'
// A real redis-server (Debian's package) for the shared-tier tests, on 127.0.0.1 and a free port, with no
// persistence (`--save '' --appendonly no`), plus a minimal RESP client to inspect it.
//
//   const { startRedis, hasRedis } = require('./helpers/redis')
//   const redis = await startRedis({ password: 'pw' })   // { url, port, pid, command(...), scanAll(), pause(),
//                                                        //   resume(), stop(), restart(), close() }

const { spawn, spawnSync } = require('node:child_process')
const net = require('node:net')
const fs = require('node:fs')
const os = require('node:os')
const path = require('node:path')

const REDIS_SERVER = process.env.REDIS_SERVER || '/usr/bin/redis-server'

/** Whether redis-server can be run here (tests skip with a reason when not). */
function hasRedis() {
  return fs.existsSync(REDIS_SERVER) && spawnSync(REDIS_SERVER, ['--version']).status === 0
}

function freePort() {
  return new Promise((resolve, reject) => {
    const s = net.createServer()
    s.once('error', reject)
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address()
      s.close(() => resolve(port))
    })
  })
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

/** Encodes one command in RESP. */
function encode(args) {
  let out = `*${args.length}\r\n`
  for (const a of args) {
    const b = Buffer.from(String(a))
    out += `$${b.length}\r\n${b.toString('latin1')}\r\n`
  }
  return Buffer.from(out, 'latin1')
}

/** Parses one RESP2 reply at `buf[i]`: `[value, next]`, or null when more bytes are needed. */
function parse(buf, i) {
  if (i >= buf.length) return null
  const eol = buf.indexOf('\r\n', i)
  if (eol < 0) return null
  const type = String.fromCharCode(buf[i])
  const line = buf.toString('utf8', i + 1, eol)
  const next = eol + 2
  if (type === '+') return [line, next]
  if (type === '-') return [new Error(line), next]
  if (type === ':') return [Number(line), next]
  if (type === '$') {
    const n = Number(line)
    if (n < 0) return [null, next]
    if (buf.length < next + n + 2) return null
    return [buf.toString('utf8', next, next + n), next + n + 2]
  }
  if (type === '*') {
    const n = Number(line)
    if (n < 0) return [null, next]
    const out = []
    let at = next
    for (let k = 0; k < n; k++) {
      const r = parse(buf, at)
      if (r === null) return null
      out.push(r[0])
      at = r[1]
    }
    return [out, at]
  }
  throw new Error(`unexpected RESP type ${type}`)
}

/** A tiny Redis client: `command(...args)` resolves to the reply (errors reject). */
async function connect(port, password) {
  const socket = net.connect(port, '127.0.0.1')
  await new Promise((resolve, reject) => {
    socket.once('connect', resolve)
    socket.once('error', reject)
  })
  let buf = Buffer.alloc(0)
  const waiting = []
  const pushed = []
  socket.on('data', (d) => {
    buf = Buffer.concat([buf, d])
    for (;;) {
      const r = parse(buf, 0)
      if (r === null) break
      buf = buf.subarray(r[1])
      // Pub/sub messages arrive unasked: they go to `pushed`.
      const isPush = Array.isArray(r[0]) && (r[0][0] === 'message' || r[0][0] === 'pmessage')
      const w = isPush ? undefined : waiting.shift()
      if (w) (r[0] instanceof Error ? w.reject : w.resolve)(r[0])
      else pushed.push(r[0])
    }
  })
  socket.on('error', (err) => {
    for (const w of waiting.splice(0)) w.reject(err)
  })
  const command = (...args) =>
    new Promise((resolve, reject) => {
      waiting.push({ resolve, reject })
      socket.write(encode(args))
    })
  if (password) await command('AUTH', password)
  return { command, pushed, close: () => socket.destroy() }
}

/**
 * Starts redis-server on 127.0.0.1 and a free port (or `port`). `password` adds `--requirepass`.
 * `stop()` kills it (SIGKILL), `restart()` starts it again on the same port (empty: no persistence),
 * `pause()`/`resume()` send SIGSTOP/SIGCONT.
 */
async function startRedis({ password, port } = {}) {
  port = port || (await freePort())
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'clerk-native-redis-'))
  let child = null
  let client = null
  const args = () => ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no', '--dir', dir, ...(password ? ['--requirepass', password] : [])]
  async function start() {
    child = spawn(REDIS_SERVER, args(), { stdio: ['ignore', 'ignore', 'pipe'] })
    let stderr = ''
    child.stderr.on('data', (d) => (stderr += d))
    for (let i = 0; i < 200; i++) {
      try {
        const c = await connect(port, password)
        await c.command('PING')
        client = c
        return
      } catch {
        if (child.exitCode !== null) throw new Error(`redis-server exited: ${stderr}`)
        await sleep(25)
      }
    }
    throw new Error('redis-server did not start')
  }
  async function stop() {
    if (client) client.close()
    client = null
    if (child && child.exitCode === null && child.signalCode === null) {
      const exited = new Promise((r) => child.once('exit', r))
      child.kill('SIGCONT')
      child.kill('SIGKILL')
      await exited
    }
  }
  await start()
  const auth = password ? `:${encodeURIComponent(password)}@` : ''
  return {
    port,
    url: `redis://${auth}127.0.0.1:${port}`,
    get pid() {
      return child.pid
    },
    command: (...a) => client.command(...a),
    /** Every key with its type and value(s): `[{ key, type, values: string[] }]`. */
    async scanAll() {
      const out = []
      let cursor = '0'
      do {
        const [next, keys] = await client.command('SCAN', cursor, 'COUNT', 1000)
        cursor = next
        for (const key of keys) {
          const type = await client.command('TYPE', key)
          let values = []
          if (type === 'string') values = [await client.command('GET', key)]
          else if (type === 'set') values = await client.command('SMEMBERS', key)
          out.push({ key, type, values })
        }
      } while (cursor !== '0')
      return out
    },
    pause: () => child.kill('SIGSTOP'),
    resume: () => child.kill('SIGCONT'),
    stop,
    restart: async () => {
      await stop()
      await start()
    },
    close: async () => {
      await stop()
      fs.rmSync(dir, { recursive: true, force: true })
    },
  }
}

module.exports = { startRedis, hasRedis, connect, freePort }
