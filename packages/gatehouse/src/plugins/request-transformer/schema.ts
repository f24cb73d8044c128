/**
 * Config of the request-transformer plugin: Kong's schema (3.x), entries written as Kong writes them
 * (`name:value`, `old:new`). What Kong does and Gatehouse does not yet (body transforms, `$(...)`
 * templates) is refused here, naming the key, rather than loaded and silently ignored. Empty `body`
 * lists are accepted because Kong's exports always contain them.
 */
import { z } from 'zod'
import { method, path } from '../../config/schema/typedefs.ts'
import { HOP_BY_HOP } from '../../proxy/hop-headers.ts'
import {
  fail,
  headerEntrySchemas,
  splitEntry,
  TEMPLATE,
  TEMPLATES_UNSUPPORTED,
} from '../_shared/header-edits.ts'

/** Headers the gateway and undici own per connection; undici refuses requests that set them. */
const header = headerEntrySchemas({ unsettable: new Set([...HOP_BY_HOP, 'expect']), rejectTemplates: true })

const queryToRemove = z.string().min(1, { error: 'must not be empty' })

const queryRename = z.string().superRefine((entry, ctx) => {
  const [from, to] = splitEntry(entry)
  if (from === '') fail(ctx, 'expected old:new')
  else if (to === '') fail(ctx, `'${from}' has no new name (expected old:new)`)
  else if (TEMPLATE.test(to)) fail(ctx, TEMPLATES_UNSUPPORTED)
})

const queryWithValue = z.string().superRefine((entry, ctx) => {
  const [name, value] = splitEntry(entry)
  if (name === '') fail(ctx, 'expected name:value')
  else if (value === '') fail(ctx, `key '${name}' has no value`)
  else if (TEMPLATE.test(value)) fail(ctx, TEMPLATES_UNSUPPORTED)
})

const noBody = z
  .array(z.unknown())
  .max(0, { error: 'body transforms are not supported yet' })
  .default([])
  .describe('Kong body transforms; only an empty list is accepted (not supported yet). Default: `[]`.')

const uri = z
  .string()
  .superRefine((value, ctx) => {
    if (TEMPLATE.test(value)) fail(ctx, TEMPLATES_UNSUPPORTED)
  })
  .pipe(path)

function section<T extends z.ZodRawShape>(verb: string, fields: T) {
  return (
    z
      .strictObject({ body: noBody, ...fields })
      // Every field has a default, so `{}` parses; TypeScript cannot see that through the generic.
      .prefault({} as never)
      .describe(`What to ${verb}. Default: nothing.`)
  )
}

export const requestTransformerSchema = z
  .strictObject({
    http_method: method
      .nullish()
      .describe(
        'Method of the upstream request, e.g. `POST`. The body is forwarded unchanged (Kong moves a form body into the query for GET). Default: unset (the client method).',
      ),
    remove: section('remove (first)', {
      headers: z
        .array(header.toRemove)
        .default([])
        .describe('Headers to remove, by name. `host` is ignored, as in Kong. Default: `[]`.'),
      querystring: z
        .array(queryToRemove)
        .default([])
        .describe('Query parameters to remove (every occurrence), by name. Default: `[]`.'),
    }),
    rename: section('rename (second)', {
      headers: z
        .array(header.rename)
        .default([])
        .describe(
          '`old:new` header renames, applied when `old` is present; an old name of `host` is ignored, as in Kong. Default: `[]`.',
        ),
      querystring: z
        .array(queryRename)
        .default([])
        .describe('`old:new` query parameter renames, applied when `old` is present. Default: `[]`.'),
    }),
    replace: section('replace (third), only where present', {
      headers: z
        .array(header.withValue)
        .default([])
        .describe(
          '`name:value` headers whose value is replaced when the header is present; `host:value` always sets the upstream Host. Default: `[]`.',
        ),
      querystring: z
        .array(queryWithValue)
        .default([])
        .describe('`name:value` query parameters replaced (one value left) when present. Default: `[]`.'),
      uri: uri
        .nullish()
        .describe(
          'New upstream path (replacing the one routing produced, service path included); the query is kept. Default: unset.',
        ),
    }),
    add: section('add (fourth), only where absent', {
      headers: z
        .array(header.withValue)
        .default([])
        .describe('`name:value` headers set when absent; `host` is ignored, as in Kong. Default: `[]`.'),
      querystring: z
        .array(queryWithValue)
        .default([])
        .describe('`name:value` query parameters added when absent. Default: `[]`.'),
    }),
    append: section('append (last)', {
      headers: z
        .array(header.withValue)
        .default([])
        .describe(
          '`name:value` headers sent in addition to any present (another header line); `host` is ignored, as in Kong. Default: `[]`.',
        ),
      querystring: z
        .array(queryWithValue)
        .default([])
        .describe('`name:value` query parameters added after any present. Default: `[]`.'),
    }),
  })
  .describe(
    "Changes the request before it is sent upstream (Kong's request-transformer), in Kong's order: remove, rename, replace, add, append.",
  )

export type RequestTransformerConfig = z.output<typeof requestTransformerSchema>
