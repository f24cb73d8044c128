/**
 * A command line that makes the started process die with the one starting it, even when that one is
 * killed outright and runs no exit handler: util-linux's `setpriv --pdeathsig KILL` asks the kernel for
 * SIGKILL when the parent goes, then execs the command (same pid). Elsewhere (macOS) the command is
 * returned unchanged and process groups and exit handlers are all there is.
 */
import { accessSync, constants } from 'node:fs'

const SETPRIV = ['/usr/bin/setpriv', '/bin/setpriv'].find((path) => {
  try {
    accessSync(path, constants.X_OK)
    return true
  } catch {
    return false
  }
})

/** `[command, ...args]`, prefixed so that the process gets SIGKILL when its parent dies. */
export function dieWithParent(command: string, args: readonly string[]): [string, string[]] {
  return SETPRIV === undefined
    ? [command, [...args]]
    : [SETPRIV, ['--pdeathsig', 'KILL', '--', command, ...args]]
}
