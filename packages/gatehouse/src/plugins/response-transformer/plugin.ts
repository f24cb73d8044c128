/**
 * response-transformer: rewrites the response headers the client receives, with Kong's
 * response-transformer semantics and order (remove, rename, replace, add, append). It runs in the
 * response phase, so responses the gateway makes itself (a plugin's 401, a 502) are transformed like
 * the upstream's, as Kong's header_filter does.
 */

import { applyHeaderEdits, entryPairs, type HeaderEdits, splitEntry } from '../_shared/header-edits.ts'
import type { GatewayPlugin } from '../types.ts'
import { type ResponseTransformerConfig, responseTransformerSchema } from './schema.ts'

/**
 * The `response-transformer` plugin (Kong's contract, priority 800).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: response-transformer
 *     config:
 *       remove: { headers: [x-powered-by, server] }
 *       add: { headers: ['cache-control:no-store'] }
 *       append: { headers: ['x-served-by:gatehouse'] }
 * ```
 */
export const plugin: GatewayPlugin<ResponseTransformerConfig> = {
  name: 'response-transformer',
  version: '1.0.0',
  priority: 800,
  band: 'transform',
  description: 'Removes, renames, replaces, adds and appends response headers.',
  schema: responseTransformerSchema,
  create(config) {
    const edits: HeaderEdits = {
      remove: config.remove.headers.map((e) => splitEntry(e)[0].toLowerCase()),
      rename: entryPairs(config.rename.headers, true),
      replace: entryPairs(config.replace.headers, false),
      replaceAlways: new Set(),
      add: entryPairs(config.add.headers, false),
      append: entryPairs(config.append.headers, false),
    }

    return {
      response(state) {
        applyHeaderEdits(state.response!.headers, edits)
      },
    }
  },
}
