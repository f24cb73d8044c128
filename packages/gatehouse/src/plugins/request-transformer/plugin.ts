/**
 * request-transformer: rewrites the upstream request's headers, query, path and method, with Kong's
 * request-transformer semantics and order (remove, rename, replace, add, append), so an upstream that
 * sits behind Kong today sees the same request behind Gatehouse. It edits what the gateway is about to
 * send (including headers earlier plugins set), never the client's request as received.
 *
 * Host follows Kong: only `replace` may change it; remove, rename, add and append ignore it.
 */

import {
  applyHeaderEdits,
  entryPairs,
  type HeaderEdits,
  type Pair,
  splitEntry,
} from '../_shared/header-edits.ts'
import type { GatewayPlugin } from '../types.ts'
import { compileQueryEdit } from './query.ts'
import { type RequestTransformerConfig, requestTransformerSchema } from './schema.ts'

/**
 * The `request-transformer` plugin (Kong's contract, priority 801).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: request-transformer
 *     config:
 *       remove: { headers: [x-debug], querystring: [token] }
 *       rename: { headers: ['x-user:x-customer'] }
 *       add: { headers: ['x-api-version:2'], querystring: ['lang:en'] }
 *       replace: { uri: /v2/orders }
 * ```
 */
export const plugin: GatewayPlugin<RequestTransformerConfig> = {
  name: 'request-transformer',
  version: '1.0.0',
  priority: 801,
  band: 'transform',
  description: "Removes, renames, replaces, adds and appends the upstream request's headers and query.",
  schema: requestTransformerSchema,
  create(config) {
    const notHost = (p: Pair) => p[0] !== 'host'
    const headers: HeaderEdits = {
      remove: config.remove.headers.map((e) => splitEntry(e)[0].toLowerCase()).filter((n) => n !== 'host'),
      rename: entryPairs(config.rename.headers, true).filter(notHost),
      replace: entryPairs(config.replace.headers, false),
      replaceAlways: new Set(['host']),
      add: entryPairs(config.add.headers, false).filter(notHost),
      append: entryPairs(config.append.headers, false).filter(notHost),
    }
    const editQuery = compileQueryEdit({
      remove: config.remove.querystring.map((e) => splitEntry(e)[0]),
      rename: config.rename.querystring.map(splitEntry),
      replace: config.replace.querystring.map(splitEntry),
      add: config.add.querystring.map(splitEntry),
      append: config.append.querystring.map(splitEntry),
    })
    const uri = config.replace.uri ?? null
    const method = config.http_method ?? null

    return {
      access(state) {
        applyHeaderEdits(state.upstreamHeaders, headers)
        if (editQuery !== null) state.upstreamQuery = editQuery(state.upstreamQuery)
        if (uri !== null) state.upstreamPath = uri
        if (method !== null) state.upstreamMethod = method
      },
    }
  },
}
