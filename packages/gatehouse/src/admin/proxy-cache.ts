/**
 * Kong's proxy-cache endpoints (kong/plugins/proxy-cache/api.lua), over every proxy-cache instance of
 * the running configuration:
 *   DELETE /proxy-cache                               empties every store: 204
 *   GET    /proxy-cache/{key}                         the entry (Kong's shape, body as text or base64): 200, or 404
 *   DELETE /proxy-cache/{key}                         removes it wherever it is: 204, or 404
 *   GET    /proxy-cache/{plugin_id}/caches/{key}      the same, in one instance's store
 *   DELETE /proxy-cache/{plugin_id}/caches/{key}
 * Memory stores are this node's, as in Kong (which also broadcasts the purge to its cluster; Gatehouse
 * nodes do not share theirs, so purge each node, or use the redis strategy, which all nodes share). A
 * node of several workers answers for all of them: each worker's memory stores are asked.
 */

import type { GatewayConfig } from '../config/model.ts'
import { GatehouseError } from '../errors/errors.ts'
import type { Logger } from '../observability/logger.ts'
import { type CachedResponse, presentEntry } from '../plugins/proxy-cache/entry.ts'
import { configuredStores } from '../plugins/proxy-cache/stores.ts'
import type { AdminContext } from './context.ts'
import { type AdminHandler, type AdminRequest, sendError, sendJson } from './http.ts'

const KEY = /^[0-9a-f]{64}$/

/** One proxy-cache administration step, as a worker of several runs it on its own stores. */
export type CacheOperation =
  | { readonly op: 'flush' }
  | { readonly op: 'fetch' | 'purge'; readonly key: string; readonly pluginId?: string | undefined }

export interface CacheOperationResult {
  /** Whether a proxy-cache instance matched (`pluginId` given: whether it names one). */
  readonly found: boolean
  readonly entry?: CachedResponse | null
  readonly purged?: boolean
}

/** Runs `operation` on the stores of `config` in this process. */
export async function runCacheOperation(
  config: GatewayConfig,
  logger: Logger,
  operation: CacheOperation,
): Promise<CacheOperationResult> {
  const { stores, found, close } = configuredStores(
    config,
    logger,
    operation.op === 'flush' ? undefined : operation.pluginId,
  )
  try {
    if (operation.op === 'flush') {
      for (const store of stores) await store.flush()
      return { found }
    }
    if (!found) return { found }
    if (operation.op === 'fetch') {
      for (const store of stores) {
        const entry = await store.fetch(operation.key)
        if (entry !== null) return { found, entry }
      }
      return { found, entry: null }
    }
    let purged = false
    for (const store of stores) if (await store.purge(operation.key)) purged = true
    return { found, purged }
  } finally {
    await close()
  }
}

/**
 * The node's answer: this process's stores, or with several workers every worker's (each holds its own
 * memory stores): an entry any of them has, purged wherever it is.
 */
async function cacheOperation(
  ctx: AdminContext,
  logger: Logger,
  op: CacheOperation,
): Promise<CacheOperationResult> {
  if (ctx.workerCaches === undefined) return runCacheOperation(ctx.config(), logger, op)
  const results = await ctx.workerCaches(op)
  return {
    found: results.some((r) => r.found),
    entry: results.find((r) => r.entry)?.entry ?? null,
    purged: results.some((r) => r.purged === true),
  }
}

/** `DELETE /proxy-cache`: empties every store. */
export const flushProxyCache: AdminHandler = async (ctx, a, env) => {
  await cacheOperation(ctx, env.logger, { op: 'flush' })
  sendJson(a.res, 204, null)
}

/**
 * `GET` or `DELETE` of `/proxy-cache/{key}`, or of `/proxy-cache/{plugin}/caches/{key}` in one
 * instance's store.
 */
export const cacheEntry: AdminHandler = async (ctx, a, env) => {
  const { key, plugin } = a.params
  if (!KEY.test(key!)) return notFound(a)
  const result = await cacheOperation(ctx, env.logger, {
    op: a.method === 'DELETE' ? 'purge' : 'fetch',
    key: key!,
    pluginId: plugin,
  })
  if (!result.found) return notFound(a)
  if (a.method !== 'DELETE') {
    if (result.entry == null) return notFound(a)
    return sendJson(a.res, 200, presentEntry(key!, result.entry))
  }
  if (!result.purged) return notFound(a)
  sendJson(a.res, 204, null)
}

function notFound(a: AdminRequest): void {
  sendError(a.res, new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', 'Not found'))
}
