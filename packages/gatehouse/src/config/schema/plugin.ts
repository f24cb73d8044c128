/** The `plugins` entity: a plugin instance and where it applies (Kong's plugins.lua). */
import { z } from 'zod'
import { name, reference, tags, uuid } from './typedefs.ts'

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
  protocols: z
    .array(z.enum(['http', 'https', 'grpc', 'grpcs']))
    .min(1)
    .default(['http', 'https', 'grpc', 'grpcs'])
    .describe('Client protocols the plugin runs for. Default: all.'),
  tags,
}

/** Scope references, allowed on top-level plugins (nested plugins get them from their parent). */
export const pluginScopeFields = {
  service: reference.optional().describe('Run only for this service (name or id).'),
  route: reference.optional().describe('Run only for this route (name or id).'),
  consumer: reference.optional().describe('Run only for this consumer (username or id).'),
}
