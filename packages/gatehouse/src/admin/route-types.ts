/**
 * The shape of the admin API's route table (routes.ts): what each route says about itself, for
 * dispatch.ts to serve it and openapi.ts to describe it.
 */
import type { z } from 'zod'
import type { GatehouseErrorCode } from '../errors/errors.ts'
import type { AdminHandler } from './http.ts'

export type AdminMethod = 'GET' | 'POST' | 'PUT' | 'PATCH' | 'DELETE'

/** A JSON Schema (draft 2020-12, as OpenAPI 3.1 uses), written out or made by openapi.ts. */
export type JsonSchema = Readonly<Record<string, unknown>>

export interface RouteBody {
  /** The schema the body is checked with: the same object the handler (or the loader) uses. */
  readonly schema: z.ZodType
  /** Its name under `components.schemas`; routes sharing a body share the name. */
  readonly name: string
  readonly required: boolean
  /** Media types taken. Default: `application/json`. */
  readonly media?: readonly string[]
  /** Fields the schema knows but this route refuses (an entity's nested lists: written on their own paths). */
  readonly omit?: readonly string[]
  /** PATCH: every field optional, and `null` unsets one. */
  readonly partial?: boolean
  /** A plugin's `config`, checked by the schema of the plugin `name` names (plugin name → schema). */
  readonly pluginConfigs?: ReadonlyMap<string, z.ZodType>
  readonly description?: string
}

export interface RouteResponse {
  readonly description: string
  /** The JSON body; absent for none (204) or for a body that is not JSON (`media`). */
  readonly schema?: JsonSchema
  /** A body that is not JSON: its media type (`text/plain` for /metrics). */
  readonly media?: string
}

export interface QueryParameter {
  readonly name: string
  readonly description: string
  readonly schema: JsonSchema
}

export interface AdminRoute {
  readonly method: AdminMethod
  /** Kong's path, `{name}` for a parameter standing for one path segment. */
  readonly path: string
  readonly summary: string
  readonly description?: string
  /** The group the reference lists it under. */
  readonly tag: string
  /** Path parameters: name → what it names (as `{name}` appears in `path`). */
  readonly params?: Readonly<Record<string, string>>
  readonly query?: readonly QueryParameter[]
  readonly body?: RouteBody
  /** The answers that are not errors, by status. */
  readonly responses: Readonly<Record<number, RouteResponse>>
  /** The error codes the route itself may answer with (the guards' are added for every route). */
  readonly errors?: readonly GatehouseErrorCode[]
  /** Served only when entities are kept in the database (DB mode); a DB-less node answers 405. */
  readonly dbMode?: boolean
  /**
   * Served only while the built-in identity provider is enabled (`identity.enabled`); otherwise 404
   * GH_ERR_ADMIN_NOT_FOUND naming the setting (dispatch.ts).
   */
  readonly identity?: boolean
  /** A Kong entity path: the type a write would change (Kong's DB-less 405 names it), and OPTIONS is answered. */
  readonly entity?: string
  readonly handle: AdminHandler
}

export interface AdminRouteTable {
  readonly routes: readonly AdminRoute[]
  /** Entities as the admin API shows them, by component name: their schema and how it differs. */
  readonly entities: readonly EntityShape[]
}

/** An entity as shown: the fields of `schema` but `omit`, references as `{ id }`, absent values null. */
export interface EntityShape {
  readonly name: string
  readonly schema: z.ZodType
  readonly omit: readonly string[]
  readonly references: readonly string[]
  readonly timestamps: readonly string[]
  readonly description: string
}

/** A `$ref` to a schema of the document's components. */
export function ref(name: string): JsonSchema {
  return { $ref: `#/components/schemas/${encodeURIComponent(name)}` }
}
