/**
 * Reads zod 4 schemas for the reference docs: each object key's type, default and `.describe()` text,
 * as a user writes it in the file (the input side: keys with defaults are optional). It walks
 * `schema._zod.def`, as src/config/format-issues.ts does, rather than `z.toJSONSchema`, which hides the
 * difference between `.default()` and `.prefault()` that the default column needs.
 */
import { z } from 'zod'

type Def = Record<string, unknown> & { type: string }
type Schema = z.core.$ZodType

/** One key of an object schema, ready for a table row. */
export interface FieldDoc {
  readonly key: string
  /** The type in words, e.g. `integer (1–65535)`, `array of objects`. */
  readonly type: string
  /** The default in code, `required`, or empty when the key is optional without a default. */
  readonly default: string
  /** The key's `.describe()` text; empty when it has none. */
  readonly description: string
  /** The object schema below this key (itself, an array item or a map value), documented in its own table. */
  readonly nested?: { readonly schema: Schema; readonly suffix: '' | '[]' | '.*' }
}

const WRAPPERS = new Set(['optional', 'default', 'prefault', 'nullable', 'readonly', 'catch', 'nonoptional'])

function defOf(schema: Schema): Def {
  return schema._zod.def as unknown as Def
}

function descriptionOf(schema: Schema): string {
  return z.globalRegistry.get(schema)?.description?.trim() ?? ''
}

interface Unwrapped {
  readonly inner: Schema
  readonly optional: boolean
  readonly nullable: boolean
  readonly hasDefault: boolean
  readonly defaultValue: unknown
  /** A prefault: the default is parsed, so the inner keys' own defaults apply too. */
  readonly defaultParsed: boolean
  /** The outermost non-empty description along the wrappers. */
  readonly description: string
}

/** Strips optional/default/... wrappers (and a pipe's input side), keeping what they say about the key. */
export function unwrap(schema: Schema): Unwrapped {
  let node = schema
  let optional = false
  let nullable = false
  let hasDefault = false
  let defaultValue: unknown
  let defaultParsed = false
  let description = ''
  for (;;) {
    description ||= descriptionOf(node)
    const def = defOf(node)
    if (def.type === 'pipe') node = def.in as Schema
    else if (def.type === 'lazy') node = (def.getter as () => Schema)()
    else if (WRAPPERS.has(def.type)) {
      if (def.type === 'optional') optional = true
      if (def.type === 'nullable') nullable = true
      if ((def.type === 'default' || def.type === 'prefault') && !hasDefault) {
        hasDefault = true
        defaultValue = def.defaultValue
        defaultParsed = def.type === 'prefault'
      }
      node = def.innerType as Schema
    } else return { inner: node, optional, nullable, hasDefault, defaultValue, defaultParsed, description }
  }
}

/** The keys of an object schema (after unwrapping), or undefined when it is not an object. */
export function objectShape(schema: Schema): Readonly<Record<string, Schema>> | undefined {
  const def = defOf(unwrap(schema).inner)
  return def.type === 'object' ? (def.shape as Record<string, Schema>) : undefined
}

/** One row per key of an object schema, in declaration order. */
export function objectFields(schema: Schema): FieldDoc[] {
  const shape = objectShape(schema)
  if (!shape) throw new TypeError('objectFields: not an object schema')
  return Object.entries(shape).map(([key, child]) => fieldDoc(key, child))
}

function fieldDoc(key: string, schema: Schema): FieldDoc {
  const u = unwrap(schema)
  const nested = nestedObject(u.inner)
  return {
    key,
    type: `${typeText(u.inner)}${u.nullable ? ' or null' : ''}`,
    default: u.hasDefault ? defaultText(u.defaultValue, u.defaultParsed) : u.optional ? '' : 'required',
    description: u.description,
    ...(nested && { nested }),
  }
}

function nestedObject(inner: Schema): FieldDoc['nested'] {
  const def = defOf(inner)
  if (def.type === 'object') return { schema: inner, suffix: '' }
  const below = def.type === 'array' ? def.element : def.type === 'record' ? def.valueType : undefined
  if (below && objectShape(below as Schema)) {
    return { schema: unwrap(below as Schema).inner, suffix: def.type === 'array' ? '[]' : '.*' }
  }
  return undefined
}

/** The type of an unwrapped schema in words. */
export function typeText(schema: Schema): string {
  const u = unwrap(schema)
  const def = defOf(u.inner)
  const choices = literalChoices(u.inner)
  if (choices) return `one of ${choices.map(code).join(', ')}`
  switch (def.type) {
    case 'string': {
      const format = def.format as string | undefined
      return format ? `string (${FORMATS[format] ?? format})` : 'string'
    }
    case 'number':
      return `${String(def.format ?? '').includes('int') ? 'integer' : 'number'}${boundsText(def)}`
    case 'unknown':
    case 'any':
      return 'any'
    case 'object':
      return 'object'
    case 'array': {
      const element = typeText(def.element as Schema)
      const nonEmpty = checksOf(def).some((c) => c.check === 'min_length' && Number(c.minimum) > 0)
      const list = nonEmpty ? 'non-empty array' : 'array'
      if (objectShape(def.element as Schema)) return `${list} of objects`
      return element.startsWith('one of') ? `${list}, each ${element}` : `${list} of ${element}`
    }
    case 'record':
      return `map of ${typeText(def.keyType as Schema)} to ${typeText(def.valueType as Schema)}`
    case 'union':
      return (def.options as Schema[]).map(unionMemberText).join(' or ')
    default:
      return def.type
  }
}

const FORMATS: Record<string, string> = { uuid: 'UUID', url: 'URL', email: 'e-mail address' }

function unionMemberText(option: Schema): string {
  const shape = objectShape(option)
  return shape ? code(`{ ${Object.keys(shape).join(', ')} }`) : typeText(option)
}

/** The values of an enum, a literal, or a union made only of those; undefined for anything else. */
function literalChoices(schema: Schema): unknown[] | undefined {
  const def = defOf(schema)
  if (def.type === 'enum') return Object.values(def.entries as Record<string, unknown>)
  if (def.type === 'literal') return def.values as unknown[]
  if (def.type !== 'union') return undefined
  const all: unknown[] = []
  for (const option of def.options as Schema[]) {
    const values = literalChoices(unwrap(option).inner)
    if (!values) return undefined
    all.push(...values)
  }
  return all
}

type Check = Record<string, unknown>

function checksOf(def: Def): Check[] {
  return ((def.checks as Schema[] | undefined) ?? []).map((c) => c._zod.def as unknown as Check)
}

function boundsText(def: Def): string {
  let min: string | undefined
  let max: string | undefined
  for (const c of checksOf(def)) {
    if (c.check === 'greater_than') min = `${c.inclusive ? '' : '>'}${c.value}`
    if (c.check === 'less_than') max = `${c.inclusive ? '' : '<'}${c.value}`
  }
  if (min !== undefined && max !== undefined) return ` (${min}–${max})`
  if (min !== undefined) return ` (≥ ${min})`
  if (max !== undefined) return ` (≤ ${max})`
  return ''
}

function code(value: unknown): string {
  return `\`${typeof value === 'string' ? value : JSON.stringify(value)}\``
}

/** A default in code; an object default whose keys have their own defaults points at them instead. */
function defaultText(value: unknown, parsed: boolean): string {
  if (Array.isArray(value)) return `\`[${value.map((v) => JSON.stringify(v)).join(', ')}]\``
  if (value !== null && typeof value === 'object') {
    return parsed || Object.keys(value).length > 0 ? 'see its keys' : '`{}`'
  }
  return code(value)
}

/**
 * Every key of every object schema reachable from `schema` that has no `.describe()` text, named by the
 * shortest path it is found at (`routes[].service.id`; breadth first). An object schema used in several
 * places is reported once.
 */
export function undescribedKeys(schema: Schema, path = ''): string[] {
  const found: string[] = []
  const seen = new Set<Schema>()
  const queue: [Schema, string][] = [[schema, path]]
  for (let item = queue.shift(); item; item = queue.shift()) {
    const [node, at] = item
    const inner = unwrap(node).inner
    const def = defOf(inner)
    if (def.type === 'object') {
      if (seen.has(inner)) continue
      seen.add(inner)
      for (const [key, child] of Object.entries(def.shape as Record<string, Schema>)) {
        const keyPath = at ? `${at}.${key}` : key
        if (!unwrap(child).description) found.push(keyPath)
        queue.push([child, keyPath])
      }
    } else if (def.type === 'array') queue.push([def.element as Schema, `${at}[]`])
    else if (def.type === 'record') queue.push([def.valueType as Schema, `${at}.*`])
    else if (def.type === 'union') for (const option of def.options as Schema[]) queue.push([option, at])
    else if (def.type === 'intersection') queue.push([def.left as Schema, at], [def.right as Schema, at])
  }
  return found
}
