import assert from 'node:assert/strict'
import { spawnSync } from 'node:child_process'
import fs, { closeSync, constants, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs'
import { syncBuiltinESMExports } from 'node:module'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { setTimeout as sleep } from 'node:timers/promises'
import { killGroup, spawnTracked } from '../../test/harness/resources.ts'
import { LineWriter } from './line-writer.ts'
import { GatewayMetrics } from './metrics.ts'

/** Multi-byte characters (2, 3 and 4 bytes in UTF-8): a write split inside one and re-encoded corrupts it. */
const TEXT = 'é—😀€ab'

/**
 * A named pipe (a real pipe: 64 KiB, O_NONBLOCK on both ends) read and written by this process; reading
 * is by hand, so the test decides when the writer's output is full.
 */
function fifo() {
  const dir = mkdtempSync(join(tmpdir(), 'gatehouse-fifo-'))
  const path = join(dir, 'out')
  assert.equal(spawnSync('mkfifo', [path]).status, 0, 'mkfifo')
  // The reading end first: opening the writing end of a FIFO nobody reads fails (ENXIO).
  const reader = openSync(path, constants.O_RDONLY | constants.O_NONBLOCK)
  const writer = openSync(path, constants.O_WRONLY | constants.O_NONBLOCK)
  const received: Buffer[] = []
  let readerOpen = true
  return {
    writer,
    /** Reads what the pipe holds now; returns everything read so far, decoded. */
    drain(): string {
      const chunk = Buffer.alloc(64 * 1024)
      for (;;) {
        let n: number
        try {
          n = readSync(reader, chunk)
        } catch (err) {
          if ((err as NodeJS.ErrnoException).code === 'EAGAIN') break
          throw err
        }
        if (n === 0) break
        received.push(Buffer.from(chunk.subarray(0, n)))
      }
      return Buffer.concat(received).toString('utf8')
    },
    closeReader(): void {
      closeSync(reader)
      readerOpen = false
    },
    close(): void {
      if (readerOpen) closeSync(reader)
      closeSync(writer)
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

/** Waits until `done` holds (the writer retries on its own timer), 10 s at most. */
async function until(done: () => boolean): Promise<void> {
  for (let waited = 0; waited < 10_000 && !done(); waited += 10) await sleep(10)
}

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

  it('keeps every line whole, once and in order on a stdout pipe whose reader pauses, then reads slowly', async () => {
    // A child writes LINES lines to its stdout, a real pipe (`| cat`; node's own stdio pipes are socket
    // pairs), while this test reads nothing: about 5 MB, many times what the pipe, cat and the socket to
    // this process hold. It counts the EAGAINs its writes meet (a spy on fs.writeSync) and says when it
    // has handed every line to the writer.
    const LINES = 60_000
    const script = `
      import fs from 'node:fs'
      import { syncBuiltinESMExports } from 'node:module'
      let eagain = 0
      const writeSync = fs.writeSync
      fs.writeSync = (...args) => {
        try {
          return writeSync(...args)
        } catch (err) {
          if (err.code === 'EAGAIN') eagain++
          throw err
        }
      }
      syncBuiltinESMExports()
      const { LineWriter } = await import(${JSON.stringify(new URL('./line-writer.ts', import.meta.url).href)})
      const writer = new LineWriter(1)
      let n = 0
      const more = () => {
        for (const end = Math.min(n + 500, ${LINES}); n < end; n++)
          writer.write(JSON.stringify({ n, text: ${JSON.stringify(TEXT)}.repeat(1 + (n % 7)) }) + '\\n')
        if (n < ${LINES}) setImmediate(more)
        else process.stderr.write(JSON.stringify({ dropped: writer.droppedTotal, eagain }) + '\\n')
      }
      more()
      setInterval(() => {}, 1000)
    `
    const child = spawnTracked(
      'line-writer child',
      'sh',
      ['-c', '"$0" --input-type=module -e "$1" | cat', process.execPath, script],
      { stdio: ['ignore', 'pipe', 'pipe'] },
    )
    try {
      // Bounded: a writer blocking on the full pipe would never get there.
      const report = await new Promise<string>((resolve, reject) => {
        let stderr = ''
        const timer = setTimeout(
          () =>
            reject(
              new Error(`the child never handed every line over (blocked on the full pipe?)\n${stderr}`),
            ),
          60_000,
        )
        child.stderr!.setEncoding('utf8').on('data', (chunk: string) => {
          stderr += chunk
          const line = /^(\{"dropped".*)\n/m.exec(stderr)
          if (line === null) return
          clearTimeout(timer)
          resolve(line[1]!)
        })
      })
      const { dropped, eagain } = JSON.parse(report) as { dropped: number; eagain: number }
      assert.equal(dropped, 0)
      assert.ok(eagain > 0, 'the writer met a full pipe')

      // Now read, pausing after every chunk: the writer meets a full pipe and partial writes again and again.
      let text = ''
      const stdout = child.stdout!.setEncoding('utf8')
      stdout.on('data', (chunk: string) => {
        text += chunk
        stdout.pause()
        setTimeout(() => stdout.resume(), 2)
      })
      let count = 0
      await until(() => {
        count = text.split('\n').length - 1
        return count >= LINES
      })
      assert.equal(count, LINES)
      for (const [i, line] of text.trimEnd().split('\n').entries()) {
        const parsed = JSON.parse(line) as { n: number; text: string }
        assert.equal(parsed.n, i)
        assert.equal(parsed.text, TEXT.repeat(1 + (i % 7)))
      }
    } finally {
      killGroup(child)
    }
  })

  it('drops whole new lines past its bound, counts them for the metric, and says how many once writing resumes', async () => {
    const pipe = fifo()
    try {
      const writer = new LineWriter(pipe.writer, { limit: 100_000 })
      const metrics = new GatewayMetrics()
      metrics.countDroppedLogLines(writer)
      // Nobody reads: the pipe takes 64 KiB, the writer 100,000 characters more, and drops the rest.
      let accepted = 0
      for (let n = 0; n < 3000; n++) {
        if (writer.write(`${JSON.stringify({ n, text: TEXT.repeat(10) })}\n`)) accepted++
      }
      const dropped = 3000 - accepted
      assert.ok(accepted > 0 && dropped > 0, `${accepted} accepted, ${dropped} dropped`)
      assert.equal(writer.droppedTotal, dropped)
      const scraped = await metrics.registry.metrics()
      assert.match(scraped, /^# TYPE gatehouse_log_lines_dropped_total counter$/m)
      assert.match(scraped, new RegExp(`^gatehouse_log_lines_dropped_total ${dropped}$`, 'm'))

      // The reader comes back: the accepted lines, whole, then the warning, then what is written after.
      await until(() => pipe.drain().includes('log lines dropped'))
      assert.ok(pipe.drain().includes('log lines dropped'), 'the warning came with no further line written')
      writer.write('{"msg":"after"}\n')
      writer.flushSync()
      const lines = pipe
        .drain()
        .trimEnd()
        .split('\n')
        .map((l) => JSON.parse(l) as Record<string, unknown>)
      assert.equal(lines.length, accepted + 2)
      for (let n = 0; n < accepted; n++) assert.deepEqual(lines[n], { n, text: TEXT.repeat(10) })
      const warning = lines[accepted]!
      assert.equal(warning.level, 'warn')
      assert.equal(warning.msg, 'log lines dropped: the output was not taking them')
      assert.equal(warning.dropped, dropped)
      assert.deepEqual(lines[accepted + 1], { msg: 'after' })
      assert.equal(writer.droppedTotal, dropped)
    } finally {
      pipe.close()
    }
  })

  it('makes every write call whole lines, but for the rest of a partial write, which goes first', async () => {
    // A spy on fs.writeSync (the live binding line-writer.ts calls) records each call and what it did.
    const calls: { bytes: Buffer; result: number | string }[] = []
    const real = fs.writeSync
    fs.writeSync = ((fd: number, bytes: Buffer) => {
      const call = { bytes: Buffer.from(bytes), result: 0 as number | string }
      calls.push(call)
      try {
        call.result = real(fd, bytes)
        return call.result
      } catch (err) {
        call.result = (err as NodeJS.ErrnoException).code ?? 'error'
        throw err
      }
    }) as typeof fs.writeSync
    syncBuiltinESMExports()
    const pipe = fifo()
    try {
      const writer = new LineWriter(pipe.writer)
      const expected: string[] = []
      for (let n = 0; n < 3000; n++) {
        expected.push(`${JSON.stringify({ n, text: TEXT.repeat(1 + (n % 13)) })}\n`)
        writer.write(expected[n]!)
      }
      await until(() => pipe.drain().length >= expected.join('').length)
      assert.equal(pipe.drain(), expected.join(''))
      assert.ok(calls.some((c) => c.result === 'EAGAIN'))
      assert.ok(calls.some((c) => typeof c.result === 'number' && c.result < c.bytes.length))
      for (const [i, call] of calls.entries()) {
        assert.equal(call.bytes.at(-1), 0x0a, `call ${i} ends at the end of a line`)
        const previous = calls[i - 1]
        if (previous === undefined) continue
        if (previous.result === 'EAGAIN') assert.ok(call.bytes.equals(previous.bytes), `call ${i} retries`)
        else if ((previous.result as number) < previous.bytes.length)
          assert.ok(
            call.bytes.equals(previous.bytes.subarray(previous.result as number)),
            `call ${i}: the rest`,
          )
      }
    } finally {
      fs.writeSync = real
      syncBuiltinESMExports()
      pipe.close()
    }
  })

  it('stops for good when its output is closed, without throwing, counting the lines it held and later ones', () => {
    const pipe = fifo()
    try {
      const writer = new LineWriter(pipe.writer)
      pipe.closeReader()
      for (let n = 0; n < 10; n++) assert.equal(writer.write(`{"n":${n}}\n`), true)
      writer.flushSync() // EPIPE: the lines it held are lost
      assert.equal(writer.droppedTotal, 10)
      assert.equal(writer.write('{"n":10}\n'), false)
      writer.flushSync()
      assert.equal(writer.droppedTotal, 11)
    } finally {
      pipe.close()
    }
  })

  it('gives up flushSync after a bounded wait on an output that takes nothing, and keeps the lines for later', async () => {
    const pipe = fifo()
    try {
      const writer = new LineWriter(pipe.writer)
      const line = `${'x'.repeat(99)}\n`
      for (let n = 0; n < 1000; n++) writer.write(line) // 100 kB: more than the pipe holds
      writer.flushSync() // returns (after EXIT_WAIT_MS), though the pipe never took it all
      assert.equal(writer.droppedTotal, 0)
      await until(() => pipe.drain().length >= 100_000)
      assert.equal(pipe.drain(), line.repeat(1000))
    } finally {
      pipe.close()
    }
  })
})
