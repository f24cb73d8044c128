/**
 * Admin request bodies checked with every problem named by its field: the message lists them all
 * (`username: ...; email: ...`), and `fields` maps each path to its problem, as Kong's schema violations
 * and the DB-mode entity writes give them, so a console can show each next to its field. The parser's
 * own message is never sent: it quotes the body, which may hold a password or a token.
 */
import type { z } from 'zod'
import { zodIssuesToConfigIssues } from '../config/format-issues.ts'
import { GatehouseError, type GatehouseErrorCode } from '../errors/errors.ts'
import type { FieldProblem } from '../identity/manage/refusal.ts'
import { type AdminEnv, type AdminRequest, readBody, sendError } from './http.ts'

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

export interface Answer {
  readonly error: GatehouseError
  readonly fields: Readonly<Record<string, string>> | null
}

/** A refusal naming each field: the message lists them all, `fields` maps each path to its problem. */
export function fieldsRefusal(code: GatehouseErrorCode, problems: readonly FieldProblem[]): Answer {
  const parts = problems.map((p) => (p.path === '' ? p.message : `${p.path}: ${p.message}`))
  return { error: new GatehouseError(code, parts.join('; ')), fields: fieldsOf(problems) }
}

export function fieldsOf(problems: readonly FieldProblem[]): Record<string, string> {
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
