/**
 * Preloaded into a gatehouse process under test (`moduleLogEnv`): records the URL of every module the
 * process loads, ES modules and CommonJS alike (a synchronous module.registerHooks load hook), and
 * writes them one a line to the file GATEHOUSE_TEST_MODULE_LOG names when the process exits. Test
 * support, not shipped behaviour.
 */
import { readFileSync, writeFileSync } from 'node:fs'
import { registerHooks } from 'node:module'
import { fileURLToPath } from 'node:url'

const LOG_ENV = 'GATEHOUSE_TEST_MODULE_LOG'
const target = process.env[LOG_ENV]

if (target !== undefined) {
  const loaded: string[] = []
  registerHooks({
    load(url, context, next) {
      loaded.push(url)
      return next(url, context)
    },
  })
  process.on('exit', () => writeFileSync(target, loaded.join('\n')))
}

/** The environment that makes a child node process write the modules it loaded to `file` at exit. */
export function moduleLogEnv(file: string): Record<string, string> {
  const self = fileURLToPath(import.meta.url)
  return { NODE_OPTIONS: `${process.env.NODE_OPTIONS ?? ''} --import=${self}`.trim(), [LOG_ENV]: file }
}

/** The module URLs a process started with `moduleLogEnv(file)` loaded (after it exited). */
export function loadedModules(file: string): string[] {
  return readFileSync(file, 'utf8').split('\n')
}
