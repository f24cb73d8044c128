/**
 * Upstreams and their targets from a schema-checked document: nested targets get their upstream, top-level
 * ones resolve theirs by name or id, target addresses are written out in full (`host:port`, Kong's
 * default port 8000), and what this version cannot balance is refused here, by name, rather than
 * loaded and ignored.
 */
import { EntityIndex } from './entity-index.ts'
import type { TargetEntity, UpstreamEntity } from './model.ts'
import type { DeclarativeDocument } from './schema/root.ts'
import type { Reference } from './schema/typedefs.ts'
import { parseTarget, SUPPORTED_ALGORITHMS } from './schema/upstream.ts'
import { stableId } from './stable-id.ts'

type RawUpstream = NonNullable<DeclarativeDocument['upstreams']>[number]
type RawTarget = NonNullable<RawUpstream['targets']>[number] & { upstream?: Reference | undefined }
type Issue = (path: string, message: string) => void

export function normalizeUpstreams(
  doc: Pick<DeclarativeDocument, 'upstreams' | 'targets'>,
  stamp: { created_at: number; updated_at: number },
  issue: Issue,
  notice: (message: string) => void,
): { upstreams: UpstreamEntity[]; targets: TargetEntity[] } {
  const upstreams: UpstreamEntity[] = []
  const index = new EntityIndex('upstream', issue)
  const pending: { raw: RawTarget; at: string; upstreamId?: string }[] = []
  for (const [i, raw] of (doc.upstreams ?? []).entries()) {
    const at = `upstreams[${i}]`
    const upstream = buildUpstream(raw, at, issue, stamp)
    upstreams.push(upstream)
    index.add(upstream.id, raw.id !== undefined, at, [['name', upstream.name || null]])
    for (const [j, t] of (raw.targets ?? []).entries())
      pending.push({ raw: t, at: `${at}.targets[${j}]`, upstreamId: upstream.id })
  }
  for (const [i, t] of (doc.targets ?? []).entries()) pending.push({ raw: t, at: `targets[${i}]` })

  const targets: TargetEntity[] = []
  const seen = new Map<string, string>()
  for (const { raw, at, upstreamId } of pending) {
    let id = upstreamId
    if (upstreamId !== undefined && raw.upstream !== undefined)
      issue(`${at}.upstream`, 'is set by the enclosing upstream; remove it')
    else if (upstreamId === undefined) {
      if (raw.upstream === undefined) {
        issue(`${at}.upstream`, 'is required for a top-level target (or nest it under its upstream)')
        continue
      }
      id = index.resolve(raw.upstream, `${at}.upstream`)
    }
    // A missing or bad address was reported by the schema pass (this may be its lenient second read).
    const address = typeof raw.target === 'string' ? parseTarget(raw.target) : null
    if (id === undefined || address === null) continue
    const target = `${address.host}:${address.port}`
    const key = `${id}\0${target}`
    const first = seen.get(key)
    if (first !== undefined) {
      issue(`${at}.target`, `duplicate target '${target}' in this upstream (also at ${first})`)
      continue
    }
    seen.set(key, at)
    targets.push({
      id: raw.id ?? stableId('target', `${id}:${target}`),
      upstream: { id },
      target,
      weight: raw.weight,
      tags: raw.tags ?? null,
      ...stamp,
    })
  }
  for (const u of upstreams) {
    if (!targets.some((t) => t.upstream.id === u.id && t.weight > 0))
      notice(`upstream '${u.name}' has no target with a weight above 0; its services answer 503`)
  }
  return { upstreams, targets }
}

function buildUpstream(
  raw: RawUpstream,
  at: string,
  issue: Issue,
  stamp: { created_at: number; updated_at: number },
): UpstreamEntity {
  if (!SUPPORTED_ALGORITHMS.has(raw.algorithm))
    issue(`${at}.algorithm`, `'${raw.algorithm}' is not supported yet; use round-robin or least-connections`)
  for (const key of ['hash_on', 'hash_fallback'] as const) {
    if (raw[key] !== 'none')
      issue(`${at}.${key}`, `hashing on '${raw[key]}' needs consistent-hashing, which is not supported yet`)
  }
  if (raw.use_srv_name) issue(`${at}.use_srv_name`, 'SRV records are not resolved yet; remove it')
  const active = raw.healthchecks.active
  if (active.type === 'grpc' || active.type === 'grpcs')
    issue(
      `${at}.healthchecks.active.type`,
      `'${active.type}' probes are not supported yet; use http, https or tcp`,
    )
  const name = (raw.name ?? '').toLowerCase()
  return {
    id: raw.id ?? stableId('upstream', name),
    name,
    algorithm: raw.algorithm as UpstreamEntity['algorithm'],
    hash_on: 'none',
    hash_fallback: 'none',
    hash_on_header: raw.hash_on_header ?? null,
    hash_fallback_header: raw.hash_fallback_header ?? null,
    hash_on_cookie: raw.hash_on_cookie ?? null,
    hash_on_cookie_path: raw.hash_on_cookie_path,
    hash_on_query_arg: raw.hash_on_query_arg ?? null,
    hash_fallback_query_arg: raw.hash_fallback_query_arg ?? null,
    hash_on_uri_capture: raw.hash_on_uri_capture ?? null,
    hash_fallback_uri_capture: raw.hash_fallback_uri_capture ?? null,
    slots: raw.slots,
    healthchecks: raw.healthchecks,
    host_header: raw.host_header?.toLowerCase() ?? null,
    use_srv_name: false,
    tags: raw.tags ?? null,
    ...stamp,
  }
}
