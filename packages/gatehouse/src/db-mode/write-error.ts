/**
 * A refused DB-mode write, carrying the fields Kong's admin API adds to its error body (`name`, and
 * `fields` naming what is wrong), which admin/writes.ts merges into our envelope. Messages follow
 * kong/db/errors.lua: `schema violation (url: ...)`, `UNIQUE violation detected on '{name="orders"}'`,
 * `an existing 'routes' entity references this 'services' entity`.
 */
import { type ConfigIssue, GatehouseError, type GatehouseErrorCode } from '../errors/errors.ts'

export class EntityWriteError extends GatehouseError {
  /** Merged into the error envelope. */
  readonly body: Readonly<Record<string, unknown>>

  constructor(code: GatehouseErrorCode, message: string, body: Record<string, unknown>) {
    super(code, message)
    this.name = 'EntityWriteError'
    this.body = body
  }
}

/** The loader's issues, each path relative to the written entity where it lies in it. */
export function schemaViolation(issues: readonly ConfigIssue[]): EntityWriteError {
  const fields: Record<string, unknown> = {}
  const whole: string[] = []
  for (const { path, message } of issues) {
    if (path === '') whole.push(message)
    else fields[path] = fields[path] === undefined ? message : `${fields[path]}; ${message}`
  }
  if (whole.length > 0) fields['@entity'] = whole
  const parts = issues.map((i) => (i.path === '' ? i.message : `${i.path}: ${i.message}`))
  const message =
    parts.length === 1
      ? `schema violation (${parts[0]})`
      : `${parts.length} schema violations (${parts.join('; ')})`
  return new EntityWriteError('GH_ERR_CONFIG_INVALID', message, {
    name: 'schema violation',
    fields,
    flattened_errors: issues,
  })
}

/** Kong's unique violation (409); `shown` is what the message may quote (never a secret). */
export function uniqueViolation(shown: string, fields: Record<string, unknown>): EntityWriteError {
  return new EntityWriteError('GH_ERR_ADMIN_CONFLICT', `UNIQUE violation detected on '${shown}'`, {
    name: 'unique constraint violation',
    fields,
  })
}

/** Kong's restricted foreign key (400): `child` entities still refer to the `parent` being deleted. */
export function referencedBy(parent: string, child: string): EntityWriteError {
  return new EntityWriteError(
    'GH_ERR_ADMIN_REFERENCED',
    `an existing '${child}' entity references this '${parent}' entity`,
    { name: 'foreign key violation', fields: { '@referenced_by': child } },
  )
}
