/**
 * Properties of prefix routing over canonical paths: the longest matching prefix wins (Kong's
 * traditional router), whatever the order of the routes in the file, and a path made canonical from any
 * hostile form is routed by its canonical prefix alone.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import fc from 'fast-check'
import type { RouteEntity } from '../config/model.ts'
import { canonicalizePath, DEFAULT_PATH_POLICY, isPathRefusal } from './normalize-path.ts'
import { Router } from './router.ts'

const RUNS = { numRuns: 300 }

const segment = fc.constantFrom('a', 'b', 'ab', 'admin', 'app', 'x')
const prefix = fc
  .array(segment, { minLength: 1, maxLength: 4 })
  .chain((segments) => fc.boolean().map((slash) => `/${segments.join('/')}${slash ? '/' : ''}`))
const requestPath = fc
  .array(fc.oneof(segment, fc.constantFrom('..', '.', '', '%2e%2e', 'ADMIN')), { maxLength: 6 })
  .map((segments) => `/${segments.join('/')}`)

function prefixRoute(path: string, i: number): { route: RouteEntity; target: string } {
  const route = { id: `r${i}`, name: `r${i}`, paths: [path], regex_priority: 0 } as unknown as RouteEntity
  return { route, target: path }
}

const match = (router: Router<string>, path: string) =>
  router.match({ method: 'GET', host: '', port: 80, path, headers: {} })

describe('properties of prefix routing', () => {
  it('picks the longest prefix the path starts with, never a shorter one, in any file order', () => {
    fc.assert(
      fc.property(fc.uniqueArray(prefix, { minLength: 1, maxLength: 8 }), requestPath, (prefixes, raw) => {
        const path = canonicalizePath(raw, DEFAULT_PATH_POLICY)
        if (isPathRefusal(path)) return
        const router = new Router(prefixes.map(prefixRoute))
        const reversed = new Router([...prefixes].reverse().map(prefixRoute))
        const candidates = prefixes.filter((p) => path.startsWith(p))
        const longest = candidates.sort((a, b) => b.length - a.length)[0]
        assert.equal(match(router, path)?.target, longest, path)
        assert.equal(match(reversed, path)?.target, longest, path)
        if (longest !== undefined) assert.equal(match(router, path)?.matchedLength, longest.length)
      }),
      RUNS,
    )
  })

  it('routes a hostile path exactly as its canonical form, since the canonical form is all it sees', () => {
    const prefixes = ['/app', '/app/admin', '/a', '/a/b/']
    const router = new Router(prefixes.map(prefixRoute))
    fc.assert(
      fc.property(requestPath, (raw) => {
        const path = canonicalizePath(raw, DEFAULT_PATH_POLICY)
        if (isPathRefusal(path)) return
        const routed = match(router, path)?.target
        // The protected prefix is chosen exactly when the canonical path lies under it.
        assert.equal(routed === '/app/admin', path.startsWith('/app/admin'), `${raw} → ${path}`)
      }),
      RUNS,
    )
  })
})
