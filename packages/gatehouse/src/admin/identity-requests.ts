/**
 * What the identity provider's admin resources (identity-users.ts, identity-clients.ts, identity-keys.ts)
 * share: the running provider or the 404 that names the setting, JSON bodies checked with every problem
 * named by its field (`fields`, as Kong's schema violations and the entity writes give them), and the
 * shared checks' refusals (identity/manage/) as coded answers. A store that cannot be reached throws
 * StoreUnavailableError, which the listener answers 503 GH_ERR_STORE_UNAVAILABLE (server.ts).
 */
import type { z } from 'zod'
import { zodIssuesToConfigIssues } from '../config/format-issues.ts'
import type { IdentityConfig } from '../config/normalize-identity.ts'
import { GatehouseError, type GatehouseErrorCode } from '../errors/errors.ts'
import type { IdentityHost } from '../identity/host.ts'
import { type FieldProblem, IdentityChangeRefused } from '../identity/manage/refusal.ts'
import type { AdminContext } from './context.ts'
import { type AdminEnv, type AdminRequest, readBody, sendError } from './http.ts'

/** Why every /identity/… route answers 404 while the provider is off (dispatch.ts says it first). */
export const IDENTITY_OFF =
  'the built-in identity provider is not enabled (identity.enabled: false): it has no users, clients or keys to manage'

export function identityOff(): GatehouseError {
  return new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', IDENTITY_OFF)
}

/** The running provider and its section of the running configuration; null (404 sent) when it is off. */
export function identityFor(
  ctx: AdminContext,
  a: AdminRequest,
): { host: IdentityHost; identity: IdentityConfig } | null {
  const host = ctx.identity()
  // A reload may have turned it off since dispatch looked.
  if (host === null) {
    sendError(a.res, identityOff())
    return null
  }
  return { host, identity: ctx.config().settings.identity }
}

/** The body checked by `schema`, or null once the 400 naming every field in error was sent. */
export async function checkedBody<S extends z.ZodType>(
  a: AdminRequest,
  env: AdminEnv,
  schema: S,
  options: { optional?: boolean } = {},
): Promise<z.output<S> | null> {
  const text = (await readBody(a.req, env.maxBodySize)).toString('utf8')
  let json: unknown = {}
  if (text.trim() !== '' || options.optional !== true) {
    try {
      json = JSON.parse(text)
    } catch {
      // The parser's message would quote the body, which may hold a password.
      sendError(a.res, new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', 'the body must be a JSON object'))
      return null
    }
  }
  const checked = schema.safeParse(json)
  if (checked.success) return checked.data
  const issues = checked.error.issues.map((i) =>
    // A claim name's own rule is nested in zod's generic "Invalid key in record".
    i.code === 'invalid_key' ? { ...i, message: i.issues[0]?.message ?? i.message } : i,
  )
  sendRefusal(a, fieldsRefusal('GH_ERR_ADMIN_BAD_REQUEST', zodIssuesToConfigIssues(issues, schema)))
  return null
}

/** Runs a change; a refusal of the shared checks becomes its answer (and `undefined` is returned). */
export async function refusedAnswered<T>(a: AdminRequest, run: () => Promise<T>): Promise<T | undefined> {
  try {
    return await run()
  } catch (err) {
    if (!(err instanceof IdentityChangeRefused)) throw err
    sendRefusal(a, asAnswer(err))
    return undefined
  }
}

interface Answer {
  readonly error: GatehouseError
  readonly fields: Readonly<Record<string, string>> | null
}

function asAnswer(err: IdentityChangeRefused): Answer {
  switch (err.kind) {
    case 'invalid':
      return err.problems.length > 0
        ? fieldsRefusal('GH_ERR_ADMIN_BAD_REQUEST', err.problems)
        : { error: new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', err.message), fields: null }
    case 'managed':
      return { error: new GatehouseError('GH_ERR_ADMIN_MANAGED_BY_CONFIG', err.message), fields: null }
    case 'not_found':
      return { error: new GatehouseError('GH_ERR_ADMIN_NOT_FOUND', err.message), fields: null }
    case 'taken':
      return {
        error: new GatehouseError('GH_ERR_ADMIN_CONFLICT', err.message),
        fields: fieldsOf(err.problems),
      }
    case 'unconfigured':
      return { error: new GatehouseError('GH_ERR_ADMIN_BAD_REQUEST', err.message), fields: null }
  }
}

/** A refusal naming each field: the message lists them all, `fields` maps each path to its problem. */
export function fieldsRefusal(code: GatehouseErrorCode, problems: readonly FieldProblem[]): Answer {
  const parts = problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`))
  return { error: new GatehouseError(code, parts.join('; ')), fields: fieldsOf(problems) }
}

function fieldsOf(problems: readonly FieldProblem[]): Record<string, string> {
  const fields: Record<string, string> = {}
  for (const { path, message } of problems) {
    const at = path === '' ? '@entity' : path
    fields[at] = fields[at] === undefined ? message : `${fields[at]}; ${message}`
  }
  return fields
}

export function sendRefusal(a: AdminRequest, answer: Answer): void {
  sendError(a.res, answer.error, answer.fields === null ? {} : { fields: answer.fields })
}
