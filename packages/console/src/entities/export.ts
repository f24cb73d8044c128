/**
 * "Download as declarative file" on a DB-less node: the admin API offers no export of the running
 * document (GET /config gives its hash and counts), so the file is assembled from the entity lists the
 * console reads anyway, in Kong's flat format 3.0. It holds only what the admin API shows: fields the
 * API never shows (a basic-auth password) are not in it, so such credentials need their secret again.
 */
import { adminGet } from '../api.ts'
import type { Entity, Kind, PageOf } from './model.ts'

const SHOWN_ONLY = new Set(['created_at', 'updated_at'])

async function all(path: string, token: string | null): Promise<Entity[]> {
  const out: Entity[] = []
  let next: string | null = path
  while (next !== null) {
    const page: PageOf<Entity> = await adminGet<PageOf<Entity>>(next, token)
    out.push(...page.data)
    next = page.next
  }
  return out
}

/** An entity as a declarative file has it: absent values left out, timestamps dropped. */
function declarative(e: Entity): Record<string, unknown> {
  return Object.fromEntries(Object.entries(e).filter(([k, v]) => v !== null && !SHOWN_ONLY.has(k)))
}

export async function declarativeDocument(kinds: readonly Kind[], token: string | null): Promise<object> {
  const doc: Record<string, unknown> = { _format_version: '3.0' }
  for (const kind of kinds) {
    const list = await all(`/${kind.collection}`, token)
    if (list.length > 0) doc[kind.type] = list.map(declarative)
  }
  const upstreams = await all('/upstreams', token)
  if (upstreams.length > 0) {
    doc.upstreams = upstreams.map(declarative)
    const targets = await Promise.all(
      upstreams.map((u) => all(`/upstreams/${encodeURIComponent(u.id)}/targets`, token)),
    )
    if (targets.flat().length > 0) doc.targets = targets.flat().map(declarative)
  }
  return doc
}

/** Saves the document as a file: a Blob URL the browser downloads (CSP allows no data: navigation). */
export function download(doc: object, name: string): void {
  const blob = new Blob([`${JSON.stringify(doc, null, 2)}\n`], { type: 'application/json' })
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = name
  document.body.append(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
