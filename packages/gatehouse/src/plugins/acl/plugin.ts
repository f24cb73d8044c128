/**
 * acl: lets a consumer through, or not, by the groups its `acls` entries name (Kong's acl plugin), after
 * authentication has identified it. No consumer → 401; not allowed → 403 "You cannot consume this
 * service". Allowed consumers' groups go upstream in X-Consumer-Groups (the core strips any a client
 * sends). Group lists are built once per configuration, so a request costs one map lookup.
 */
import { refuse } from '../../pipeline/authenticate.ts'
import type { GatewayPlugin } from '../types.ts'
import { type AclConfig, aclCredentialFields, aclSchema } from './schema.ts'

/**
 * The `acl` plugin (Kong's contract, priority 950).
 *
 * @example
 * ```yaml
 * consumers:
 *   - username: alice
 *     acls: [{ group: admins }]
 * plugins:
 *   - name: acl
 *     route: admin-api
 *     config: { allow: [admins] }
 * ```
 */
export const plugin: GatewayPlugin<AclConfig> = {
  name: 'acl',
  version: '1.0.0',
  priority: 950,
  band: 'authorization',
  description: 'Allows or denies authenticated consumers by their groups.',
  schema: aclSchema,
  scopes: { consumer: false },
  credentials: [
    {
      name: 'acls',
      adminCollection: 'acls',
      adminNested: 'acls',
      endpointKey: null,
      unique: [],
      uniquePerConsumer: ['group'],
      fields: aclCredentialFields,
      build: (fields) => ({ group: fields.group }),
    },
  ],
  create(config, ctx) {
    const groupsByConsumer = ctx.memo('groups', () => {
      const byConsumer = new Map<string, string[]>()
      for (const acl of ctx.credentials('acls')) {
        const list = byConsumer.get(acl.consumer.id) ?? []
        list.push(acl.group as string)
        byConsumer.set(acl.consumer.id, list)
      }
      return byConsumer
    })
    const allow = config.allow?.length ? new Set(config.allow) : null
    const deny = config.deny?.length ? new Set(config.deny) : null
    // Per consumer: false when refused, else the X-Consumer-Groups value; computed on first use.
    const decisions = new Map<string, string | false>()
    const decide = (consumerId: string): string | false => {
      const groups = groupsByConsumer.get(consumerId) ?? []
      const member = (set: Set<string>) => groups.some((g) => set.has(g))
      const allowed = allow !== null ? member(allow) : !member(deny!)
      return allowed ? groups.join(', ') : false
    }
    return {
      access(state) {
        const consumer = state.consumer
        if (consumer === null) {
          refuse(
            state,
            401,
            { message: 'Unauthorized' },
            undefined,
            'GH_ERR_AUTH_CREDENTIALS_MISSING',
            'acl_no_consumer',
          )
          return
        }
        let decision = decisions.get(consumer.id)
        if (decision === undefined) {
          decision = decide(consumer.id)
          decisions.set(consumer.id, decision)
        }
        if (decision === false) {
          const body = { message: 'You cannot consume this service' }
          refuse(state, 403, body, undefined, 'GH_ERR_AUTH_ACCESS_DENIED', 'acl_group_not_allowed')
          return
        }
        if (!config.hide_groups_header && decision !== '')
          state.setUpstreamHeader('x-consumer-groups', decision)
      },
    }
  },
}
