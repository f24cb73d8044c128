/**
 * `npm run docs`: writes docs/configuration.md, docs/plugins.md and docs/errors.md from the schemas, the
 * bundled plugins and the error codes, and the admin API's route reference (the end of
 * docs/admin-api.md, and docs/admin-openapi.json) from its route table. Commit the result;
 * test/docs/docs.test.ts fails when it is stale.
 */
import { mkdir, writeFile } from 'node:fs/promises'
import { fileURLToPath } from 'node:url'
import { loadBundledPlugins } from '../src/plugins/registry.ts'
import { DOCS_DIR, renderDocs } from './docs/render.ts'

const docs = renderDocs(await loadBundledPlugins())
await mkdir(DOCS_DIR, { recursive: true })
for (const [name, text] of Object.entries(docs)) {
  await writeFile(new URL(name, DOCS_DIR), text)
  console.log(`wrote ${fileURLToPath(new URL(name, DOCS_DIR))}`)
}
