/**
 * `gatehouse keys revoke KID`: withdraws a signing key at once (issue 10), whichever kind it is, from
 * wherever this command can reach it, and says exactly what happened and what did not:
 * - the identity provider's key is in the store: removed there (another key signs at once when it was
 *   signing); every node checks the store every second and rebuilds its provider without it;
 * - with the top-level `redis` section a `key` revocation goes to Redis, so every running node refuses
 *   the key and drops it within a second; an internal-token key is found among the public keys the nodes
 *   exchange there, and the command waits until its node has stopped publishing it;
 * - without Redis an internal-token key lives only in its node's memory: the command asks that node's
 *   admin API (`--admin URL`, repeatable; default the configuration's admin.listen), as
 *   `POST /signing-keys/{kid}/revoke` would.
 * Exit 0 when the key was withdrawn; 1 when it was not (unknown kid, nothing reachable), saying why.
 * What this command withdrew is audited (cli/lib/audit.ts); what a node withdrew at its request, by
 * that node.
 */
import { setTimeout as sleep } from 'node:timers/promises'
import { parseArgs } from 'node:util'
import { loadConfigFile } from '../config/load.ts'
import type { GatewayConfig } from '../config/model.ts'
import { type Withdrawal, withdrawKey } from '../identity/keys/rotation.ts'
import { keyWithdrawn } from '../identity/manage/audit.ts'
import { publishersOf } from '../internal-tokens/peer-keys.ts'
import { createLoggers } from '../observability/logger.ts'
import { loadBundledPlugins } from '../plugins/registry.ts'
import { acquireRedis } from '../redis/connections.ts'
import { KEY_ID, newRevocation } from '../redis/revocation.ts'
import { storedRevocation, storeRevocation } from '../redis/revocation-redis.ts'
import { openStore } from '../storage/open.ts'
import type { Store } from '../storage/store.ts'
import { auditCli } from './lib/audit.ts'
import { CommandFailure, UsageError } from './lib/errors.ts'
import { say } from './lib/output.ts'
import { type RevocationOptions, revocationOptions } from './lib/revocation-options.ts'
import { configFileFrom } from './lib/store-command.ts'

/** How long the node owning an internal-token key is given to stop publishing it. */
const CONFIRM_MS = 5000

export async function revokeKey(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      config: { type: 'string', short: 'c' },
      reason: { type: 'string' },
      ttl: { type: 'string' },
      admin: { type: 'string', multiple: true },
    },
    allowPositionals: true,
  })
  if (positionals.length !== 1) throw new UsageError('keys revoke takes one KID')
  const kid = positionals[0]!
  if (!KEY_ID.test(kid)) throw new UsageError('KID must be 1-256 printable ASCII characters', false)
  const { reason, ttl } = revocationOptions(values)

  const file = configFileFrom(values.config, 'keys revoke')
  const config = await loadConfigFile(file, { registry: await loadBundledPlugins() })
  // The identity provider's store: its keys, and the audit trail of what this command withdraws.
  const store = config.settings.identity.enabled ? await openStore(config.settings.storage) : null
  try {
    const ctx = { config, store }
    const provider = store === null ? null : await fromStore(store, config, kid)
    if (provider !== null) {
      say(`identity provider key ${kid} (${provider.alg}, ${provider.was}) removed from the store`)
      if (provider.replacedBy !== null) say(`${provider.alg} key ${provider.replacedBy} signs from now`)
    }
    if (config.settings.redis !== null) return await throughRedis(ctx, kid, provider, { reason, ttl })
    if (provider !== null) {
      await auditCli(ctx, withdrawn(kid, provider, null, false, reason))
      say('running nodes drop it within a second (they check the store every second)')
      return 0
    }
    // The node that withdraws it records the change in its own audit trail.
    return await throughAdmin(config, kid, values.admin ?? [], { reason, ttl })
  } finally {
    await store?.close()
  }
}

/** The provider's key, withdrawn from the store; null when the store has no such key. */
async function fromStore(store: Store, config: GatewayConfig, kid: string): Promise<Withdrawal | null> {
  const identity = config.settings.identity
  const key = (await store.keys.list()).find((k) => k.kid === kid)
  if (key === undefined) return null
  if (identity.secret === undefined && key.state === 'active')
    throw new CommandFailure(
      `identity.secret is not set: no key could replace ${kid}, which is signing; nothing was withdrawn`,
    )
  return await withdrawKey(store, identity, kid)
}

/** The event of a key withdrawn by this command: the provider's, else an internal-token key (`owners`). */
function withdrawn(
  kid: string,
  provider: Withdrawal | null,
  owners: readonly string[] | null,
  revoked: boolean,
  reason: string | null | undefined,
) {
  return keyWithdrawn(kid, {
    key_kind: provider !== null ? 'identity-provider' : owners?.length ? 'internal-token' : null,
    was: provider?.was ?? null,
    replaced_by: provider?.replacedBy ?? null,
    revoked,
    reason: reason ?? null,
  })
}

async function throughRedis(
  ctx: { readonly config: GatewayConfig; readonly store: Store | null },
  kid: string,
  provider: Withdrawal | null,
  options: RevocationOptions,
): Promise<number> {
  const { config } = ctx
  const settings = config.settings.redis!
  const lease = acquireRedis(settings, createLoggers({ level: 'silent' }).logger)
  try {
    let owners: string[]
    try {
      await lease.usable()
      owners = await publishersOf(lease.client, kid)
      if (
        provider === null &&
        owners.length === 0 &&
        (await storedRevocation(lease.client, 'key', kid)) === null
      )
        throw new CommandFailure(
          `no signing key '${kid}': not in the store, and no running node publishes it in ${lease.target}; nothing was withdrawn`,
        )
      await storeRevocation(lease.client, settings, newRevocation({ kind: 'key', id: kid, ...options }))
    } catch (err) {
      if (err instanceof CommandFailure) throw err
      const why = `cannot reach ${lease.target}: ${(err as Error).message}`
      if (provider === null) throw new CommandFailure(`${why}; nothing was withdrawn`)
      await auditCli(ctx, withdrawn(kid, provider, null, false, options.reason))
      say(`${why}; running nodes drop the key within a second anyway (they check the store every second)`)
      return 0
    }
    await auditCli(ctx, withdrawn(kid, provider, owners, true, options.reason))
    say(`revocation recorded in ${lease.target}: every running node refuses ${kid} within a second`)
    if (owners.length === 0) return 0
    const deadline = Date.now() + CONFIRM_MS
    let left = owners
    while (left.length > 0 && Date.now() < deadline) {
      await sleep(200)
      left = await publishersOf(lease.client, kid).catch(() => left)
    }
    if (left.length > 0)
      throw new CommandFailure(
        `node ${left.join(', ')} still publishes internal-token key ${kid} after ${CONFIRM_MS / 1000} s (every node's JWKS leaves it out already); check that node`,
      )
    say(`internal-token key ${kid} withdrawn by node ${owners.join(', ')}, which signs with a new key`)
    return 0
  } finally {
    await lease.release()
  }
}

/** Without Redis: the admin API of the node(s) named, or of the configuration's admin.listen. */
async function throughAdmin(
  config: GatewayConfig,
  kid: string,
  targets: readonly string[],
  options: RevocationOptions,
): Promise<number> {
  const listen = process.env.GATEHOUSE_ADMIN_LISTEN || config.settings.admin.listen
  const urls = (targets.length > 0 ? targets : [listen]).map(adminUrl)
  const token = process.env.GATEHOUSE_ADMIN_TOKEN || config.settings.admin.token
  const unreached: string[] = []
  const unknown: string[] = []
  let withdrawn = false
  for (const url of urls) {
    let res: Response
    try {
      res = await fetch(new URL(`signing-keys/${encodeURIComponent(kid)}/revoke`, url), {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          ...(token !== undefined ? { authorization: `Bearer ${token}` } : {}),
        },
        body: JSON.stringify({ reason: options.reason ?? undefined, ttl: options.ttl }),
        signal: AbortSignal.timeout(10_000),
      })
    } catch (err) {
      const cause = (err as { cause?: { code?: string; message?: string } }).cause
      unreached.push(`${url.href} (${cause?.code ?? cause?.message ?? (err as Error).message})`)
      continue
    }
    const answer = (await res.json().catch(() => ({}))) as Record<string, unknown>
    if (res.status === 201) {
      withdrawn = true
      const data = answer.data as { kind: string | null; was: string | null; replaced_by: string | null }
      say(
        `${data.kind ?? 'key'} ${kid}${data.was !== null ? ` (${data.was})` : ''} withdrawn by the node at ${url.href}` +
          (data.replaced_by !== null ? `; ${data.replaced_by} signs from now` : ''),
      )
    } else if (res.status === 404) unknown.push(url.href)
    else say(`the node at ${url.href} answered ${res.status}: ${String(answer.message ?? '')}`)
  }
  if (withdrawn) return 0
  const problems = [
    `no signing key '${kid}' in the store`,
    ...(unknown.length > 0 ? [`unknown to the node at ${unknown.join(', ')}`] : []),
    ...(unreached.length > 0 ? [`no running node reached: ${unreached.join(', ')}`] : []),
  ]
  throw new CommandFailure(
    `${problems.join('; ')}; nothing was withdrawn (without Redis an internal-token key is withdrawn through its node's admin API: --admin URL)`,
  )
}

/** `--admin http://host:port`, or HOST:PORT as admin.listen writes it (0.0.0.0 meaning this host). */
function adminUrl(target: string): URL {
  const text = /^https?:\/\//.test(target) ? target : `http://${target.replace(/^0\.0\.0\.0:/, '127.0.0.1:')}`
  try {
    const url = new URL(text)
    if (!url.pathname.endsWith('/')) url.pathname += '/'
    return url
  } catch {
    throw new UsageError(`--admin: '${target}' is not a URL or HOST:PORT`, false)
  }
}
