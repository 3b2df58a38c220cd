'use strict'
// Clerk's path matching: the path-to-regexp 6.x dialect bundled in @clerk/shared 4.41.0
// (`pathToRegexp`, `match`, `createPathMatcher`), with its default options only: prefixes "./",
// delimiters "/#?", case-insensitive, non-strict (an optional trailing delimiter), anchored at both ends.
//
// Patterns: `/static`, named parameters `/:id`, custom patterns `/:id(\\d+)` or `/(.*)`, modifiers `?`, `*`, `+`
// after a parameter, groups `{/prefix:name/suffix}?`, backslash escapes. Capturing groups inside a custom
// pattern are refused, as are patterns that path-to-regexp 6 refuses, with its messages.
//
// Used by clerk-native/next `createRouteMatcher` and by `organizationSyncOptions` (matchPath).

const PREFIXES = './'
const DELIMITER = '/#?'
const FLAGS = 'i'

/** Escapes every regexp-special character of a literal. */
function escapeRe(text) {
  return text.replace(/[.+*?=^!:${}()[\]|/\\]/g, '\\$&')
}

const DELIMITER_CLASS = `[${escapeRe(DELIMITER)}]`
const DEFAULT_SEGMENT = `[^${escapeRe(DELIMITER)}]+?`

function isNameChar(code) {
  return (code >= 48 && code <= 57) || (code >= 65 && code <= 90) || (code >= 97 && code <= 122) || code === 95
}

/** Splits a pattern into tokens: CHAR, ESCAPED_CHAR, MODIFIER, OPEN, CLOSE, NAME, PATTERN, END. */
function lex(source) {
  const tokens = []
  let i = 0
  while (i < source.length) {
    const ch = source[i]
    if (ch === '*' || ch === '+' || ch === '?') {
      tokens.push({ type: 'MODIFIER', index: i, value: ch })
      i += 1
    } else if (ch === '\\') {
      tokens.push({ type: 'ESCAPED_CHAR', index: i, value: source[i + 1] })
      i += 2
    } else if (ch === '{' || ch === '}') {
      tokens.push({ type: ch === '{' ? 'OPEN' : 'CLOSE', index: i, value: ch })
      i += 1
    } else if (ch === ':') {
      let j = i + 1
      while (j < source.length && isNameChar(source.charCodeAt(j))) j += 1
      const name = source.slice(i + 1, j)
      if (!name) throw new TypeError(`Missing parameter name at ${i}`)
      tokens.push({ type: 'NAME', index: i, value: name })
      i = j
    } else if (ch === '(') {
      let depth = 1
      let body = ''
      let j = i + 1
      if (source[j] === '?') throw new TypeError(`Pattern cannot start with "?" at ${j}`)
      while (j < source.length) {
        const c = source[j]
        if (c === '\\') {
          body += c + source[j + 1]
          j += 2
          continue
        }
        if (c === ')') {
          depth -= 1
          if (depth === 0) {
            j += 1
            break
          }
        } else if (c === '(') {
          depth += 1
          if (source[j + 1] !== '?') throw new TypeError(`Capturing groups are not allowed at ${j}`)
        }
        body += c
        j += 1
      }
      if (depth) throw new TypeError(`Unbalanced pattern at ${i}`)
      if (!body) throw new TypeError(`Missing pattern at ${i}`)
      tokens.push({ type: 'PATTERN', index: i, value: body })
      i = j
    } else {
      tokens.push({ type: 'CHAR', index: i, value: ch })
      i += 1
    }
  }
  tokens.push({ type: 'END', index: i, value: '' })
  return tokens
}

/** Parses a pattern into literal strings and parameter keys `{ name, prefix, suffix, pattern, modifier }`. */
function parse(source) {
  const tokens = lex(source)
  const out = []
  let pos = 0
  let unnamed = 0
  let path = ''
  const take = (type) => (pos < tokens.length && tokens[pos].type === type ? tokens[pos++].value : undefined)
  const expect = (type) => {
    const value = take(type)
    if (value !== undefined) return value
    const { type: got, index } = tokens[pos]
    throw new TypeError(`Unexpected ${got} at ${index}, expected ${type}`)
  }
  const text = () => {
    let result = ''
    let value
    while ((value = take('CHAR') || take('ESCAPED_CHAR'))) result += value
    return result
  }
  const hasDelimiter = (value) => [...DELIMITER].some((d) => value.includes(d))
  // A parameter without a custom pattern may not swallow the literal text before it (path-to-regexp 6.3).
  const segmentPattern = (prefix) => {
    const prev = out[out.length - 1]
    const before = prefix || (prev && typeof prev === 'string' ? prev : '')
    if (prev && !before) throw new TypeError(`Must have text between two parameters, missing text after "${prev.name}"`)
    return !before || hasDelimiter(before) ? DEFAULT_SEGMENT : `(?:(?!${escapeRe(before)})[^${escapeRe(DELIMITER)}])+?`
  }

  while (pos < tokens.length) {
    const char = take('CHAR')
    const name = take('NAME')
    const pattern = take('PATTERN')
    if (name || pattern) {
      let prefix = char || ''
      if (!PREFIXES.includes(prefix)) {
        path += prefix
        prefix = ''
      }
      if (path) {
        out.push(path)
        path = ''
      }
      out.push({
        name: name || unnamed++,
        prefix,
        suffix: '',
        pattern: pattern || segmentPattern(prefix),
        modifier: take('MODIFIER') || '',
      })
      continue
    }
    const literal = char || take('ESCAPED_CHAR')
    if (literal) {
      path += literal
      continue
    }
    if (path) {
      out.push(path)
      path = ''
    }
    if (take('OPEN')) {
      const prefix = text()
      const groupName = take('NAME') || ''
      const groupPattern = take('PATTERN') || ''
      const suffix = text()
      expect('CLOSE')
      out.push({
        name: groupName || (groupPattern ? unnamed++ : ''),
        pattern: groupName && !groupPattern ? segmentPattern(prefix) : groupPattern,
        prefix,
        suffix,
        modifier: take('MODIFIER') || '',
      })
      continue
    }
    expect('END')
  }
  return out
}

/** Regexp source for parsed tokens (default options: start and end anchored, optional trailing delimiter). */
function tokensToSource(parsed, keys) {
  let route = '^'
  for (const token of parsed) {
    if (typeof token === 'string') {
      route += escapeRe(token)
      continue
    }
    const prefix = escapeRe(token.prefix)
    const suffix = escapeRe(token.suffix)
    if (!token.pattern) {
      route += `(?:${prefix}${suffix})${token.modifier}`
      continue
    }
    keys.push(token)
    if (prefix || suffix) {
      if (token.modifier === '+' || token.modifier === '*') {
        const optional = token.modifier === '*' ? '?' : ''
        route += `(?:${prefix}((?:${token.pattern})(?:${suffix}${prefix}(?:${token.pattern}))*)${suffix})${optional}`
      } else {
        route += `(?:${prefix}(${token.pattern})${suffix})${token.modifier}`
      }
    } else {
      if (token.modifier === '+' || token.modifier === '*') {
        throw new TypeError(`Can not repeat "${token.name}" without a prefix and suffix`)
      }
      route += `(${token.pattern})${token.modifier}`
    }
  }
  return `${route}${DELIMITER_CLASS}?$`
}

/** Keys of a RegExp used as a pattern: one per capturing group (named groups keep their name). */
function regexpKeys(re, keys) {
  const group = /\((?:\?<(.*?)>)?(?!\?)/g
  let index = 0
  let m
  while ((m = group.exec(re.source)) !== null) {
    keys.push({ name: m[1] || index++, prefix: '', suffix: '', modifier: '', pattern: '' })
  }
  return re
}

/** path-to-regexp 6 `pathToRegexp(pattern, keys)` with default options: string, RegExp (as is) or an array. */
function toRegExp(pattern, keys) {
  if (pattern instanceof RegExp) return regexpKeys(pattern, keys)
  if (Array.isArray(pattern)) {
    const parts = pattern.map((p) => toRegExp(p, keys).source)
    return new RegExp(`(?:${parts.join('|')})`, FLAGS)
  }
  return new RegExp(tokensToSource(parse(String(pattern)), keys), FLAGS)
}

/**
 * Clerk's `pathToRegexp`: compiles one pattern, with Clerk's error for an invalid one.
 * @param {string | RegExp | Array<string | RegExp>} pattern
 * @returns {RegExp}
 */
function pathToRegExp(pattern) {
  try {
    return toRegExp(pattern, [])
  } catch (err) {
    throw new Error(
      `Invalid path: ${pattern}.\nConsult the documentation of path-to-regexp here: https://github.com/pillarjs/path-to-regexp/tree/6.x\n${err.message}`,
    )
  }
}

/** Thrown (statusCode 400) for a pathname whose percent-encoding `decodeURI` refuses; name as Clerk's. */
class MalformedURLError extends Error {
  constructor(pathname, cause) {
    super(`Malformed encoding in URL path: ${pathname}`)
    this.name = 'MalformedURLError'
    this.statusCode = 400
    this.cause = cause
  }
}

/**
 * Clerk's `normalizePath`: `decodeURI` (keeps `%2F`, `%3F`, `%23` encoded), then collapses `//+` into `/`.
 * @param {string} pathname
 * @returns {string}
 * @throws {MalformedURLError} for an invalid percent-encoding
 */
function normalizePath(pathname) {
  let decoded
  try {
    decoded = decodeURI(pathname)
  } catch (err) {
    throw new MalformedURLError(pathname, err)
  }
  return decoded.replace(/\/\/+/g, '/')
}

/**
 * Clerk's `createPathMatcher`: a predicate that is true when the normalized pathname matches any pattern.
 * Strings are path-to-regexp patterns (`'/dashboard(.*)'`, `'/org/:slug'`), RegExps are tested as they are,
 * an array may mix both (falsy entries are skipped). An invalid pattern throws now (`Invalid path: ...`);
 * the predicate throws {@link MalformedURLError} (statusCode 400) for a pathname with a bad percent-encoding.
 * @param {string | RegExp | Array<string | RegExp> | null | undefined} patterns
 * @returns {(pathname: string) => boolean}
 */
function compilePathPatterns(patterns) {
  const matchers = [patterns || ''].flat().filter(Boolean).map((p) => (p instanceof RegExp ? p : pathToRegExp(p)))
  return (pathname) => {
    if (matchers.length === 0) return false // Clerk's never decodes then (no MalformedURLError)
    const normalized = normalizePath(pathname)
    return matchers.some((re) => re.test(normalized))
  }
}

const compiledMatchers = new Map()
const MAX_COMPILED = 256

function compileMatch(pattern) {
  const keys = []
  let re
  try {
    re = toRegExp(pattern, keys)
  } catch (err) {
    throw new Error(
      `Invalid path and options: Consult the documentation of path-to-regexp here: https://github.com/pillarjs/path-to-regexp/tree/6.x\n${err.message}`,
    )
  }
  return (pathname) => {
    const m = re.exec(pathname)
    if (!m) return null
    const params = Object.create(null)
    for (let i = 1; i < m.length; i++) {
      if (m[i] === undefined) continue
      const key = keys[i - 1]
      params[key.name] = key.modifier === '*' || key.modifier === '+' ? m[i].split(key.prefix + key.suffix) : m[i]
    }
    return { path: m[0], index: m.index, params }
  }
}

/**
 * Clerk's `match(pattern)(pathname)` (used for `organizationSyncOptions`): `{ path, index, params }` with the
 * named (or numbered) parameters, repeated ones (`*`, `+`) as arrays; `null` when the pathname does not match
 * (Clerk's returns `false`). The pathname is matched as given (no decoding). An invalid pattern throws.
 * Compiled string patterns are cached (256 entries).
 * @param {string | RegExp | Array<string | RegExp>} pattern
 * @param {string} pathname
 * @returns {{ path: string, index: number, params: Record<string, string | string[]> } | null}
 */
function matchPath(pattern, pathname) {
  if (typeof pattern !== 'string') return compileMatch(pattern)(pathname)
  let matcher = compiledMatchers.get(pattern)
  if (matcher === undefined) {
    matcher = compileMatch(pattern)
    if (compiledMatchers.size >= MAX_COMPILED) compiledMatchers.delete(compiledMatchers.keys().next().value)
    compiledMatchers.set(pattern, matcher)
  }
  return matcher(pathname)
}

module.exports = { compilePathPatterns, matchPath, pathToRegExp, normalizePath, MalformedURLError }
