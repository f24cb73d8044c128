/**
 * Renders an object schema as a key/type/default/description table, followed by one table per nested
 * object (or a pointer to where that object is already documented).
 */
import type { z } from 'zod'
import { anchor, table } from './markdown.ts'
import { type FieldDoc, objectFields } from './schema-fields.ts'

export interface FieldTableOptions {
  /** Heading of the nested tables, e.g. `###`. */
  readonly level: string
  /** The key path of the object being rendered, e.g. `services[]` or `config`. */
  readonly path: string
  /** Words before the path in nested headings, e.g. the plugin name, so headings stay unique in a file. */
  readonly title?: string
  /**
   * A Markdown pointer to where `field`'s nested object is documented already (e.g. a top-level section),
   * or undefined to render its table here.
   */
  readonly reference?: (field: FieldDoc) => string | undefined
}

export const FIELD_HEADER = ['Key', 'Type', 'Default', 'Description'] as const

export function fieldRow(field: FieldDoc, typeSuffix = ''): string[] {
  return [`\`${field.key}\``, `${field.type}${typeSuffix}`, field.default || '—', field.description]
}

/** The table of `schema`'s keys and then the tables of its nested objects, as Markdown blocks. */
export function fieldTables(schema: z.core.$ZodType, options: FieldTableOptions): string[] {
  const rows: string[][] = []
  const below: string[] = []
  for (const field of objectFields(schema)) {
    if (!field.nested) {
      rows.push(fieldRow(field))
      continue
    }
    const pointer = options.reference?.(field)
    if (pointer !== undefined) {
      rows.push(fieldRow(field, `, see ${pointer}`))
      continue
    }
    const path = joinKey(options.path, field.key) + field.nested.suffix
    const heading = `${options.title ? `${options.title} ` : ''}\`${path}\``
    rows.push(fieldRow(field, `, see [below](#${anchor(heading)})`))
    below.push(
      `${options.level} ${heading}`,
      ...fieldTables(field.nested.schema, { ...options, path, level: `${options.level}#` }),
    )
  }
  return [table(FIELD_HEADER, rows), ...below]
}

function joinKey(path: string, key: string): string {
  return path ? `${path}.${key}` : key
}
