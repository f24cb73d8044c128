/**
 * The parts' results as one answer. The document is `{ "<part>": <its JSON>, …, "_errors": {…} }` in
 * configuration order, each answer spliced in as the service wrote it (no re-serialisation, so numbers
 * keep their precision). What makes the whole answer fail: every attempted part failed, or a required
 * one did; a required part's 404 means the thing does not exist and is passed through.
 */
import { GatehouseError } from '../errors/errors.ts'
import type { PartFailure, PartResult } from './call-part.ts'
import type { PlannedPart } from './plan.ts'

export type CompositionOutcome =
  | {
      readonly kind: 'document'
      readonly body: string
      /** Every part the caller may see arrived. */
      readonly completed: boolean
      /** A part only authenticated callers get was asked for: the answer is this caller's. */
      readonly personal: boolean
      readonly failed: readonly string[]
    }
  | { readonly kind: 'not-found'; readonly part: PartFailure; readonly personal: boolean }
  | { readonly kind: 'failed'; readonly error: GatehouseError; readonly failed: readonly string[] }

export function mergeParts(
  parts: readonly PlannedPart[],
  results: readonly PartResult[],
): CompositionOutcome {
  const failed: string[] = []
  let requiredFailed = false
  let allTimeouts = true
  let notFound: PartFailure | null = null
  for (let i = 0; i < parts.length; i++) {
    const r = results[i]!
    if (r.ok) continue
    failed.push(parts[i]!.name)
    if (r.code !== 'GH_ERR_UPSTREAM_TIMEOUT') allTimeouts = false
    if (!parts[i]!.required) continue
    requiredFailed = true
    if (r.status === 404) notFound ??= r
  }
  const personal = parts.some((p) => !p.public)
  if (notFound !== null) return { kind: 'not-found', part: notFound, personal }
  if (requiredFailed || (failed.length > 0 && failed.length === parts.length)) {
    return { kind: 'failed', error: wholeFailure(parts, results, failed, allTimeouts), failed }
  }
  return {
    kind: 'document',
    body: document(parts, results),
    completed: failed.length === 0,
    personal,
    failed,
  }
}

function document(parts: readonly PlannedPart[], results: readonly PartResult[]): string {
  let body = '{'
  let errors = ''
  for (let i = 0; i < parts.length; i++) {
    const name = JSON.stringify(parts[i]!.name)
    const r = results[i]!
    if (i > 0) body += ','
    if (r.ok) {
      body += `${name}:${r.json}`
      continue
    }
    body += `${name}:null`
    const entry: { code: string; message: string; status?: number } = { code: r.code, message: r.message }
    if (r.status !== null) entry.status = r.status
    errors += `${errors === '' ? '' : ','}${name}:${JSON.stringify(entry)}`
  }
  if (errors !== '') body += `,"_errors":{${errors}}`
  return `${body}}`
}

function wholeFailure(
  parts: readonly PlannedPart[],
  results: readonly PartResult[],
  failed: readonly string[],
  allTimeouts: boolean,
): GatehouseError {
  const detail = parts
    .flatMap((p, i) => {
      const r = results[i]!
      return r.ok ? [] : [`${p.name}: ${r.code} ${r.message}${r.detail ? ` (${r.detail})` : ''}`]
    })
    .join('; ')
  const list = failed.join(', ')
  return allTimeouts
    ? new GatehouseError('GH_ERR_UPSTREAM_TIMEOUT', `The composition timed out; no answer from: ${list}`, {
        detail,
      })
    : new GatehouseError('GH_ERR_COMPOSITION_FAILED', `The composition failed; failed parts: ${list}`, {
        detail,
      })
}
