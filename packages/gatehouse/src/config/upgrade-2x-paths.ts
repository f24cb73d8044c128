/**
 * Route paths in a format 1.1/2.1 file, as Kong 3.0 reads them (kong/db/migrations/migrate_path_280_300.lua,
 * applied on the fly by kong/db/declarative/migrations/route_path.lua; decK's `file convert` uses the same
 * test, go-database-reconciler utils.IsPathRegexLike). Kong 2.x guessed: a path with any character outside
 * `[A-Za-z0-9._~/%-]` was a regular expression. Kong 3.0 guesses no more: a regex starts with `~`.
 *
 * A regex path also loses the escapes of unreserved characters (RFC 3986 §2.3), because Kong 3.0 stopped
 * decoding a regex and matches it against the decoded request path: `%2E` becomes `\.` and `%61` becomes
 * `a` (a decoded regex metacharacter is escaped, so it still means itself). Kong also decodes the escapes
 * of characters that are neither reserved nor unreserved (`%20`); Gatehouse keeps those escaped in the
 * path it matches (router/normalize-path.ts), so here they stay, upper-cased, and match the same requests.
 *
 * Plain paths Kong also normalises (decodes unreserved escapes, removes dot segments, merges slashes);
 * Gatehouse does that to every prefix path at load already (normalize.ts), so they are left as written.
 */

/** Every character a 2.x plain path may hold; any other made Kong 2.x read the path as a regex. */
const PLAIN_PATH = /^[A-Za-z0-9._~/%-]*$/

/** RFC 3986 unreserved characters: the only escapes the matched request path has decoded. */
const UNRESERVED = /^[A-Za-z0-9._~-]$/

/**
 * The 3.0 form of a 2.x route path, or null when it needs no change. A path already starting with `~`
 * is taken as converted (decK's rule): running the upgrade twice changes nothing.
 */
export function upgradeRoutePath(path: string): string | null {
  if (path.startsWith('~') || PLAIN_PATH.test(path)) return null
  return `~${normalizeRegex(path)}`
}

function normalizeRegex(regex: string): string {
  if (!regex.includes('%')) return regex
  return regex.replace(/%([0-9A-Fa-f]{2})/g, (triplet, hex: string) => {
    const char = String.fromCharCode(Number.parseInt(hex, 16))
    if (!UNRESERVED.test(char)) return triplet.toUpperCase()
    // `.` and `-` are the unreserved characters a regex reads as operators.
    return char === '.' || char === '-' ? `\\${char}` : char
  })
}
