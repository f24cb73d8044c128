/**
 * proxy-cache: Kong's plugin of that name (priority 100, after authentication, so entries are kept per
 * consumer). In the access phase a cacheable request is looked up under its key (cache-key.ts): a fresh
 * entry answers it at once (`Hit`, with `Age`), otherwise the request goes upstream (`Miss`, or `Refresh`
 * for a stale entry) and a ResponseTap captures the response as it streams to the client, storing it
 * when the rules allow (rules.ts). Requests the rules leave out, and every request while the store
 * cannot be reached, go upstream uncached (`Bypass`).
 */
import { GatehouseError } from '../../errors/errors.ts'
import type { RequestState } from '../../pipeline/request-state.ts'
import { exitWithError } from '../../pipeline/respond.ts'
import type { GatewayPlugin } from '../types.ts'
import { type Directives, NO_DIRECTIVES, parseDirectives } from './cache-control.ts'
import { cacheKey, type KeyRules } from './cache-key.ts'
import { ResponseCapture, type Verdict } from './capture.ts'
import type { CachedResponse } from './entry.ts'
import { memoryDictionary } from './memory-store.ts'
import { RedisCacheStore } from './redis-store.ts'
import { responseRules, servable } from './rules.ts'
import { type ProxyCacheConfig, proxyCacheSchema } from './schema.ts'
import type { CacheStore } from './store.ts'

/**
 * The `proxy-cache` plugin (Kong's contract, plus a shared Redis strategy).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: proxy-cache
 *     config: { strategy: memory, cache_ttl: 30, content_type: [application/json] }
 * ```
 */
export const plugin: GatewayPlugin<ProxyCacheConfig> = {
  name: 'proxy-cache',
  version: '1.0.0',
  priority: 100,
  band: 'caching',
  description:
    'Caches upstream responses per consumer and answers repeated requests from memory or a shared Redis, with X-Cache-Status and optional Cache-Control semantics.',
  schema: proxyCacheSchema,
  requestHeaders: (config) => [
    ...(config.vary_headers ?? []).map((name, i) => ({ key: `vary_headers[${i}]`, name })),
    ...config.credential_headers.map((name, i) => ({ key: `credential_headers[${i}]`, name })),
  ],
  create(config, ctx) {
    if (config.strategy === 'redis' && ctx.redis === null)
      throw new Error('strategy redis needs the top-level `redis` section')
    const redis = config.strategy === 'redis' ? new RedisCacheStore(ctx.redis!, ctx.logger) : null
    // The memory store is looked up by the first request, so that a configuration only checked (config
    // check, a DB-mode write) never resizes the one the running configuration uses. Redis connects lazily.
    let memory: CacheStore | null = null
    const storeOf = (): CacheStore => {
      if (redis !== null) return redis
      memory ??= memoryDictionary(config.memory.dictionary_name, {
        maxEntries: config.memory.max_entries,
        maxSize: config.memory.max_size,
      })
      return memory
    }
    const methods = new Set<string>(config.request_method)
    const rules = responseRules(config)
    const keyRules: KeyRules = {
      ignoreUriCase: config.ignore_uri_case,
      varyQueryParams: config.vary_query_params,
      varyHeaders: config.vary_headers.map((h) => h.toLowerCase()),
    }
    const credentialHeaders = config.credential_headers.map((h) => h.toLowerCase())
    const show = config.response_headers
    const verdicts = new WeakMap<RequestState, Verdict>()

    const save = (key: string, entry: CachedResponse): void => {
      const seconds = config.storage_ttl ?? (config.cache_control ? entry.ttl : config.cache_ttl)
      try {
        // A Redis failure is logged by the store; the response already went out.
        const stored = storeOf().store(key, entry, seconds * 1000)
        if (stored instanceof Promise) stored.catch(() => {})
      } catch (err) {
        ctx.logger.error({ err }, 'proxy-cache could not store a response')
      }
    }

    const goUpstream = (state: RequestState, verdict: Verdict, status: 'Miss' | 'Refresh'): void => {
      verdict.status = status
      const key = verdict.key!
      if (state.dryRun !== null) {
        // Nothing goes upstream in a dry run, so nothing is captured or stored.
        state.dryRun.note('cache', {
          status,
          key,
          would: 'go upstream, and store the response if the rules allow',
        })
        return
      }
      state.tapResponse(new ResponseCapture(rules, verdict, (entry) => save(key, entry)))
    }

    const answer = (
      state: RequestState,
      verdict: Verdict,
      cc: Directives,
      entry: CachedResponse | null,
    ): void => {
      if (entry === null) {
        // RFC 9111 §5.2.1.7: a client that wants only what is cached gets 504 when nothing is.
        if (config.cache_control && cc['only-if-cached'] !== undefined) {
          const err = new GatehouseError('GH_ERR_CACHE_ONLY_IF_CACHED', 'The response is not in the cache')
          exitWithError(state, err, err.status, undefined)
          return
        }
        goUpstream(state, verdict, 'Miss')
        return
      }
      const age = Math.max(0, (Date.now() - entry.timestamp) / 1000)
      if (!servable(config.cache_control, config.cache_ttl, cc, entry, age)) {
        goUpstream(state, verdict, 'Refresh')
        return
      }
      verdict.status = 'Hit'
      verdict.age = Math.floor(age)
      state.dryRun?.note('cache', { status: 'Hit', key: verdict.key, age: verdict.age })
      // No body for HEAD (the stored Content-Length stays) nor an empty one (none is sent on 204 or 304).
      const body = state.method === 'HEAD' || entry.body.length === 0 ? undefined : entry.body
      state.exit(entry.status, body, entry.headers)
    }

    return {
      access(state) {
        const verdict: Verdict = { status: 'Bypass', key: null, age: 0 }
        verdicts.set(state, verdict)
        if (!methods.has(state.method) || state.route!.composition !== null) return
        const headers = state.req.headers
        let cc = NO_DIRECTIVES
        if (config.cache_control) {
          cc = parseDirectives(headers['cache-control'])
          // Kong: no-store and Authorization keep the request out of the cache.
          if (cc['no-store'] !== undefined || headers.authorization !== undefined) return
        }
        // A credential no plugin understood may make the upstream answer for that caller alone.
        if (state.consumer === null && state.principal === null)
          for (const name of credentialHeaders) if (headers[name] !== undefined) return
        verdict.key = cacheKey(state, keyRules)
        let found: CachedResponse | null | Promise<CachedResponse | null>
        try {
          found = storeOf().fetch(verdict.key)
        } catch {
          return
        }
        if (!(found instanceof Promise)) {
          answer(state, verdict, cc, found)
          return
        }
        // Unreachable store (logged by it): the request goes upstream, Bypass.
        return found.then(
          (entry) => answer(state, verdict, cc, entry),
          () => {},
        )
      },
      response(state) {
        const verdict = verdicts.get(state)
        if (verdict === undefined) return
        verdicts.delete(state)
        const h = state.response!.headers
        if (show['X-Cache-Status']) h['x-cache-status'] = verdict.status
        if (show['X-Cache-Key'] && verdict.key !== null) h['x-cache-key'] = verdict.key
        if (show.age && verdict.status === 'Hit') h.age = String(verdict.age)
      },
      close() {
        return redis?.close()
      },
    }
  },
}
