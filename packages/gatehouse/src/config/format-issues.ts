/**
 * Turns zod issues into `path: message` pairs that say what is wrong and where, in the words of the
 * file: `services[0].routes[1].paths[0]`, `unknown key 'stirp_path' (did you mean 'strip_path'?)`.
 */
import type { z } from 'zod'
import type { ConfigIssue } from '../errors/errors.ts'
import { closest } from './did-you-mean.ts'

export function formatPath(path: readonly PropertyKey[]): string {
  let out = ''
  for (const key of path) {
    if (typeof key === 'number') out += `[${key}]`
    else out += out ? `.${String(key)}` : String(key)
  }
  return out
}

export function joinPath(base: string, key: string | number): string {
  return typeof key === 'number' ? `${base}[${key}]` : base ? `${base}.${key}` : key
}

export function zodIssuesToConfigIssues(issues: readonly z.core.$ZodIssue[], root: z.ZodType): ConfigIssue[] {
  return describeIssues(issues, root).map(({ path, message }) => ({ path: formatPath(path), message }))
}

/**
 * The issues as key paths and reworded messages, one per unknown key (with a did-you-mean hint taken
 * from `root`). A plugin's schema uses this for its own config, since only it knows its keys.
 */
export function describeIssues(
  issues: readonly z.core.$ZodIssue[],
  root: z.ZodType,
): { path: PropertyKey[]; message: string }[] {
  const out: { path: PropertyKey[]; message: string }[] = []
  for (const issue of issues) {
    if (issue.code === 'unrecognized_keys') {
      const known = knownKeysAt(root, issue.path)
      for (const key of issue.keys) {
        const hint = closest(key, known)
        out.push({
          path: [...issue.path, key],
          message: `unknown key${hint ? ` (did you mean '${hint}'?)` : ''}`,
        })
      }
      continue
    }
    out.push({ path: [...issue.path], message: rewordMessage(issue) })
  }
  return out
}

function rewordMessage(issue: z.core.$ZodIssue): string {
  if (issue.code === 'invalid_type') {
    if (/received undefined$/.test(issue.message)) return 'is required'
    return issue.message.replace(/^Invalid input: /, '').replace('received', 'got')
  }
  // A union that says which forms it takes (schema/typedefs.ts references) keeps its own words.
  if (issue.code === 'invalid_union')
    return issue.message === 'Invalid input' ? 'does not match any accepted form' : issue.message
  // zod's own prefixes ("Too small: expected number to be >=0") repeat what the rest says.
  return issue.message.replace(/^(Invalid (input|option|string)|Too (small|big)): /, '')
}

/** The keys the schema accepts for the object at `path` (empty when it cannot tell). */
function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node: unknown = schema
  for (const key of [...path, null]) {
    node = unwrap(node)
    const def = (node as { _zod?: { def?: Record<string, unknown> } })?._zod?.def
    if (!def) return []
    if (key === null) return def.type === 'object' ? Object.keys(def.shape as object) : []
    if (def.type === 'object') node = (def.shape as Record<string, unknown>)[String(key)]
    else if (def.type === 'array') node = def.element
    else if (def.type === 'record') node = def.valueType
    else return []
  }
  return []
}

function unwrap(node: unknown): unknown {
  for (let i = 0; i < 10; i++) {
    const def = (node as { _zod?: { def?: Record<string, unknown> } })?._zod?.def
    if (!def) return node
    if (
      def.type === 'optional' ||
      def.type === 'default' ||
      def.type === 'nullable' ||
      def.type === 'prefault'
    )
      node = def.innerType
    else if (def.type === 'pipe') node = def.in
    else return node
  }
  return node
}
