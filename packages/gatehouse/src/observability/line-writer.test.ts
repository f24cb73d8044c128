import assert from 'node:assert/strict'
import { closeSync, mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { LineWriter } from './line-writer.ts'

describe('the log line writer', () => {
  it('writes every line whole and in order, in batches and on the timer', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-lines-'))
    const file = join(dir, 'out.log')
    const fd = openSync(file, 'w')
    try {
      const writer = new LineWriter(fd)
      // Enough to cross the batch size several times, then a tail only the timer flushes.
      for (let i = 0; i < 5000; i++) writer.write(`{"n":${i},"pad":"${'x'.repeat(40)}"}\n`)
      let lines: string[] = []
      for (let waited = 0; waited < 5000 && lines.length < 5000; waited += 50) {
        await sleep(50)
        lines = readFileSync(file, 'utf8').trimEnd().split('\n')
      }
      assert.equal(lines.length, 5000)
      for (const [i, l] of lines.entries()) assert.equal((JSON.parse(l) as { n: number }).n, i)
    } finally {
      closeSync(fd)
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('writes what is buffered synchronously on flushSync, for exit paths', () => {
    const dir = mkdtempSync(join(tmpdir(), 'gatehouse-lines-'))
    const file = join(dir, 'out.log')
    const fd = openSync(file, 'w')
    try {
      const writer = new LineWriter(fd)
      writer.write('{"last":"words"}\n')
      writer.flushSync()
      assert.equal(readFileSync(file, 'utf8'), '{"last":"words"}\n')
    } finally {
      closeSync(fd)
      rmSync(dir, { recursive: true, force: true })
    }
  })
})
