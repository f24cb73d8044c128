/**
 * The file extension of Gatehouse's own modules in this process: `.ts` when it runs the repository's
 * sources (Node strips the types), `.js` when it runs the compiled package (dist/, what `npm run pack`
 * ships: Node refuses to strip types under node_modules). tsc rewrites every literal `./x.ts` import to
 * `./x.js`; the few modules loaded by a computed path (each plugin folder's plugin module, the cluster
 * worker's entry) build it with this instead.
 */
export const MODULE_EXT: '.ts' | '.js' = import.meta.url.endsWith('.ts') ? '.ts' : '.js'
