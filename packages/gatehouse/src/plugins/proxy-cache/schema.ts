/**
 * Config of the proxy-cache plugin: Kong's proxy-cache schema (3.x), so a Kong file loads unchanged, with
 * the `null`s Kong writes for unset fields. Gatehouse adds a `redis` strategy (the top-level `redis`
 * section), bounds for the memory store and the response body, and the rules that keep one caller's
 * response from reaching another (`credential_headers`, `cache_set_cookie`).
 */
import { z } from 'zod'
import { parseMediaType } from './media-type.ts'

export const PROXY_CACHE_METHODS = ['HEAD', 'GET', 'POST', 'PATCH', 'PUT'] as const

const headerName = z.string().regex(/^[A-Za-z0-9!#$%&'*+.^_`|~-]+$/, { error: 'expected a header name' })

const mediaType = z.string().refine((v) => parseMediaType(v) !== null, {
  error: 'expected a media type: type/subtype, optionally with ; name=value parameters',
})

const seconds = z.int({ error: 'expected a whole number of seconds' }).min(1).max(31_536_000)

const memory = z
  .strictObject({
    dictionary_name: z
      .string()
      .min(1)
      .default('kong_db_cache')
      .describe(
        "Name of the in-memory store (Kong's shared dictionary). Instances naming the same one share it, its entries and its bounds (the last configuration loaded sets them); it lives as long as the process, across reloads. Default: `kong_db_cache`.",
      ),
    max_entries: z
      .int()
      .min(1)
      .default(10_000)
      .describe(
        'Most responses the store holds; the least recently used go first. A Gatehouse addition. Default: 10000.',
      ),
    max_size: z
      .int()
      .min(1024)
      .default(67_108_864)
      .describe(
        'Most bytes the store holds (bodies, headers and keys); the least recently used go first. A Gatehouse addition. Default: 67108864 (64 MiB).',
      ),
  })
  .describe('The memory strategy: where entries live and how many (Kong: a shared dictionary).')

const responseHeaders = z
  .strictObject({
    age: z
      .boolean()
      .nullish()
      .describe('Send `Age` (seconds since the entry was stored) on hits. Default: true.'),
    Age: z.boolean().nullish().describe('Older spelling of `age`, accepted.'),
    'X-Cache-Status': z
      .boolean()
      .nullish()
      .describe('Send `X-Cache-Status` (`Miss`, `Hit`, `Refresh` or `Bypass`). Default: true.'),
    'X-Cache-Key': z
      .boolean()
      .nullish()
      .describe('Send `X-Cache-Key` (the key, usable with the admin API). Default: true.'),
  })
  .describe('Which diagnostic headers go to the client.')

export const proxyCacheSchema = z
  .strictObject({
    response_code: z
      .array(z.int().min(100).max(900))
      .min(1)
      .default([200, 301, 404])
      .describe('Upstream statuses that are cached. Default: `200, 301, 404`.'),
    request_method: z
      .array(z.enum(PROXY_CACHE_METHODS, { error: `expected one of ${PROXY_CACHE_METHODS.join(', ')}` }))
      .min(1)
      .default(['GET', 'HEAD'])
      .describe(
        'Request methods whose responses are cached; each method is cached on its own. The request body is not part of the key (as Kong), so list POST, PATCH or PUT only for upstreams that answer them by the URL alone. Default: `GET, HEAD`.',
      ),
    content_type: z
      .array(mediaType)
      .min(1)
      .default(['text/plain', 'application/json'])
      .describe(
        'Upstream content types that are cached, matched as Kong 3.x does: type and subtype (`*` matches any) and exactly the same parameters, so `application/json` does not cover `application/json; charset=utf-8` (list both). Default: `text/plain, application/json`.',
      ),
    cache_ttl: seconds
      .default(300)
      .describe(
        'Seconds a response is served from the cache; older entries (kept longer by `storage_ttl`) are fetched again (`Refresh`). Not used with `cache_control`, where the response says. Default: 300.',
      ),
    strategy: z
      .enum(['memory', 'redis'])
      .default('memory')
      .describe(
        "Where entries live: `memory` (this node's process; Kong's only strategy) or `redis` (the top-level `redis` section, shared by every node: a response cached through one node is a hit on the others). While Redis cannot be reached, requests go to the upstream uncached (`Bypass`), logged at most every few seconds, and caching resumes by itself. Default: `memory`.",
      ),
    cache_control: z
      .boolean()
      .default(false)
      .describe(
        'Follow Cache-Control (RFC 9111) as Kong does: on requests, `no-store` and `Authorization` bypass the cache, `no-cache` fetches again (`Refresh`), `max-age`, `max-stale` and `min-fresh` limit what may be served, `only-if-cached` gets 504 `GH_ERR_CACHE_ONLY_IF_CACHED` when nothing is stored; on responses, `no-cache` is not cached and the lifetime comes from `s-maxage`, `max-age` or `Expires` (none: not cached). Default: false.',
      ),
    ignore_uri_case: z
      .boolean()
      .default(false)
      .describe(
        'Compare request paths without case in the key (`/Orders` and `/orders` share an entry). Default: false.',
      ),
    storage_ttl: seconds
      .nullish()
      .describe(
        'Seconds entries are kept, independent of how long they are served (`cache_ttl` or Cache-Control), so clients sending `max-stale` can still get them. Default: unset (as long as they are served).',
      ),
    memory: memory.nullish(),
    vary_query_params: z
      .array(z.string().min(1))
      .nullish()
      .describe(
        'Query parameters that make up the key. Default: unset, which takes every parameter (sorted, so their order does not matter).',
      ),
    vary_headers: z
      .array(headerName)
      .nullish()
      .describe(
        'Request headers that make up the key. A response whose `Vary` names a header not listed here (or `*`) is not cached, since one entry would then be served whatever that header says. Default: unset (none).',
      ),
    response_headers: responseHeaders.nullish(),
    cache_set_cookie: z
      .boolean()
      .default(false)
      .describe(
        "Cache responses carrying Set-Cookie. A cached Set-Cookie is sent again to every caller the entry serves (within the caller's key), so turn this on only for cookies that are the same for all of them. A Gatehouse addition. Default: false.",
      ),
    credential_headers: z
      .array(headerName)
      .default(['Authorization', 'Cookie'])
      .describe(
        "Request headers that carry a caller's credentials. A request with one of them that no authentication plugin resolved to a consumer or principal goes uncached (`Bypass`): the upstream may answer it for that caller alone. Identified callers are cached under their own key either way. `[]` turns the check off. A Gatehouse addition. Default: `Authorization, Cookie`.",
      ),
    max_body_size: z
      .int()
      .min(0)
      .default(1_048_576)
      .describe(
        'Largest response body cached, in bytes; larger responses stream through uncached. A Gatehouse addition. Default: 1048576 (1 MiB).',
      ),
  })
  .transform(({ memory, response_headers: h, ...c }) => ({
    ...c,
    storage_ttl: c.storage_ttl ?? null,
    vary_query_params: c.vary_query_params ?? null,
    vary_headers: c.vary_headers ?? [],
    memory: {
      dictionary_name: memory?.dictionary_name ?? 'kong_db_cache',
      max_entries: memory?.max_entries ?? 10_000,
      max_size: memory?.max_size ?? 67_108_864,
    },
    response_headers: {
      age: h?.age ?? h?.Age ?? true,
      'X-Cache-Status': h?.['X-Cache-Status'] ?? true,
      'X-Cache-Key': h?.['X-Cache-Key'] ?? true,
    },
  }))
  .describe(
    "Caches upstream responses and answers repeated requests from the cache (Kong's proxy-cache). Entries are keyed by the caller (the consumer, else the principal a token or session established, else anonymous), route, method, path, query and `vary_headers`, so one caller's cached response is never served to another. `X-Cache-Status` says `Miss`, `Hit` (with `Age`), `Refresh` (a stale entry fetched again) or `Bypass` (not cacheable, or the store unreachable). Never cached, whatever else is set: responses with Cache-Control `private` or `no-store`, with a `Vary` the key does not cover, with Set-Cookie (unless `cache_set_cookie`), and requests bearing `credential_headers` that no plugin resolved. An entry holds the upstream's own headers; on a hit the plugins that run before proxy-cache (CORS, rate-limiting, response-transformer) add theirs for the request at hand. Admin API: `DELETE /proxy-cache`, `GET`/`DELETE /proxy-cache/{key}` and `/proxy-cache/{plugin_id}/caches/{key}`, as Kong; memory stores are per node.",
  )

export type ProxyCacheConfig = z.output<typeof proxyCacheSchema>
