/** The `plugins` entity: a plugin instance and where it applies (Kong's plugins.lua). */
import { z } from 'zod'
import {
  consumerReference,
  HTTP_PROTOCOLS,
  name,
  routeReference,
  serviceReference,
  tags,
  uuid,
} from './typedefs.ts'

/**
 * Kong's plugin `protocols`, as the proxy can honour it. Kong reads it only to choose the subsystem a
 * plugin runs in (http or stream: `should_process_plugin` in kong/runloop/plugins_iterator.lua), never the
 * request's scheme, so a plugin runs for every request of its scope, http and https alike; so it does
 * here. `grpc` and `grpcs` are Kong's default, which decK writes on every plugin it dumps: accepted, so
 * such a file loads, and dropped, since the proxy serves no gRPC. A list of only those would never run.
 */
const pluginProtocols = z
  .array(
    z.enum([...HTTP_PROTOCOLS, 'grpc', 'grpcs'], {
      error: 'expected http or https (grpc and grpcs, which Kong files carry, are accepted and ignored)',
    }),
  )
  .min(1)
  .transform((list, ctx) => {
    const served = [...new Set(list.filter((p) => p === 'http' || p === 'https'))]
    if (served.length === 0)
      ctx.addIssue({
        code: 'custom',
        message:
          'lists only gRPC, which the proxy does not serve, so the plugin would never run; add http and https',
      })
    return served
  })

export const pluginFields = {
  id: uuid.optional().describe('Entity id. Default: a stable UUID derived from the plugin name and scope.'),
  name: z.string().min(1).describe('Plugin name, e.g. `cors` (see docs/plugins.md).'),
  instance_name: name.optional().describe('Unique name of this instance, for the admin API.'),
  config: z
    .record(z.string(), z.unknown())
    .optional()
    .describe("The plugin's own settings, checked against its schema."),
  enabled: z
    .boolean()
    .default(true)
    .describe('A disabled plugin is loaded and checked but never runs. Default: true.'),
  protocols: pluginProtocols
    .default([...HTTP_PROTOCOLS])
    .describe(
      "The protocols the plugin applies to: `http` and `https`, those the proxy serves. `grpc` and `grpcs`, Kong's default that decK writes on every plugin, are accepted and dropped. As in Kong, the list does not choose between http and https requests: the plugin runs for every request of its scope (limit the route's `protocols` instead; a list of one is loaded with a warning saying so). Default: `[http, https]`.",
    ),
  tags,
}

/** Scope references, allowed on top-level plugins (nested plugins get them from their parent). */
export const pluginScopeFields = {
  service: serviceReference.optional().describe('Run only for this service (name or id).'),
  route: routeReference.optional().describe('Run only for this route (name or id).'),
  consumer: consumerReference.optional().describe('Run only for this consumer (username or id).'),
}
