/**
 * What the edge does with the path forms that upstream frameworks read in different ways (issue 10 §2),
 * in Envoy's vocabulary (`merge_slashes`, `path_with_escaped_slashes_action`), and the typed refusals the
 * canonicaliser (normalize-path.ts) answers with. The setting itself is `proxy.path_normalization`
 * (config/schema/settings.ts); this is its shape as the router needs it.
 */
import type { GatehouseErrorCode } from '../errors/errors.ts'

export interface PathPolicy {
  /** `/a//b` → `/a/b`. */
  readonly merge_slashes: boolean
  /** `%2F`: refuse, keep encoded (one segment), or turn into `/` before routing. */
  readonly escaped_slashes: 'reject' | 'keep' | 'unescape'
  /** A raw `\` or `%5C`: refuse, keep as sent, or turn into `/` before routing (as IIS reads it). */
  readonly backslashes: 'reject' | 'keep' | 'unescape'
  /** `;params` in a segment: refuse, keep, or cut from each segment (as Tomcat does). */
  readonly path_parameters: 'reject' | 'keep' | 'strip'
  /**
   * A segment ending in `.` or an encoded space (`/admin./x`, `/admin%20/x`), which Windows servers read
   * as `/admin/x`: refuse or keep.
   */
  readonly trailing_dots: 'reject' | 'keep'
}

/** The defaults: the one reading every upstream agrees on, or a 400. */
export const DEFAULT_PATH_POLICY: PathPolicy = Object.freeze({
  merge_slashes: true,
  escaped_slashes: 'reject',
  backslashes: 'reject',
  path_parameters: 'reject',
  trailing_dots: 'reject',
})

/** Why a path was not accepted: the error code, a stable reason for the access log, the client message. */
export interface PathRefusal {
  readonly code: Extract<GatehouseErrorCode, 'GH_ERR_REQUEST_INVALID' | 'GH_ERR_REQUEST_PATH_REJECTED'>
  readonly reason: string
  /** What was wrong, e.g. `encoded slash (%2F) in the path`. */
  readonly what: string
  readonly message: string
}

const invalid = (reason: string): PathRefusal =>
  Object.freeze({
    code: 'GH_ERR_REQUEST_INVALID',
    reason,
    what: 'invalid request target',
    message: 'Bad request: invalid request target',
  })
const rejected = (reason: string, what: string): PathRefusal =>
  Object.freeze({ code: 'GH_ERR_REQUEST_PATH_REJECTED', reason, what, message: `Bad request: ${what}` })

/** Built once: a refusal costs no allocation, and the reasons stay the same strings. */
export const PATH_REFUSALS = Object.freeze({
  notOriginForm: invalid('path_not_origin_form'),
  invalidEscape: invalid('path_invalid_escape'),
  encodedControl: rejected('path_encoded_control', 'encoded control character (%00-%1F or %7F) in the path'),
  encodedSlash: rejected('path_encoded_slash', 'encoded slash (%2F) in the path'),
  encodedBackslash: rejected('path_encoded_backslash', 'encoded backslash (%5C) in the path'),
  backslash: rejected('path_backslash', 'backslash in the path'),
  pathParameter: rejected('path_parameter', "path parameter (';') in the path"),
  trailingDot: rejected('path_trailing_dot', "path segment ending in '.'"),
  trailingSpace: rejected('path_trailing_space', 'path segment ending in a space (%20)'),
})

/** Whether a canonicaliser's (or a request target reader's) answer is a refusal. */
export function isPathRefusal<T extends string | object>(value: T | PathRefusal): value is PathRefusal {
  return typeof value === 'object' && 'reason' in value
}
