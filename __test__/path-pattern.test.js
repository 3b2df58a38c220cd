'use strict'
// lib/path-pattern.js against Clerk's own path matching (@clerk/shared 4.41.0: createPathMatcher, pathToRegexp,
// match): the same patterns must compile to the same regexp, accept/refuse the same paths, extract the same params
// and refuse the same invalid patterns and malformed encodings.

const { describe, it } = require('node:test')
const assert = require('node:assert/strict')
const { compilePathPatterns, matchPath, pathToRegExp, normalizePath, MalformedURLError } = require('../lib/path-pattern')
const clerkMatcher = require('@clerk/shared/pathMatcher')
const clerkP2R = require('@clerk/shared/pathToRegexp')

const PATTERNS = [
  '/', '', '/dashboard', '/dashboard(.*)', '/dashboard/(.*)', '/dashboard/:path*', '/dashboard/:path+', '/api(.*)',
  '/sign-in(.*)', '/sign-up(.*)', '/users/:id', '/users/:id?', '/users/:id(\\d+)', '/org/:slug/settings',
  '/orgs/:slug', '/orgs/:slug/(.*)', '/me', '/me/(.*)', '/files/:name.:ext', '/files/:name.:ext?', '/a{/:b}?',
  '/a{-:b}*', '/a{-:b}+', '/:foo/:bar', '/(admin|staff)(.*)', '/(.*)', '(.*)', '/trpc(.*)', '/x\\:y', '/A/B',
  '/café', '/api/:v(v\\d)/items', '/docs{/:rest}?', '/blog/:year(\\d{4})-:month(\\d{2})', '/static/(.*).png',
  '/:locale(en|de)?/account', '/a/:b-:c', '/a)', '/a/:b@:c', '/#x', '/q\\?', '/p/:id+/edit', '/x/:y*', '/api/:rest*',
  /^\/regex\/\d+$/, /^\/Case$/, /\/(?<named>foo)\/(bar)/,
  ['/one', '/two/(.*)'], ['/r', /^\/rx/], [['/deep', '/er/:x']],
]
const BAD_PATTERNS = [
  '/foo*', '/q?', '/docs{/*}?', '/:', '/(?foo)', '/((x))', '/(', '/()', '/:a:b', '/{/x', '/a(b', ':a*', '/a{:b:c}',
]
const PATHS = [
  '/', '', '/dashboard', '/dashboard/', '/Dashboard', '/dashboard/x', '/dashboard/x/y', '/dashboardx', '//dashboard',
  '/dashboard//x', '/api', '/api/', '/api/v1/users', '/apix', '/sign-in', '/sign-in/factor-one', '/users/42',
  '/users/abc', '/users/', '/users', '/users/42/', '/org/acme/settings', '/orgs/acme', '/orgs/acme/members',
  '/me', '/me/', '/me/x', '/files/a.txt', '/files/a', '/files/a.b.c', '/a', '/a/b', '/a-b', '/a-b-c', '/x/y',
  '/admin', '/admin/x', '/staff/y', '/trpc/user.get', '/x:y', '/a/b/', '/caf%C3%A9', '/café', '/api/v2/items',
  '/api/vx/items', '/docs', '/docs/', '/blog/2024-05', '/static/a/b.png', '/en/account', '/account', '/fr/account',
  '/a/b-c', '/a/b@c', '/#x', '/q', '/p/1/edit', '/p/1/2/edit', '/regex/12', '/case', '/foo/bar', '/one', '/two/x',
  '/r', '/rx/y', '/deep', '/er/1', '/dashboard%2Fx', '/dashboard/%2e%2e/admin', '/%64ashboard', '/d%61shboard/x',
  '/%E0%A4%A', '/%', '/users/%ZZ', '/x/y/z', '/api/a/b/c',
]

describe('compilePathPatterns = Clerk createPathMatcher', () => {
  for (const pattern of PATTERNS) {
    it(`${pattern instanceof RegExp ? pattern : JSON.stringify(pattern)}`, () => {
      const ours = compilePathPatterns(pattern)
      const theirs = clerkMatcher.createPathMatcher(pattern)
      for (const path of PATHS) {
        let a, b
        try { a = ours(path) } catch (e) { a = `throw ${e.name} ${e.statusCode} ${e.message}` }
        try { b = theirs(path) } catch (e) { b = `throw ${e.name} ${e.statusCode} ${e.message}` }
        assert.equal(a, b, `pattern ${pattern} path ${path}`)
      }
    })
  }
  it('a list of patterns, falsy entries skipped, nothing matches nothing', () => {
    for (const patterns of [PATTERNS.filter((p) => !Array.isArray(p)), [null, '', '/me'], [], null, undefined, '']) {
      const ours = compilePathPatterns(patterns)
      const theirs = clerkMatcher.createPathMatcher(patterns)
      for (const path of PATHS.filter((p) => !p.includes('%E0') && p !== '/%' && !p.includes('%ZZ'))) {
        assert.equal(ours(path), theirs(path), `${path}`)
      }
    }
  })
})

describe('pathToRegExp = Clerk pathToRegexp (same regexp source and flags)', () => {
  for (const pattern of PATTERNS) {
    it(String(pattern), () => {
      const ours = pathToRegExp(pattern)
      const theirs = clerkP2R.pathToRegexp(pattern)
      assert.equal(ours.source, theirs.source)
      assert.equal(ours.flags, theirs.flags)
    })
  }
  for (const pattern of BAD_PATTERNS) {
    it(`refuses ${pattern} with Clerk's message`, () => {
      let theirs
      try { clerkP2R.pathToRegexp(pattern); theirs = 'ok' } catch (e) { theirs = e.message }
      let ours
      try { pathToRegExp(pattern); ours = 'ok' } catch (e) { ours = e.message }
      assert.equal(ours, theirs)
      assert.notEqual(ours, 'ok', `${pattern} should be refused`)
      assert.throws(() => compilePathPatterns(pattern), { message: theirs })
    })
  }
})

describe('generated patterns (seeded): same regexp or same refusal, same answers', () => {
  const PIECES = ['/', 'a', 'B', '-', '.', ':id', ':x', '(.*)', '(\\d+)', '?', '*', '+', '{', '}', '{/:p}?', '\\.', '(a|b)', '/:s+', '@']
  let seed = 1234567
  const rand = (n) => { seed = (seed * 1103515245 + 12345) % 2147483648; return seed % n }
  it('2000 patterns', () => {
    let compiled = 0
    for (let n = 0; n < 2000; n++) {
      let pattern = '/'
      for (let k = rand(6) + 1; k > 0; k--) pattern += PIECES[rand(PIECES.length)]
      let theirs, ours
      try { theirs = clerkP2R.pathToRegexp(pattern) } catch (e) { theirs = e.message }
      try { ours = pathToRegExp(pattern) } catch (e) { ours = e.message }
      if (typeof theirs === 'string') { assert.equal(ours, theirs, pattern); continue }
      compiled++
      assert.equal(ours.source, theirs.source, pattern)
      const a = compilePathPatterns(pattern)
      const b = clerkMatcher.createPathMatcher(pattern)
      for (const path of ['/a', '/a/b', '/1', '/a-1', '/a.b', '/B/x', '/a/1/2', '/@', '//a']) assert.equal(a(path), b(path), `${pattern} ${path}`)
    }
    assert.ok(compiled > 200, `only ${compiled} valid patterns generated`)
  })
})

describe('matchPath = Clerk match', () => {
  const ORG = ['/orgs/:slug', '/orgs/:slug/(.*)', '/orgs/:id', '/me', '/me/(.*)', ['/orgs/:slug', '/orgs/:slug/(.*)'],
    '/x/:rest*', '/x/:rest+', '/a{-:b}*', /\/(?<named>foo)\/(bar)/, '/files/:name.:ext?']
  for (const pattern of ORG) {
    it(String(pattern), () => {
      const theirs = clerkP2R.match(pattern)
      for (const path of [...PATHS, '/orgs/acme', '/orgs/ACME/x', '/x/a/b/c', '/x', '/a-1-2', '/foo/bar']) {
        const a = matchPath(pattern, path)
        const b = theirs(path)
        if (b === false) assert.equal(a, null, `${pattern} ${path}`)
        else assert.deepEqual({ ...a, params: { ...a.params } }, { ...b, params: { ...b.params } }, `${pattern} ${path}`)
      }
    })
  }
  it('invalid pattern: Clerk message', () => {
    let theirs
    try { clerkP2R.match('/:') } catch (e) { theirs = e.message }
    assert.throws(() => matchPath('/:', '/x'), { message: theirs })
  })
})

describe('normalizePath', () => {
  it('decodeURI then collapses slashes; bad encoding is a 400 MalformedURLError', () => {
    assert.equal(normalizePath('//a///b%20c%2F'), '/a/b c%2F')
    assert.throws(() => normalizePath('/%E0%A4%A'), (e) => e instanceof MalformedURLError && e.statusCode === 400 && e.name === 'MalformedURLError')
    assert.equal(clerkMatcher.isMalformedURLError(new MalformedURLError('/x')), true)
  })
})
