/**
 * Secret references in configuration values, as Kong writes them: a whole string value
 * `{vault://env/my-secret}` is replaced by the environment variable MY_SECRET (upper-cased, dashes to
 * underscores); `{vault://env/my-secret/field}` reads one field of a JSON value. Resolved once at load,
 * so a secret never needs to be written in the file.
 */
import type { ConfigIssue } from '../errors/errors.ts'

const REFERENCE = /^\{vault:\/\/([A-Za-z0-9_-]+)\/([A-Za-z0-9_.-]+)(?:\/([A-Za-z0-9_.-]+))?\}$/

/** A copy of `value` with every reference resolved; problems are pushed to `issues` with their key path. */
export function resolveVaultReferences(
  value: unknown,
  env: NodeJS.ProcessEnv,
  issues: ConfigIssue[],
  path = '',
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
    if (field === undefined) return raw
    try {
      const parsed = JSON.parse(raw) as Record<string, unknown>
      const v = parsed?.[field]
      if (typeof v === 'string') return v
      issues.push({ path, message: `vault reference: ${variable} has no string field '${field}'` })
    } catch {
      issues.push({
        path,
        message: `vault reference: ${variable} is not JSON, so it has no field '${field}'`,
      })
    }
    return value
  }
  if (Array.isArray(value))
    return value.map((v, i) => resolveVaultReferences(v, env, issues, `${path}[${i}]`))
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {}
    for (const [k, v] of Object.entries(value)) {
      out[k] = resolveVaultReferences(v, env, issues, path ? `${path}.${k}` : k)
    }
    return out
  }
  return value
}
