/**
 * JSON Schemas for the OpenAPI document (openapi.ts) from the zod schemas of the route table: a body as
 * the client writes it (zod 4's `io: 'input'`: a field with a default may be left out), an entity as the
 * admin API shows it (`io: 'output'`: defaults filled in), both draft 2020-12 as OpenAPI 3.1 uses.
 * What zod cannot express in JSON Schema (a transform's code, a refinement) is left open rather than
 * failing: the server still checks it, and says so in its 400.
 */
import { z } from 'zod'
import { type EntityShape, type JsonSchema, type RouteBody, ref } from './route-types.ts'

type Mutable = Record<string, unknown>

function toJson(schema: z.ZodType, io: 'input' | 'output'): Mutable {
  const json = z.toJSONSchema(schema, { target: 'draft-2020-12', io, unrepresentable: 'any' }) as Mutable
  // The document names the dialect once (jsonSchemaDialect); a component carries none of its own.
  delete json.$schema
  return json
}

function properties(json: Mutable): Record<string, Mutable> {
  return (json.properties ?? {}) as Record<string, Mutable>
}

function without(json: Mutable, fields: readonly string[]): Mutable {
  const props = properties(json)
  for (const field of fields) delete props[field]
  if (Array.isArray(json.required)) {
    const required = (json.required as string[]).filter((f) => !fields.includes(f))
    if (required.length > 0) json.required = required
    else delete json.required
  }
  return json
}

const NULL: JsonSchema = { type: 'null' }

/** A request body: the schema as written, less `omit`; PATCH's with every field optional and nullable. */
export function bodySchema(body: RouteBody): JsonSchema {
  const json = without(toJson(body.schema, 'input'), body.omit ?? [])
  if (body.partial) {
    delete json.required
    const props = properties(json)
    for (const [field, schema] of Object.entries(props)) props[field] = { anyOf: [schema, NULL] }
    json.description = 'Only the fields to change; `null` unsets one (a plugin’s `config` is merged deeply).'
  }
  if (body.pluginConfigs !== undefined && body.pluginConfigs.size > 0)
    json.allOf = [...body.pluginConfigs.keys()].map((name) => ({
      if: { properties: { name: { const: name } }, required: ['name'] },
      // biome-ignore lint/suspicious/noThenProperty: JSON Schema's if/then, a plain object never awaited
      then: { properties: { config: ref(`PluginConfig.${name}`) } },
    }))
  return json
}

/** A plugin's `config` as the file (or a write) gives it. */
export function pluginConfigSchema(schema: z.ZodType): JsonSchema {
  return toJson(schema, 'input')
}

/**
 * An entity as shown: the declarative fields but `omit`, each absent value null (as Kong shows them),
 * references as `{ id }`, its id and timestamps; open to fields a definition adds when showing it.
 */
export function entitySchema(shape: EntityShape): JsonSchema {
  const json = without(toJson(shape.schema, 'output'), shape.omit)
  const props = properties(json)
  const always = new Set((json.required as string[] | undefined) ?? [])
  for (const [field, schema] of Object.entries(props)) {
    if (shape.references.includes(field)) props[field] = { anyOf: [ref('EntityReference'), NULL] }
    else if (!always.has(field)) props[field] = { anyOf: [schema, NULL] }
  }
  props.id = { type: 'string', format: 'uuid' }
  for (const field of shape.timestamps) props[field] = { type: 'integer', description: 'Unix time, seconds.' }
  delete json.additionalProperties
  return { ...json, description: shape.description, properties: props, required: ['id'] }
}
