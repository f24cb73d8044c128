/** The entry point node:cluster starts each worker with (cluster/primary.ts). */
import { runWorker } from './worker.ts'

runWorker()
