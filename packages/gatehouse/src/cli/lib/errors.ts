/**
 * How a command fails: a UsageError is a wrong command line (exit 2), a CommandFailure a request that
 * cannot be carried out (exit 1). index.ts prints either as one `gatehouse: message` line.
 */

/** A wrong command line. The usage text follows, unless the message says all (a bad option value). */
export class UsageError extends Error {
  readonly showUsage: boolean
  constructor(message: string, showUsage = true) {
    super(message)
    this.showUsage = showUsage
  }
}

/** A well-formed command that cannot be done (no such user, a config-managed client, ...). */
export class CommandFailure extends Error {}

/** node:util parseArgs's own errors (unknown option, missing value): a wrong command line too. */
export function isArgError(err: unknown): boolean {
  return (
    typeof (err as { code?: unknown })?.code === 'string' &&
    (err as { code: string }).code.startsWith('ERR_PARSE_ARGS')
  )
}
