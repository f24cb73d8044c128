/**
 * Consumer credentials (jwt_secrets, keyauth_credentials, ...), nested under a consumer or top-level
 * naming it, turned into flat lists by the definitions of the plugins that own them. The core fills id,
 * consumer, tags and created_at and checks uniqueness; each definition builds its own fields. Unique
 * values are never quoted in messages: some of them (API keys) are secrets.
 */
import type { PluginRegistry } from '../plugins/registry.ts'
import type { CredentialDefinition } from '../plugins/types.ts'
import type { EntityIndex } from './entity-index.ts'
import type { ConsumerEntity, CredentialEntity } from './model.ts'
import type { Reference } from './schema/typedefs.ts'
import { stableId } from './stable-id.ts'

type RawCredential = Record<string, unknown> & { id?: string; tags?: string[]; consumer?: Reference }

/**
 * Values generated for fields a file leaves out, kept per entity across reloads of this process, so a
 * reload does not invalidate every generated key. Bounded by the number of credentials ever loaded.
 */
const generatedValues = new Map<string, string>()

export interface CredentialSources {
  readonly consumers: readonly { entity: ConsumerEntity; raw: Record<string, unknown>; at: string }[]
  readonly topLevel: Readonly<Record<string, unknown>>
  readonly consumerIndex: EntityIndex
}

export function normalizeCredentials(
  sources: CredentialSources,
  registry: PluginRegistry,
  nowSeconds: number,
  issue: (path: string, message: string) => void,
  notice: (message: string) => void,
): Record<string, CredentialEntity[]> {
  const consumersById = new Map(sources.consumers.map((c) => [c.entity.id, c.entity]))
  const out: Record<string, CredentialEntity[]> = {}
  for (const def of registry.credentialDefinitions()) {
    const pending: { raw: RawCredential; at: string; consumer: ConsumerEntity | undefined }[] = []
    for (const c of sources.consumers) {
      for (const [j, raw] of ((c.raw[def.name] as RawCredential[] | undefined) ?? []).entries()) {
        pending.push({ raw, at: `${c.at}.${def.name}[${j}]`, consumer: c.entity })
      }
    }
    for (const [j, raw] of ((sources.topLevel[def.name] as RawCredential[] | undefined) ?? []).entries()) {
      const at = `${def.name}[${j}]`
      if (raw.consumer === undefined) {
        issue(`${at}.consumer`, 'is required for a credential declared at the top level')
        continue
      }
      const id = sources.consumerIndex.resolve(raw.consumer, `${at}.consumer`)
      pending.push({ raw, at, consumer: id ? consumersById.get(id) : undefined })
    }
    out[def.name] = buildAll(def, pending, nowSeconds, issue, notice)
  }
  return out
}

function buildAll(
  def: CredentialDefinition,
  pending: readonly { raw: RawCredential; at: string; consumer: ConsumerEntity | undefined }[],
  nowSeconds: number,
  issue: (path: string, message: string) => void,
  notice: (message: string) => void,
): CredentialEntity[] {
  const entities: CredentialEntity[] = []
  const seenIds = new Map<string, string>()
  const seenUnique = new Map<string, string>()
  for (const { raw, at, consumer } of pending) {
    if (!consumer) continue // its reference was reported
    const { id: rawId, tags, consumer: _ref, _comment, _ignore, ...fields } = raw
    const endpointValue = def.endpointKey && !def.endpointKeyIsSecret ? fields[def.endpointKey] : undefined
    const id =
      rawId ?? stableId(def.name, typeof endpointValue === 'string' ? endpointValue : `${consumer.id}:${at}`)
    const other = seenIds.get(id)
    if (other && rawId !== undefined) issue(`${at}.id`, `duplicate id (also at ${other})`)
    seenIds.set(id, at)
    const built = def.build(fields, {
      at,
      consumer,
      issue: (field, message) => issue(field === null ? at : `${at}.${field}`, message),
      generated: (field, make) => {
        const key = `${def.name}\0${id}\0${field}`
        let value = generatedValues.get(key)
        if (value === undefined) {
          value = make()
          generatedValues.set(key, value)
        }
        notice(
          `${at}.${field}: not set, so one was generated; it changes when the process restarts — set it in the file`,
        )
        return value
      },
    })
    const entity: CredentialEntity = {
      id,
      consumer: { id: consumer.id },
      ...built,
      tags: tags ?? null,
      created_at: nowSeconds,
    }
    for (const field of def.unique)
      checkUnique(seenUnique, `${field}\0${String(entity[field])}`, at, field, issue)
    for (const field of def.uniquePerConsumer ?? []) {
      checkUnique(
        seenUnique,
        `${consumer.id}\0${field}\0${String(entity[field])}`,
        at,
        field,
        issue,
        ' for this consumer',
      )
    }
    entities.push(entity)
  }
  return entities
}

function checkUnique(
  seen: Map<string, string>,
  key: string,
  at: string,
  field: string,
  issue: (path: string, message: string) => void,
  scope = '',
): void {
  const other = seen.get(key)
  if (other) issue(`${at}.${field}`, `must be unique${scope}; the same value is at ${other}`)
  else seen.set(key, at)
}

export function presentCredential(
  def: CredentialDefinition,
  entity: CredentialEntity,
): Record<string, unknown> {
  return def.present ? def.present(entity) : { ...entity }
}
