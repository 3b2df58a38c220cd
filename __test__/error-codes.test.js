'use strict'
// Error codes end to end: the code unions of the public `.d.ts` files are exactly the codes Rust can produce
// (`binding.errorCodes()`, built from the core enums' code lists), and errors the binding throws carry `err.code`.

const { test, describe } = require('node:test')
const assert = require('node:assert/strict')
const fs = require('node:fs')
const path = require('node:path')

const { authenticateRequest, configureCaches } = require('..')
const binding = require('../binding.js')

/** The error `fn` throws (fails the test when it throws nothing). */
function bad(fn) {
  try {
    fn()
  } catch (err) {
    return err
  }
  assert.fail('expected a throw')
}

const ROOT = path.join(__dirname, '..')
const read = (file) => fs.readFileSync(path.join(ROOT, file), 'utf8')

/** `export type Name = 'a' | 'b' | Other` unions of a .d.ts text: name -> members (string literals or type names). */
function unions(text) {
  const out = new Map()
  const re = /^export type (\w+) =\s*((?:\s*\|?\s*(?:'[^']*'|[A-Z]\w*))+)\s*$/gm
  for (const m of text.matchAll(re)) {
    const members = [...m[2].matchAll(/'([^']*)'|([A-Z]\w*)/g)].map((x) => (x[1] !== undefined ? { code: x[1] } : { ref: x[2] }))
    out.set(m[1], members)
  }
  return out
}

/** The string codes of union `name`, references to other unions of the same file expanded. */
function codesOf(all, name, seen = new Set()) {
  const members = all.get(name)
  assert.ok(members, `union ${name} is declared`)
  assert.ok(!seen.has(name), `union ${name} does not refer to itself`)
  seen.add(name)
  return members.flatMap((m) => (m.code !== undefined ? [m.code] : codesOf(all, m.ref, seen)))
}

const sorted = (list) => [...list].sort()

describe('error codes', () => {
  const codes = binding.errorCodes()
  const index = unions(read('index.d.ts'))

  // union in index.d.ts -> the Rust list it must equal
  const PAIRS = {
    ProxyErrorCode: codes.proxy,
    ProxyBodyErrorCode: codes.proxyBody,
    TokenVerificationErrorReason: codes.tokenVerification,
    MachineErrorCode: codes.machine,
    IdentityErrorCode: codes.identity,
    CacheErrorCode: codes.cache,
    NativeErrorCode: codes.thrown,
  }

  test('every code union of index.d.ts equals the codes Rust can produce', () => {
    for (const [name, rust] of Object.entries(PAIRS)) {
      assert.ok(Array.isArray(rust) && rust.length > 0, `errorCodes() lists ${name}`)
      const declared = codesOf(index, name)
      assert.equal(new Set(declared).size, declared.length, `${name} lists each code once`)
      assert.deepEqual(sorted(declared), sorted(rust), `${name} in index.d.ts vs Rust`)
    }
  })

  test('express.d.ts and next.d.ts re-export the unions instead of copying them', () => {
    for (const file of ['express.d.ts', 'next.d.ts']) {
      const text = read(file)
      for (const name of Object.keys(PAIRS)) {
        assert.ok(!unions(text).has(name), `${file} declares no copy of ${name}`)
      }
      for (const name of ['IdentityErrorCode', 'ProxyErrorCode', 'ProxyBodyErrorCode', 'TokenVerificationErrorReason']) {
        assert.match(text, new RegExp(`export type \\{[^}]*\\b${name}\\b[^}]*\\} from '\\./index'`), `${file} re-exports ${name}`)
      }
    }
  })

  test('the proxy error body and ProxyBodyError use the unions', () => {
    const text = read('index.d.ts')
    assert.match(text, /code: ProxyErrorCode/)
    assert.match(text, /readonly code: ProxyBodyErrorCode/)
    assert.match(text, /readonly reason: TokenVerificationErrorReason/)
  })

  test('cache controls throw with the core code', () => {
    assert.equal(bad(() => binding.clearCaches('nope')).code, 'unknown_cache')
    assert.equal(bad(() => binding.configureCachesJson('{"negative":{"capacity":0}}')).code, 'invalid_cache_option')
    assert.equal(bad(() => binding.configureCachesJson('{"nope":{}}')).code, 'invalid_cache_option')
    // Passes the JS type checks, refused by Rust (above the maximum capacity): still a TypeError, now with a code.
    const err = bad(() => configureCaches({ negative: { capacity: 10_000_001 } }))
    assert.ok(err instanceof TypeError)
    assert.equal(err.code, 'invalid_cache_option')
  })

  test('claims and JSON arguments throw with a code', () => {
    assert.equal(bad(() => binding.sessionAuthObject('[]')).code, 'invalid_claims')
    assert.equal(bad(() => binding.identityGet('nope', null)).code, 'invalid_claims')
    assert.equal(bad(() => binding.identitySet('{"sub":"user_1"}', null, '{')).code, 'invalid_json')
  })

  test('an unknown acceptsToken value rejects with invalid_accepts_token', async () => {
    const req = { headers: { authorization: 'Bearer x' } }
    const err = await authenticateRequest(req, { secretKey: 'sk_test_x', acceptsToken: 'bogus_token' }).then(
      () => assert.fail('expected a rejection'),
      (e) => e,
    )
    assert.equal(err.code, 'invalid_accepts_token')
    assert.match(String(err.message), /acceptsToken/)
  })
})
