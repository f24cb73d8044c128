/**
 * Preloaded into a gatehouse process under test and the workers it forks (`moduleLogEnv`): records the
 * URL of every module each process loads, ES modules and CommonJS alike (a synchronous
 * module.registerHooks load hook), one a line in `<pid>.txt` in the directory GATEHOUSE_TEST_MODULE_LOG
 * names, written as it goes, so a test can also read what a process still running has loaded. Test
 * support, not shipped behaviour.
 */
import { openSync, readdirSync, readFileSync, writeSync } from 'node:fs'
import { registerHooks } from 'node:module'
import { join } from 'node:path'
import { fileURLToPath } from 'node:url'

const LOG_ENV = 'GATEHOUSE_TEST_MODULE_LOG'
const target = process.env[LOG_ENV]

if (target !== undefined) {
  const fd = openSync(join(target, `${process.pid}.txt`), 'a')
  registerHooks({
    load(url, context, next) {
      writeSync(fd, `${url}\n`)
      return next(url, context)
    },
  })
}

/**
 * The environment that makes a node process (and the processes it forks) record the modules it loads
 * in the existing directory `dir`.
 */
export function moduleLogEnv(dir: string): Record<string, string> {
  const self = fileURLToPath(import.meta.url)
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${self}`.trim(), [LOG_ENV]: dir }
}

/** The module URLs each process started with `moduleLogEnv(dir)` has loaded so far, by pid. */
export function loadedModules(dir: string): Map<number, string[]> {
  const byPid = new Map<number, string[]>()
  for (const name of readdirSync(dir))
    byPid.set(
      Number.parseInt(name, 10),
      readFileSync(join(dir, name), 'utf8')
        .split('\n')
        .filter((url) => url !== ''),
    )
  return byPid
}
