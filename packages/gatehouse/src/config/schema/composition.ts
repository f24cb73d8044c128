/**
 * The `composition` key of a route (a Gatehouse extension, issue 6): the route answers one GET by
 * calling several services in parallel with the caller's identity and merging their JSON answers.
 * Rules that need the rest of the file (services exist, `{capture}` names, no `service` on the route)
 * are checked by config/normalize-composition.ts.
 */
import { z } from 'zod'

/** The longest a composition may wait, in milliseconds (one minute). */
export const MAX_COMPOSITION_TIMEOUT = 60_000
export const DEFAULT_COMPOSITION_TIMEOUT = 3_000

/** A `{name}` placeholder in a part path: a named capture of the route's regex paths. */
export const PLACEHOLDER = /\{([A-Za-z_][A-Za-z0-9_]*)\}/g

const milliseconds = z.int().min(1).max(MAX_COMPOSITION_TIMEOUT)

const partName = z
  .string()
  .regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must match [A-Za-z_][A-Za-z0-9_]*, e.g. product' })
  .max(64)
  .refine((n) => n !== '_errors', { error: "'_errors' is where failed parts are reported; pick another" })

const partPath = z
  .string()
  .regex(/^\/[^\s#]*$/, { error: 'must start with "/" and contain no spaces or "#"' })
  .refine((p) => !/[{}]/.test(p.replace(PLACEHOLDER, '')), {
    error: 'braces only as {name}, a named capture of the route path, e.g. /products/{id}',
  })

const audience = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[\x21-\x7e]+$/, { error: 'must be printable ASCII without spaces, e.g. catalog' })

export const compositionPart = z.strictObject({
  name: partName.describe(
    'Key of this part in the merged JSON document; unique in the composition, `_errors` is reserved.',
  ),
  service: z
    .string()
    .min(1)
    .describe('The service (name or id) this part calls; it must exist in the configuration.'),
  path: partPath.describe(
    "Path (and optional query) requested from the service, after the service's own path: `/products/{id}`, `/reviews?product={id}`. `{name}` is the route path's named capture, URL-encoded.",
  ),
  audience: audience
    .optional()
    .describe("`aud` of the internal token sent to this part. Default: the service's name (else its id)."),
  timeout: milliseconds
    .optional()
    .describe(
      'Milliseconds this call may take, 1..60000. Default: the composition timeout; never beyond it.',
    ),
  required: z
    .boolean()
    .default(false)
    .describe(
      'When this part fails the whole answer fails (502/504; 404 is passed through). Default: false.',
    ),
  public: z
    .boolean()
    .default(false)
    .describe('Anonymous callers get this part too; other parts are left out for them. Default: false.'),
})

export const compositionSchema = z
  .strictObject({
    timeout: milliseconds
      .default(DEFAULT_COMPOSITION_TIMEOUT)
      .describe(
        'Milliseconds from the start of the composition (after authentication) to the answer, 1..60000: parts still out are reported as timed out. Default: 3000.',
      ),
    parts: z
      .array(compositionPart)
      .min(1)
      .max(32)
      .describe('The upstream calls, made in parallel; their answers become one JSON document.'),
  })
  .describe(
    'Makes this route answer GET/HEAD from several services at once, merged into one JSON document by part name (see [composition.md](composition.md)). The route then has no `service`.',
  )

export type RawComposition = z.output<typeof compositionSchema>
