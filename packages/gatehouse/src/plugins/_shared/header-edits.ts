/**
 * What the request- and response-transformer share: Kong's `name:value` entries (schema and parsing)
 * and the remove → rename → replace → add → append edit of a header map. Folders starting with `_`
 * are not plugins; the registry skips them.
 */
import { z } from 'zod'
import type { HeaderMap } from '../../pipeline/request-state.ts'

/** RFC 9110 §5.1 token. */
const HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/
/** What Node and undici accept in a header value: no control characters or line breaks (RFC 9110 §5.5). */
const HEADER_VALUE = /^[\t\x20-\x7e\x80-\xff]*$/
/** Kong renders values containing `$(...)` as Lua templates. */
export const TEMPLATE = /\$\(.*\)/s
export const TEMPLATES_UNSUPPORTED = 'template values ($(...)) are not supported yet'

/**
 * Splits an entry the way Kong does (`^([^:]+):*(.-)$`): the name ends at the first colon, and every
 * colon right after it is skipped, so `x-a::b` is the name `x-a` with the value `b`.
 */
export function splitEntry(entry: string): [name: string, value: string] {
  const colon = entry.indexOf(':')
  if (colon === -1) return [entry, '']
  let start = colon + 1
  while (entry.charCodeAt(start) === 58) start++
  return [entry.slice(0, colon), entry.slice(start)]
}

type Ctx = z.core.$RefinementCtx<string>
export const fail = (ctx: Ctx, message: string) => ctx.addIssue({ code: 'custom', message })

export interface HeaderEntryRules {
  /** Lower-cased names the gateway owns per connection; setting them would break every request. */
  readonly unsettable: ReadonlySet<string>
  /** Refuse Kong `$(...)` templates (the request-transformer had them; the response one never did). */
  readonly rejectTemplates: boolean
}

/**
 * Zod types for header entries: to remove (`name`), to rename (`old:new`), with a value (`name:value`).
 * Messages never repeat an entry that is not a valid name: a mistyped `name:value` entry could hold the
 * value, and values can be secrets (an Authorization header). The path names the entry.
 */
export function headerEntrySchemas(rules: HeaderEntryRules) {
  const checkName = (name: string, ctx: Ctx, settable: boolean, invalid = 'is not a valid header name') => {
    if (!HEADER_NAME.test(name)) fail(ctx, invalid)
    else if (settable && rules.unsettable.has(name.toLowerCase()))
      fail(ctx, `'${name}' is managed by the gateway per connection and cannot be set`)
    else return true
    return false
  }
  return {
    toRemove: z.string().superRefine((entry, ctx) => {
      checkName(splitEntry(entry)[0], ctx, false)
    }),
    rename: z.string().superRefine((entry, ctx) => {
      const [from, to] = splitEntry(entry)
      if (!checkName(from, ctx, false)) return
      if (to === '') fail(ctx, `'${from}' has no new name (expected old:new)`)
      else if (rules.rejectTemplates && TEMPLATE.test(to)) fail(ctx, TEMPLATES_UNSUPPORTED)
      else checkName(to, ctx, true, `'${from}' is renamed to an invalid header name`)
    }),
    withValue: z.string().superRefine((entry, ctx) => {
      const [name, value] = splitEntry(entry)
      if (!checkName(name, ctx, true)) return
      if (value === '') fail(ctx, `key '${name}' has no value`)
      else if (rules.rejectTemplates && TEMPLATE.test(value)) fail(ctx, TEMPLATES_UNSUPPORTED)
      else if (!HEADER_VALUE.test(value))
        fail(ctx, `the value of '${name}' contains characters not allowed in a header`)
    }),
  }
}

export type Pair = readonly [name: string, value: string]

/** `name:value` (or `old:new`) entries with lower-cased names (and, for renames, lower-cased new names). */
export function entryPairs(entries: readonly string[], lowerValue: boolean): Pair[] {
  return entries.map((entry) => {
    const [name, value] = splitEntry(entry)
    return [name.toLowerCase(), lowerValue ? value.toLowerCase() : value] as const
  })
}

/** A compiled header edit, in Kong's order. */
export interface HeaderEdits {
  readonly remove: readonly string[]
  readonly rename: readonly Pair[]
  readonly replace: readonly Pair[]
  /** Names `replace` sets even when absent (the request-transformer's `host`). */
  readonly replaceAlways: ReadonlySet<string>
  readonly add: readonly Pair[]
  readonly append: readonly Pair[]
}

export function applyHeaderEdits(h: HeaderMap, edits: HeaderEdits): void {
  for (const name of edits.remove) delete h[name]
  for (const [from, to] of edits.rename) {
    const value = h[from]
    if (value === undefined) continue
    delete h[from]
    h[to] = value
  }
  for (const [name, value] of edits.replace)
    if (h[name] !== undefined || edits.replaceAlways.has(name)) h[name] = value
  for (const [name, value] of edits.add) if (h[name] === undefined) h[name] = value
  for (const [name, value] of edits.append) {
    const current = h[name]
    h[name] = current === undefined ? value : Array.isArray(current) ? [...current, value] : [current, value]
  }
}
