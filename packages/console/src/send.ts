/**
 * Writes to the admin API from the console (POST, PUT, DELETE, with a JSON body), and the one form its
 * refusals take here: the envelope's code and message, plus `fields` (path → problem) when the admin API
 * named the fields it refused, so a form can show each problem next to its field.
 */
import { AdminError, authHeaders } from './api.ts'

/** An AdminError whose answer named the fields at fault (`{"fields": {"password": "…"}}`). */
export class AdminFieldsError extends AdminError {
  readonly fields: Readonly<Record<string, string>>

  constructor(status: number, code: string, message: string, fields: Readonly<Record<string, string>>) {
    super(status, code, message)
    this.name = 'AdminFieldsError'
    this.fields = fields
  }
}

/** The problems of `err` by field ({} when it named none), for a form to show next to its fields. */
export function fieldProblems(err: unknown): Readonly<Record<string, string>> {
  return err instanceof AdminFieldsError ? err.fields : {}
}

/** `method` `path` of the admin API with `body` as JSON; the answer's JSON (null for an empty one). */
export async function adminSend<T>(
  method: 'POST' | 'PUT' | 'DELETE',
  path: string,
  token: string | null,
  body?: unknown,
): Promise<T> {
  const res = await fetch(path, {
    method,
    headers: {
      accept: 'application/json',
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
      ...authHeaders(token),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    cache: 'no-store',
    credentials: 'omit',
  })
  const text = await res.text()
  let json: unknown = null
  try {
    json = text === '' ? null : JSON.parse(text)
  } catch {
    // Not JSON: an error answer still has its status line; a 2xx one is taken as empty.
  }
  if (res.ok) return json as T
  const envelope = (json ?? {}) as { code?: unknown; message?: unknown; fields?: unknown }
  const code = typeof envelope.code === 'string' ? envelope.code : ''
  const message = typeof envelope.message === 'string' ? envelope.message : `${res.status} ${res.statusText}`
  if (envelope.fields !== null && typeof envelope.fields === 'object')
    throw new AdminFieldsError(res.status, code, message, envelope.fields as Record<string, string>)
  throw new AdminError(res.status, code, message)
}

/** A message for any failure of an admin call, with its code when the API gave one. */
export function describeError(err: unknown): string {
  if (err instanceof AdminError) return err.code === '' ? err.message : `${err.message} (${err.code})`
  return err instanceof Error ? err.message : String(err)
}
