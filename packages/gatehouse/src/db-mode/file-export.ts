/**
 * `gatehouse config export` on a DB-less node: the entities its configuration file declares, as the
 * format 3.0 document DB mode's export writes (flat lists with their ids, references as `{ id }`), so
 * `config import` takes it as it is. Built from the file as written (a Kong 2.x file upgraded first) and
 * the configuration loaded from it, paired by documents.ts: secrets stay as the file has them (vault
 * references as references, keys as written; basic-auth passwords as the argon2id hashes the loader
 * made, which load back as the same credentials). DB mode does not keep upstreams and targets; a file
 * does, so they are exported too.
 */
import type { GatewayConfig } from '../config/model.ts'
import { applyEdits, planUpgrade } from '../config/upgrade-2x.ts'
import { entitiesFromDocument, exportDocument } from './documents.ts'
import type { EntityKind } from './kinds.ts'

type Doc = Record<string, unknown>

export function fileModeExport(
  written: Doc,
  config: GatewayConfig,
  kinds: readonly EntityKind[],
): { document: Doc; count: number } {
  const upgrade = planUpgrade(written)
  const raw = upgrade ? applyEdits(written, upgrade.edits) : written
  const entities = entitiesFromDocument(raw, config, kinds, [], 0)
  const document = exportDocument(entities, kinds)
  // After the kinds' lists: a declarative file's sections may come in any order.
  const upstreams = config.upstreams.map(({ created_at: _c, updated_at: _u, ...u }) => withoutNulls(u))
  const targets = config.targets.map(({ created_at: _c, updated_at: _u, ...t }) => withoutNulls(t))
  if (upstreams.length > 0) document.upstreams = upstreams
  if (targets.length > 0) document.targets = targets
  return { document, count: entities.length + upstreams.length + targets.length }
}

function withoutNulls(fields: Doc): Doc {
  return Object.fromEntries(Object.entries(fields).filter(([, v]) => v !== null && v !== undefined))
}
