/**
 * Secret references in configuration values, as Kong writes them: a whole string value
 * `{vault://env/my-secret}` is replaced by the environment variable MY_SECRET (upper-cased, dashes to
 * underscores); `{vault://env/my-secret/field}` reads one field of a JSON value. Resolved once at load,
 * so a secret never needs to be written in the file, and never shows in a message about the file: every
 * resolved value is remembered so `redactSecrets` can put the reference back in its place.
 */
import type { ConfigIssue } from '../errors/errors.ts'
import { joinPath } from './format-issues.ts'

const REFERENCE = /^\{vault:\/\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_.-]+)(?:\/([A-Za-z0-9_.-]+))?\}$/

/** Values shorter than this are not worth hiding and would garble every message they occur in. */
const MIN_REDACTED_LENGTH = 4

export interface VaultSecret {
  /** The reference as written, e.g. `{vault://env/admin-token}`. */
  readonly reference: string
  readonly value: string
}

export interface VaultResolution {
  /** A copy of the input with every reference replaced by its value. */
  readonly value: unknown
  /** Problems with references, at the key path of the value. */
  readonly issues: ConfigIssue[]
  /** Every resolved value, longest first. */
  readonly secrets: VaultSecret[]
}

export function resolveVaultReferences(value: unknown, env: NodeJS.ProcessEnv): VaultResolution {
  const issues: ConfigIssue[] = []
  const secrets: VaultSecret[] = []
  const resolved = resolve(value, env, issues, secrets, '')
  // Longest first, so that a secret containing another is redacted whole.
  secrets.sort((a, b) => b.value.length - a.value.length)
  return { value: resolved, issues, secrets }
}

/** `message` with every resolved secret value replaced by the reference it came from. */
export function redactSecrets(message: string, secrets: readonly VaultSecret[]): string {
  let out = message
  for (const { reference, value } of secrets) {
    if (value.length >= MIN_REDACTED_LENGTH) out = out.replaceAll(value, reference)
  }
  return out
}

function resolve(
  value: unknown,
  env: NodeJS.ProcessEnv,
  issues: ConfigIssue[],
  secrets: VaultSecret[],
  path: string,
): unknown {
  if (typeof value === 'string') {
    if (!value.startsWith('{vault://')) return value
    const m = REFERENCE.exec(value)
    if (!m) {
      issues.push({
        path,
        message: 'malformed vault reference; expected {vault://env/NAME} or {vault://env/NAME/field}',
      })
      return value
    }
    const [, vault, name, field] = m as unknown as [string, string, string, string | undefined]
    if (vault !== 'env') {
      issues.push({ path, message: `vault '${vault}' is not supported; use {vault://env/NAME}` })
      return value
    }
    const variable = name.toUpperCase().replaceAll('-', '_')
    const raw = env[variable]
    if (raw === undefined) {
      issues.push({ path, message: `vault reference: environment variable ${variable} is not set` })
      return value
    }
    if (field === undefined) {
      secrets.push({ reference: value, value: raw })
      return raw
    }
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>
      const v = parsed?.[field]
      if (typeof v === 'string') {
        secrets.push({ reference: value, value: v })
        return v
      }
      issues.push({ path, message: `vault reference: ${variable} has no string field '${field}'` })
    } catch {
      issues.push({
        path,
        message: `vault reference: ${variable} is not JSON, so it has no field '${field}'`,
      })
    }
    return value
  }
  if (Array.isArray(value)) return value.map((v, i) => resolve(v, env, issues, secrets, joinPath(path, i)))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) out[k] = resolve(v, env, issues, secrets, joinPath(path, k))
    return out
  }
  return value
}
