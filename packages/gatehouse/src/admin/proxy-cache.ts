/**
 * Kong's proxy-cache endpoints (kong/plugins/proxy-cache/api.lua), over every proxy-cache instance of
 * the running configuration:
 *   DELETE /proxy-cache                               empties every store: 204
 *   GET    /proxy-cache/{key}                         the entry (Kong's shape, body as text or base64): 200, or 404
 *   DELETE /proxy-cache/{key}                         removes it wherever it is: 204, or 404
 *   GET    /proxy-cache/{plugin_id}/caches/{key}      the same, in one instance's store
 *   DELETE /proxy-cache/{plugin_id}/caches/{key}
 * Memory stores are this node's, as in Kong (which also broadcasts the purge to its cluster; Gatehouse
 * nodes do not share theirs, so purge each node, or use the redis strategy, which all nodes share).
 */
import { GatehouseError } from '../errors/errors.ts'
import type { Logger } from '../observability/logger.ts'
import { presentEntry } from '../plugins/proxy-cache/entry.ts'
import { configuredStores } from '../plugins/proxy-cache/stores.ts'
import type { AdminContext } from './context.ts'
import { type AdminRequest, sendError, sendJson } from './http.ts'

const KEY = /^[0-9a-f]{64}$/

export async function handleProxyCache(ctx: AdminContext, a: AdminRequest, logger: Logger): Promise<void> {
  const parts = a.path.split('/').slice(2)
  if (parts.length === 0) {
    if (a.method !== 'DELETE') return notAllowed(a, 'DELETE')
    const { stores, close } = configuredStores(ctx.config(), logger)
    try {
      for (const store of stores) await store.flush()
    } finally {
      await close()
    }
    sendJson(a.res, 204, null)
    return
  }
  let pluginId: string | undefined
  let key: string
  if (parts.length === 1) key = parts[0]!
  else if (parts.length === 3 && parts[1] === 'caches') [pluginId, , key] = parts as [string, string, string]
  else return notFound(a)
  if (a.method !== 'GET' && a.method !== 'DELETE') return notAllowed(a, 'GET, DELETE')
  const { stores, found, close } = configuredStores(ctx.config(), logger, pluginId)
  try {
    if (!found || !KEY.test(key)) return notFound(a)
    if (a.method === 'GET') {
      for (const store of stores) {
        const entry = await store.fetch(key)
        if (entry !== null) return sendJson(a.res, 200, presentEntry(key, entry))
      }
      return notFound(a)
    }
    let purged = false
    for (const store of stores) if (await store.purge(key)) purged = true
    if (!purged) return notFound(a)
    sendJson(a.res, 204, null)
  } finally {
    await close()
  }
}

function notFound(a: AdminRequest): void {
  sendError(a.res, new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', 'Not found'))
}

function notAllowed(a: AdminRequest, allow: string): void {
  sendError(
    a.res,
    new GatehouseError('GH_ERR_ADMIN_METHOD_NOT_ALLOWED', `${a.method} is not supported on ${a.path}`),
    {},
    { allow },
  )
}
