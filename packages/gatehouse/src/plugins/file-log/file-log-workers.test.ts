/**
 * file-log on a node of two workers: both append to the same file, and every line reaches it whole,
 * including lines longer than a pipe's atomic write (PIPE_BUF, 4 KiB), sent at once from many connections.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { distinct, fresh, servedBy, until } from '../../../test/cluster/support.ts'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { startUpstream, type Upstream } from '../../../test/harness/upstream.ts'

describe('file-log with two workers', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-file-log-workers-'))
  const file = join(dir, 'requests.log')

  before(async () => {
    upstream = await startUpstream()
    gh = await startGatehouse({
      args: ['--workers', '2'],
      timeout: 60_000,
      config: {
        _format_version: '3.0',
        services: [{ name: 'svc', url: upstream.url, routes: [{ name: 'r', paths: ['/'] }] }],
        plugins: [{ name: 'file-log', config: { path: file } }],
      },
    })
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
    rmSync(dir, { recursive: true, force: true })
  })

  it('receives every line whole from both workers, long lines included', async () => {
    // 8 KiB of header per request: each line is twice PIPE_BUF.
    const padding = 'p'.repeat(8 * 1024)
    const sent = []
    for (let round = 0; round < 4; round++)
      sent.push(
        ...(await Promise.all(
          Array.from({ length: 20 }, (_, i) => fresh(gh, `/r${round}-${i}`, { 'x-padding': padding })),
        )),
      )
    assert.ok(sent.every((s) => s.status === 200))
    assert.equal(distinct(await servedBy(gh, sent)).length, 2, 'both workers served')
    const lines = await until(
      async () =>
        readFileSync(file, 'utf8')
          .split('\n')
          .filter((l) => l !== ''),
      (l) => l.length >= sent.length,
    )
    assert.equal(lines.length, sent.length, 'one line per request, no more')
    const ids = lines.map((line) => {
      const entry = JSON.parse(line) as { request: { id: string; headers: Record<string, string> } }
      assert.equal(entry.request.headers['x-padding'], padding)
      return entry.request.id
    })
    assert.deepEqual(ids.sort(), sent.map((s) => s.id).sort())
  })
})
