/**
 * Properties of the canonical path, over paths built from the pieces attackers use (issue 10 §2). The
 * last ones model how upstream frameworks read a path (nginx, Tomcat, IIS, Go/WSGI) and check that each
 * reads the forwarded path as one routed to the same route: a path that routes to the open prefix never
 * reaches an upstream as the protected one.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { RouteEntity } from '../config/model.ts'
import { canonicalizePath, DEFAULT_PATH_POLICY, isPathRefusal, type PathPolicy } from './normalize-path.ts'
import { Router } from './router.ts'

const RUNS = { numRuns: 3000 }

/** Segment names besides the routes' own: dot segments in their disguises, and other hostile pieces. */
// biome-ignore format: a table reads better on few lines
const NAMES = [
  'x', 'ADMIN', '%61dmin', '', '.', '..', '%2e', '%2E%2e', '.%2e',
  '..;', '.;a', 'admin;x=1', '%7e', '%25', '%252F', '%3B', '%20', '%C3%A9', '-', '_',
]
/** What comes between them: slashes, and what some upstream reads as one. */
const SEPARATORS = ['/', '/', '/', '//', '%2F', '%2f', '%5C', '%5c', '\\', ';/', ';x=1/', '/;/']
/** Pieces that get a path refused whatever the settings, so they come rarely and accepted paths stay varied. */
const RARE = ['%00', '%0a', '%7F', 'admin.', 'admin..', '...', '%zz']

/** A path an attacker might send: a leading slash, then names and separators. */
const hostilePath = fc
  .array(
    fc.tuple(
      fc.oneof(
        { arbitrary: fc.constantFrom('app', 'admin', 'public', 'private'), weight: 12 },
        { arbitrary: fc.constantFrom(...NAMES), weight: 12 },
        { arbitrary: fc.constantFrom(...RARE), weight: 1 },
      ),
      fc.constantFrom(...SEPARATORS),
    ),
    { maxLength: 8 },
  )
  .map((parts) => `/${parts.map(([name, sep], i) => (i === parts.length - 1 ? name : name + sep)).join('')}`)

const anyPolicy: fc.Arbitrary<PathPolicy> = fc.record({
  merge_slashes: fc.boolean(),
  escaped_slashes: fc.constantFrom('reject', 'keep', 'unescape'),
  backslashes: fc.constantFrom('reject', 'keep', 'unescape'),
  path_parameters: fc.constantFrom('reject', 'keep', 'strip'),
  trailing_dots: fc.constantFrom('reject', 'keep'),
})
/** The policies that never forward a form an upstream could read differently (no `keep`). */
const safePolicy: fc.Arbitrary<PathPolicy> = fc.record({
  merge_slashes: fc.constant(true),
  escaped_slashes: fc.constantFrom('reject', 'unescape'),
  backslashes: fc.constantFrom('reject', 'unescape'),
  path_parameters: fc.constantFrom('reject', 'strip'),
  trailing_dots: fc.constant('reject'),
})

describe('properties of the canonical path', () => {
  it('is a fixed point: canonicalising a canonical path gives it back, under any settings', () => {
    fc.assert(
      fc.property(hostilePath, anyPolicy, (path, policy) => {
        const once = canonicalizePath(path, policy)
        if (isPathRefusal(once)) return
        assert.equal(canonicalizePath(once, policy), once)
      }),
      RUNS,
    )
  })

  it('never holds a form an upstream could read differently, with the default settings', () => {
    fc.assert(
      fc.property(hostilePath, (path) => {
        const c = canonicalizePath(path, DEFAULT_PATH_POLICY)
        if (isPathRefusal(c)) return
        assert.ok(c.startsWith('/'), c)
        for (const bad of ['//', '/./', '/../', '%2F', '%5C', '\\', ';'])
          assert.ok(!c.includes(bad), `${c} has ${bad}`)
        assert.ok(!/\/\.\.?$/.test(c), `${c} ends in a dot segment`)
        assert.ok(!/(\.|%20)(\/|$)/.test(c), `${c} has a segment ending in '.' or a space`)
        // Escapes left are upper-case and never of an unreserved character or a control character.
        for (const m of c.matchAll(/%(..)/g)) {
          const code = Number.parseInt(m[1]!, 16)
          assert.equal(m[1], m[1]!.toUpperCase(), c)
          assert.ok(
            !/[A-Za-z0-9\-._~]/.test(String.fromCharCode(code)),
            `${c} escapes an unreserved character`,
          )
          assert.ok(code >= 0x20 && code !== 0x7f, `${c} escapes a control character`)
        }
      }),
      RUNS,
    )
  })

  it('refuses every path with an encoded control character, under any settings', () => {
    const control = fc.integer({ min: 0, max: 0x20 }).map((n) => (n === 0x20 ? 0x7f : n))
    fc.assert(
      fc.property(hostilePath, control, hostilePath, anyPolicy, (before, code, after, policy) => {
        const path = `${before}%${code.toString(16).padStart(2, '0')}${after}`
        const c = canonicalizePath(path, policy)
        assert.ok(isPathRefusal(c) && c.reason !== 'path_not_origin_form', path)
      }),
      RUNS,
    )
  })

  it('sends every upstream reading of the forwarded path to the route the gateway chose', () => {
    const router = new Router(
      ['/app', '/app/admin', '/public', '/private', '/'].map((p, i) => ({
        route: prefixRoute(p, i),
        target: p,
      })),
    )
    const routeOf = (path: string) =>
      router.match({ method: 'GET', host: '', port: 80, path, headers: {} })?.target
    fc.assert(
      fc.property(hostilePath, safePolicy, (path, policy) => {
        const c = canonicalizePath(path, policy)
        if (isPathRefusal(c)) return
        const chosen = routeOf(c)
        for (const [name, read] of Object.entries(UPSTREAM_READINGS))
          assert.equal(routeOf(read(c)), chosen, `${name} reads ${JSON.stringify(path)} → ${c} as ${read(c)}`)
      }),
      RUNS,
    )
  })

  it('makes /public/..%2Fprivate/x the /private path with escaped_slashes: unescape, and refuses it by default', () => {
    const policy = { ...DEFAULT_PATH_POLICY, escaped_slashes: 'unescape' } as const
    assert.equal(canonicalizePath('/public/..%2Fprivate/x', policy), '/private/x')
    assert.ok(isPathRefusal(canonicalizePath('/public/..%2fprivate/x', DEFAULT_PATH_POLICY)))
  })
})

function prefixRoute(path: string, i: number): RouteEntity {
  return { id: `r${i}`, name: path, paths: [path], regex_priority: 0 } as unknown as RouteEntity
}

/** Every %XX decoded, as nginx, Go's net/http, WSGI's PATH_INFO and Tomcat (with encoded slashes on) do. */
function decodeAll(path: string): string {
  return path.replace(/%([0-9A-F]{2})/gi, (_, hex: string) => String.fromCharCode(Number.parseInt(hex, 16)))
}

/** RFC 3986 §5.2.4 on `/`-separated segments, plus optional merging of empty ones. */
function resolve(path: string, merge: boolean): string {
  const out: string[] = []
  const segments = path.split('/')
  for (let i = 1; i < segments.length; i++) {
    const s = segments[i]!
    const last = i === segments.length - 1
    if (s === '' && merge && !last) continue
    if (s === '.' || s === '..') {
      if (s === '..') out.pop()
      if (last) out.push('')
      continue
    }
    out.push(s)
  }
  return `/${out.join('/')}`
}

/** How upstream frameworks read a path they are sent (simplified to what changes the route). */
const UPSTREAM_READINGS: Record<string, (path: string) => string> = {
  nginx: (p) => resolve(decodeAll(p), true),
  tomcat: (p) => resolve(decodeAll(p.replace(/;[^/]*/g, '')), false),
  iis: (p) =>
    resolve(
      decodeAll(p)
        .replaceAll('\\', '/')
        .replace(/[. ]+(?=\/|$)/g, ''),
      true,
    ),
  'go-and-wsgi': (p) => resolve(decodeAll(p), true),
  raw: (p) => p,
}
