/**
 * Config of the response-transformer plugin: Kong's schema (3.x), header entries written as Kong writes
 * them (`name:value`, `old:new`). JSON body transforms (`json`, `json_types`) are refused, naming the
 * key, rather than loaded and silently ignored; empty lists are accepted because Kong's exports always
 * contain them. Values are literal, as in Kong: this plugin never had templates.
 */
import { z } from 'zod'
import { HOP_BY_HOP } from '../../proxy/hop-headers.ts'
import { headerEntrySchemas } from '../_shared/header-edits.ts'

const header = headerEntrySchemas({ unsettable: HOP_BY_HOP, rejectTemplates: false })

const JSON_UNSUPPORTED = 'JSON body transforms are not supported yet'

const noJson = z
  .array(z.unknown())
  .max(0, { error: JSON_UNSUPPORTED })
  .default([])
  .describe('Kong JSON body transforms; only an empty list is accepted (not supported yet). Default: `[]`.')

const noJsonTypes = z
  .array(z.unknown())
  .max(0, { error: JSON_UNSUPPORTED })
  .default([])
  .describe('Types of the `json` values; only an empty list is accepted (not supported yet). Default: `[]`.')

function section<T extends z.ZodRawShape>(verb: string, fields: T) {
  return (
    z
      .strictObject({ json: noJson, ...fields })
      // Every field has a default, so `{}` parses; TypeScript cannot see that through the generic.
      .prefault({} as never)
      .describe(`What to ${verb}. Default: nothing.`)
  )
}

export const responseTransformerSchema = z
  .strictObject({
    remove: section('remove (first)', {
      headers: z
        .array(header.toRemove)
        .default([])
        .describe('Response headers to remove, by name. Default: `[]`.'),
    }),
    rename: section('rename (second)', {
      headers: z
        .array(header.rename)
        .default([])
        .describe('`old:new` header renames, applied when `old` is present. Default: `[]`.'),
    }),
    replace: section('replace (third), only where present', {
      json_types: noJsonTypes,
      headers: z
        .array(header.withValue)
        .default([])
        .describe('`name:value` headers whose value is replaced when the header is present. Default: `[]`.'),
    }),
    add: section('add (fourth), only where absent', {
      json_types: noJsonTypes,
      headers: z
        .array(header.withValue)
        .default([])
        .describe('`name:value` headers set when absent. Default: `[]`.'),
    }),
    append: section('append (last)', {
      json_types: noJsonTypes,
      headers: z
        .array(header.withValue)
        .default([])
        .describe(
          '`name:value` headers sent in addition to any present (another header line). Default: `[]`.',
        ),
    }),
  })
  .describe(
    "Changes the response headers before they reach the client (Kong's response-transformer), upstream and gateway-made responses alike, in Kong's order: remove, rename, replace, add, append.",
  )

export type ResponseTransformerConfig = z.output<typeof responseTransformerSchema>
