/**
 * The root schema of a declarative file: Kong's DB-less format 3.0 (services, routes, consumers,
 * plugins, nested or top-level) plus Gatehouse's own sections. Built once per process from the plugin
 * registry, so each plugin's config is checked by the plugin's own schema in the same pass and every
 * problem is reported together.
 */
import { z } from 'zod'
import type { PluginRegistry } from '../../plugins/registry.ts'
import { consumerFields } from './consumer.ts'
import { pluginFields, pluginScopeFields } from './plugin.ts'
import { routeFields } from './route.ts'
import { serviceFields } from './service.ts'
import { adminSettings, loggingSettings, proxySettings } from './settings.ts'
import { reference } from './typedefs.ts'

export const FORMAT_VERSIONS = ['3.0'] as const

function pluginEntity(registry: PluginRegistry, scopeFields: Partial<typeof pluginScopeFields>) {
  return z.strictObject({ ...pluginFields, ...scopeFields }).superRefine((plugin, ctx) => {
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
      for (const issue of result.error.issues)
        ctx.addIssue({ ...issue, path: ['config', ...issue.path] } as never)
    }
  })
}

export function buildDeclarativeSchema(registry: PluginRegistry) {
  const nestedPlugin = pluginEntity(registry, pluginScopeFields)
  const topLevelPlugin = pluginEntity(registry, pluginScopeFields)
  const plugins = (what: string) =>
    z.array(nestedPlugin).optional().describe(`Plugins scoped to this ${what}.`)

  const nestedRoute = z.strictObject({ ...routeFields, plugins: plugins('route') })
  const service = z.strictObject({
    ...serviceFields,
    routes: z
      .array(nestedRoute)
      .optional()
      .describe('Routes of this service (their `service` is filled in).'),
    plugins: plugins('service'),
  })
  const route = z.strictObject({
    ...routeFields,
    service: reference.optional().describe('The service (name or id) requests are proxied to.'),
    plugins: plugins('route'),
  })
  const consumer = z.strictObject({ ...consumerFields, plugins: plugins('consumer') })

  return z.strictObject({
    _format_version: z
      .string({ error: 'is required and must be "3.0"' })
      .refine((v) => (FORMAT_VERSIONS as readonly string[]).includes(v), {
        error: `unsupported format version; expected "3.0" (Kong 3.x DB-less format)`,
      })
      .describe('Kong declarative format version. Required: `"3.0"`.'),
    _transform: z
      .boolean()
      .optional()
      .describe('Accepted for Kong compatibility (values are always transformed).'),
    _comment: z.unknown().optional().describe('Ignored.'),
    _ignore: z.unknown().optional().describe('Ignored.'),
    _info: z.unknown().optional().describe('Ignored (written by decK).'),
    services: z.array(service).optional().describe('Upstream services, with nested routes and plugins.'),
    routes: z.array(route).optional().describe('Routes declared at the top level; each names its service.'),
    consumers: z.array(consumer).optional().describe('API clients known to the gateway.'),
    plugins: z.array(topLevelPlugin).optional().describe('Global plugins, or plugins scoped by reference.'),
    proxy: proxySettings,
    admin: adminSettings,
    logging: loggingSettings,
  })
}

export type DeclarativeSchema = ReturnType<typeof buildDeclarativeSchema>
export type DeclarativeDocument = z.output<DeclarativeSchema>
export type DeclarativePlugin = NonNullable<DeclarativeDocument['plugins']>[number]
