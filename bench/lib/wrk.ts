/**
 * wrk runs for both drivers: one command line with the environment its Lua script reads, started in its
 * own process group (so cleanup stops it with the servers), and the one JSON line the bench's scripts
 * print when the run ends (wrk-json.lua, wrk-tokens.lua, wrk-token-request.lua), parsed.
 */
import { readFileSync } from 'node:fs'
import { ROOT, shellWords } from './driver.ts'
import { type Started, spawnGroup } from './procs.ts'

/** One wrk command line, and the environment its script reads (TOKENS or TOKEN_REQUEST), if any. */
export interface WrkCommand {
  argv: string[]
  env: Record<string, string>
}

/** The summary line of the bench's wrk scripts (latencies in µs). */
export interface WrkResult {
  requests: number
  duration_us: number
  non2xx: number
  connect_err: number
  read_err: number
  write_err: number
  timeouts: number
  p50_us: number
  p90_us: number
  p99_us: number
  /** wrk-token-request.lua only: responses with a 2xx status (the others count as errors in non2xx). */
  ok2xx?: number
}

/** The command as a reader can paste it, its environment in front. */
export const showWrk = (w: WrkCommand) =>
  `${Object.entries(w.env)
    .map(([k, v]) => `${k}=${v} `)
    .join('')}${shellWords(w.argv)}`

/** Successful answers: the token-request script counts 2xx itself; otherwise wrk's status errors (≥ 400) are taken out. */
export const okOf = (w: WrkResult) => w.ok2xx ?? w.requests - w.non2xx

/** Starts wrk (its output in `out`); `result` settles once it has exited and its summary is read. */
export function startWrk(w: WrkCommand, out: string): { wrk: Started; result: Promise<WrkResult> } {
  const wrk = spawnGroup('wrk', w.argv[0]!, w.argv.slice(1), {
    cwd: ROOT,
    log: out,
    env: { ...process.env, ...w.env },
  })
  const result = wrk.exited.then(() => {
    const text = readFileSync(out, 'utf8')
    const json = /^WRKJSON (.*)$/m.exec(text)?.[1]
    if (!json) throw new Error(`wrk gave no result (exit ${wrk.child.exitCode}):\n${text}`)
    return JSON.parse(json) as WrkResult
  })
  return { wrk, result }
}

/** Runs wrk to the end and returns its summary. */
export function runWrk(w: WrkCommand, out: string): Promise<WrkResult> {
  return startWrk(w, out).result
}
