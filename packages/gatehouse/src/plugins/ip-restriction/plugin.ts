/**
 * ip-restriction: refuses clients by address, as Kong's plugin does: `deny` first, then `allow`, on the
 * client address the gateway determined (pipeline.ts: the peer, or the X-Forwarded-For hop behind trusted
 * proxies). The lists are compiled once into node:net BlockLists, so a request costs one or two lookups.
 */
import { GatehouseError } from '../../errors/errors.ts'
import { exitWithError } from '../../pipeline/respond.ts'
import type { GatewayPlugin } from '../types.ts'
import { addressType, compileBlockList } from './addresses.ts'
import { type IpRestrictionConfig, ipRestrictionSchema } from './schema.ts'

/**
 * The `ip-restriction` plugin (Kong's contract, priority 990).
 *
 * @example
 * ```yaml
 * plugins:
 *   - name: ip-restriction
 *     route: admin-api
 *     config: { allow: [10.0.0.0/8, '2001:db8::/32'], deny: [10.0.13.0/24] }
 * ```
 */
export const plugin: GatewayPlugin<IpRestrictionConfig> = {
  name: 'ip-restriction',
  version: '1.0.0',
  priority: 990,
  band: 'authorization',
  description: 'Allows or refuses clients by IPv4/IPv6 address and CIDR block, honouring trusted proxies.',
  schema: ipRestrictionSchema,
  create(config) {
    const allow = compileBlockList(config.allow)
    const deny = compileBlockList(config.deny)
    const status = config.status ?? 403
    const message = config.message ?? null
    return {
      access(state) {
        const address = state.clientIp
        const type = addressType(address)
        let reason: string | null = null
        if (type === null) reason = 'ip_unidentified'
        else if (deny?.check(address, type)) reason = 'ip_denied'
        else if (allow !== null && !allow.check(address, type)) reason = 'ip_not_allowed'
        if (reason === null) return
        // Kong ≥ 3.4 names the address; it is the client's own, as the gateway saw it.
        const text =
          message ??
          (type === null ? 'Cannot identify the client IP address' : `IP address not allowed: ${address}`)
        exitWithError(state, new GatehouseError('GH_ERR_IP_NOT_ALLOWED', text, { detail: reason }), status, {
          message: text,
        })
      },
    }
  },
}
