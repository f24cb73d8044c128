/**
 * The entry point node:cluster starts each worker with (cluster/primary.ts). The compile cache is the
 * one bin/gatehouse.js uses, enabled before anything else loads: a worker replacing a crashed one
 * starts in about half the time.
 */
import { enableCompileCache } from 'node:module'
import { fileURLToPath } from 'node:url'

enableCompileCache(fileURLToPath(new URL('../../.compile-cache', import.meta.url)))
const { runWorker } = await import('./worker.ts')
runWorker()
