/**
 * The root schema of a declarative file: Kong's DB-less format 3.0 (services, routes, consumers,
 * plugins, nested or top-level) plus Gatehouse's own sections. Built once per process from the plugin
 * registry, so each plugin's config is checked by the plugin's own schema in the same pass and every
 * problem is reported together.
 *
 * The `salvage` variant never fails on an object: a field that does not parse falls back to its default
 * (or to absent) and unknown keys are dropped. The loader runs it after the strict pass failed, so the
 * rules that span entities (duplicates, references, routes) are still checked and reported in the same
 * round instead of only after every schema problem is fixed.
 */

import { z } from 'zod'
import type { PluginRegistry } from '../../plugins/registry.ts'
import { describeIssues } from '../format-issues.ts'
import { FORMAT_VERSIONS, UNSUPPORTED_FORMAT_VERSION } from '../upgrade-2x.ts'
import { consumerFields } from './consumer.ts'
import { identitySettings } from './identity.ts'
import { internalTokensSettings } from './internal-tokens.ts'
import { pluginFields, pluginScopeFields } from './plugin.ts'
import { redisSettings } from './redis.ts'
import { routeFields } from './route.ts'
import { serviceFields } from './service.ts'
import { adminSettings, loggingSettings, proxySettings } from './settings.ts'
import { storageSettings } from './storage.ts'
import { consumerReference, serviceReference, tags, upstreamReference, uuid } from './typedefs.ts'
import { targetFields, upstreamFields } from './upstream.ts'

type Mode = 'strict' | 'salvage'

/**
 * The keys Kong's declarative format lets every entity and the top level carry for the reader
 * (declarative_config.lua add_extra_attributes): typed as Kong types them, then ignored. Every other
 * unknown key is still refused, with a did-you-mean hint.
 */
const ignoredFields = {
  _comment: z.string().optional().describe("A comment for the reader (Kong's `_comment`); ignored."),
  _ignore: z
    .array(z.unknown())
    .optional()
    .describe("A list of anything, for tools or the reader (Kong's `_ignore`); ignored."),
}
type WithIgnored<S> = S & typeof ignoredFields

/** The keys every entity may carry and no loaded entity has: never shown by the admin API. */
export const IGNORED_KEYS: readonly string[] = Object.keys(ignoredFields)

/**
 * A strict object with the ignored keys added, or in salvage mode a forgiving one with the same output
 * type.
 */
function entity<S extends Record<string, z.ZodType>>(
  fields: S,
  mode: Mode,
): z.ZodObject<WithIgnored<S>, z.core.$strict> {
  const shape = { ...fields, ...ignoredFields }
  if (mode === 'strict') return z.strictObject(shape)
  const lenient: Record<string, z.ZodType> = {}
  for (const [key, field] of Object.entries(shape)) {
    lenient[key] = field.catch(() => field.safeParse(undefined).data)
  }
  // Same output type: every field still yields its own type, or absent where the strict schema would fail.
  return z.object(lenient) as unknown as z.ZodObject<WithIgnored<S>, z.core.$strict>
}

function pluginEntity(registry: PluginRegistry, scopeFields: Partial<typeof pluginScopeFields>, mode: Mode) {
  return entity({ ...pluginFields, ...scopeFields }, mode).superRefine((plugin, ctx) => {
    if (mode === 'salvage') return // the normaliser skips unknown plugins and configs that do not parse
    const def = registry.get(plugin.name)
    if (!def) {
      ctx.addIssue({
        code: 'custom',
        path: ['name'],
        message: `unknown plugin '${plugin.name}' (available: ${registry.names().join(', ')})`,
      })
      return
    }
    const result = def.schema.safeParse(plugin.config ?? {})
    if (!result.success) {
      // Described against the plugin's schema, which alone knows its keys (for did-you-mean hints).
      for (const { path, message } of describeIssues(result.error.issues, def.schema))
        ctx.addIssue({ code: 'custom', path: ['config', ...path], message })
    }
  })
}

export function buildDeclarativeSchema(registry: PluginRegistry, mode: Mode = 'strict') {
  const nestedPlugin = pluginEntity(registry, pluginScopeFields, mode)
  const topLevelPlugin = pluginEntity(registry, pluginScopeFields, mode)
  const plugins = (what: string) =>
    z.array(nestedPlugin).optional().describe(`Plugins scoped to this ${what}.`)

  const nestedRoute = entity({ ...routeFields, plugins: plugins('route') }, mode)
  const service = entity(
    {
      ...serviceFields,
      routes: z
        .array(nestedRoute)
        .optional()
        .describe('Routes of this service (their `service` is filled in).'),
      plugins: plugins('service'),
    },
    mode,
  )
  const route = entity(
    {
      ...routeFields,
      service: serviceReference.optional().describe('The service (name or id) requests are proxied to.'),
      plugins: plugins('route'),
    },
    mode,
  )
  // Credential kinds come from the plugins that own them (jwt_secrets from jwt, ...): nested under a
  // consumer, or top-level naming their consumer, as in Kong's format.
  const nestedCredentials: Record<string, z.ZodType> = {}
  const topLevelCredentials: Record<string, z.ZodType> = {}
  for (const def of registry.credentialDefinitions()) {
    const common = {
      id: uuid.optional().describe('Entity id. Default: a stable UUID.'),
      tags,
    }
    nestedCredentials[def.name] = z
      .array(entity({ ...def.fields, ...common }, mode))
      .optional()
      .describe(`This consumer's ${def.name} (see the \`${def.name}\` section).`)
    topLevelCredentials[def.name] = z
      .array(
        entity(
          {
            ...def.fields,
            ...common,
            consumer: consumerReference
              .optional()
              .describe('The consumer (username or id) it belongs to. Required here.'),
          },
          mode,
        ),
      )
      .optional()
      .describe(`Credentials (${def.adminCollection}) declared at the top level; each names its consumer.`)
  }
  const consumer = entity({ ...consumerFields, ...nestedCredentials, plugins: plugins('consumer') }, mode)
  const upstream = entity(
    {
      ...upstreamFields,
      targets: z
        .array(entity(targetFields, mode))
        .optional()
        .describe('Targets of this upstream (their `upstream` is filled in).'),
    },
    mode,
  )
  const target = entity(
    {
      ...targetFields,
      upstream: upstreamReference
        .optional()
        .describe('The upstream (name or id) it belongs to. Required here.'),
    },
    mode,
  )

  return entity(
    {
      _format_version: z
        .string({
          error: (issue) =>
            issue.input === undefined
              ? 'is required: add `_format_version: "3.0"` at the top'
              : 'must be a string such as "3.0" (quote it in YAML)',
        })
        .refine((v) => (FORMAT_VERSIONS as readonly string[]).includes(v), {
          error: UNSUPPORTED_FORMAT_VERSION,
        })
        .describe(
          'Kong declarative format version, required: `"3.0"`, or `"1.1"` / `"2.1"` (Kong 1.x/2.x files), upgraded on load with Kong\'s 2.x → 3.0 changes and a notice for each (see "Kong 2.x files" below).',
        ),
      _transform: z
        .boolean()
        .optional()
        .describe('Accepted for Kong compatibility (values are always transformed).'),
      ...ignoredFields,
      _info: z.unknown().optional().describe('Ignored (written by decK).'),
      services: z.array(service).optional().describe('Upstream services, with nested routes and plugins.'),
      routes: z.array(route).optional().describe('Routes declared at the top level; each names its service.'),
      consumers: z.array(consumer).optional().describe('API clients known to the gateway.'),
      plugins: z.array(topLevelPlugin).optional().describe('Global plugins, or plugins scoped by reference.'),
      upstreams: z
        .array(upstream)
        .optional()
        .describe(
          'Load-balanced virtual hosts: a service whose `host` names one is balanced over its targets.',
        ),
      targets: z
        .array(target)
        .optional()
        .describe('Targets declared at the top level; each names its upstream.'),
      ...topLevelCredentials,
      proxy: proxySettings,
      admin: adminSettings,
      logging: loggingSettings,
      identity: identitySettings,
      storage: storageSettings,
      internal_tokens: internalTokensSettings,
      redis: redisSettings,
    },
    mode,
  )
}

export type DeclarativeSchema = ReturnType<typeof buildDeclarativeSchema>
export type DeclarativeDocument = z.output<DeclarativeSchema>
export type DeclarativePlugin = NonNullable<DeclarativeDocument['plugins']>[number]
