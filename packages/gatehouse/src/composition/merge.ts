/**
 * The parts' results as one answer. The document is `{ "<part>": <its JSON>, …, "_errors": {…} }` in
 * configuration order, each answer spliced in as the service wrote it (no re-serialisation, so numbers
 * keep their precision). What makes the whole answer fail: every attempted part failed, or a required
 * one did; a required part's 404 means the thing does not exist and is passed through. When the parts
 * that decide it were all refused by their services (4xx), the answer is that refusal, with the first
 * one's status: the caller may not have it, which is not the gateway failing (502).
 */
import { GatehouseError } from '../errors/errors.ts'
import type { FailedPart } from '../pipeline/request-state.ts'
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
      readonly failed: readonly FailedPart[]
    }
  | { readonly kind: 'not-found'; readonly part: PartFailure; readonly personal: boolean }
  | {
      readonly kind: 'failed'
      readonly error: GatehouseError
      /** The answer's status: the error's, or the status of the refusal that decided it. */
      readonly status: number
      readonly failed: readonly FailedPart[]
    }

export function mergeParts(
  parts: readonly PlannedPart[],
  results: readonly PartResult[],
): CompositionOutcome {
  const failed: FailedPart[] = []
  const requiredFailed: number[] = []
  let allTimeouts = true
  let notFound: PartFailure | null = null
  for (let i = 0; i < parts.length; i++) {
    const r = results[i]!
    if (r.ok) continue
    failed.push({ name: parts[i]!.name, code: r.code, status: r.status })
    if (r.code !== 'GH_ERR_UPSTREAM_TIMEOUT') allTimeouts = false
    if (!parts[i]!.required) continue
    requiredFailed.push(i)
    if (r.status === 404) notFound ??= r
  }
  const personal = parts.some((p) => !p.public)
  if (notFound !== null) return { kind: 'not-found', part: notFound, personal }
  if (requiredFailed.length > 0 || (failed.length > 0 && failed.length === parts.length)) {
    const deciding = requiredFailed.length > 0 ? requiredFailed : parts.map((_, i) => i)
    return { kind: 'failed', ...wholeFailure(parts, results, failed, deciding, allTimeouts), failed }
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
  failed: readonly FailedPart[],
  deciding: readonly number[],
  allTimeouts: boolean,
): { error: GatehouseError; status: number } {
  const detail = parts
    .flatMap((p, i) => {
      const r = results[i]!
      return r.ok ? [] : [`${p.name}: ${r.code} ${r.message}${r.detail ? ` (${r.detail})` : ''}`]
    })
    .join('; ')
  const list = failed.map((f) => f.name).join(', ')
  if (allTimeouts) {
    const error = new GatehouseError(
      'GH_ERR_UPSTREAM_TIMEOUT',
      `The composition timed out; no answer from: ${list}`,
      { detail },
    )
    return { error, status: error.status }
  }
  const refusals = deciding.map((i) => results[i]!) as PartFailure[]
  if (refusals.every((r) => r.code === 'GH_ERR_COMPOSITION_PART_REFUSED')) {
    const named = deciding.map((i, n) => `${parts[i]!.name} (${refusals[n]!.status})`).join(', ')
    const which =
      deciding.length === 1 ? 'part was refused by its service' : 'parts were refused by their services'
    const message = `The composition's ${which}: ${named}`
    const error = new GatehouseError('GH_ERR_COMPOSITION_PART_REFUSED', message, { detail })
    return { error, status: clientStatusOf(refusals[0]!.status!) }
  }
  const error = new GatehouseError(
    'GH_ERR_COMPOSITION_FAILED',
    `The composition failed; failed parts: ${list}`,
    { detail },
  )
  return { error, status: error.status }
}

/**
 * The status a composition answers for a part's refusal: the part's own, except for the two that would
 * oblige the answer to carry a challenge (RFC 9110 §15.5.2, §15.5.8) that only that part could give.
 * The client passed the gateway's own checks; the service behind it said no: 403.
 */
function clientStatusOf(partStatus: number): number {
  return partStatus === 401 || partStatus === 407 ? 403 : partStatus
}
