/**
 * The frame cursor finds frame boundaries however the bytes are cut (heads of 2, 4 and 10 bytes, masked
 * or not), and the gateway's close frames read as RFC 6455 close frames.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { closeFrame, FrameCursor, GOING_AWAY } from './websocket-frames.ts'

/** One frame with a payload of `length` bytes, masked (client to server) or not. */
function frame(length: number, masked: boolean): Buffer {
  const mask = masked ? 0x80 : 0
  let head: Buffer
  if (length < 126) head = Buffer.from([0x82, mask | length])
  else if (length < 65_536) {
    head = Buffer.from([0x82, mask | 126, 0, 0])
    head.writeUInt16BE(length, 2)
  } else {
    head = Buffer.alloc(10)
    head[0] = 0x82
    head[1] = mask | 127
    head.writeBigUInt64BE(BigInt(length), 2)
  }
  return Buffer.concat([head, masked ? Buffer.from([1, 2, 3, 4]) : Buffer.alloc(0), Buffer.alloc(length, 7)])
}

describe('FrameCursor', () => {
  it('is at a boundary exactly after each frame, whatever the chunk sizes', () => {
    const frames = [frame(0, false), frame(5, true), frame(300, false), frame(70_000, true), frame(125, true)]
    const ends = new Set<number>()
    let at = 0
    for (const f of frames) {
      at += f.length
      ends.add(at)
    }
    const stream = Buffer.concat(frames)
    for (const size of [1, 3, 7, 1000, stream.length]) {
      const cursor = new FrameCursor()
      for (let offset = 0; offset < stream.length; offset += size) {
        const chunk = stream.subarray(offset, offset + size)
        cursor.advance(chunk)
        const end = offset + chunk.length
        assert.equal(cursor.atBoundary, ends.has(end), `size ${size}, after byte ${end}`)
      }
    }
  })

  it('stops at the end of the frame in flight', () => {
    const cursor = new FrameCursor()
    const first = frame(10, true)
    const stream = Buffer.concat([first, frame(10, true)])
    cursor.advance(stream.subarray(0, 4))
    assert.equal(cursor.atBoundary, false)
    assert.equal(cursor.advanceToBoundary(stream.subarray(4, 8)), -1)
    assert.equal(cursor.advanceToBoundary(stream.subarray(8)), first.length - 8)
    assert.equal(cursor.advanceToBoundary(Buffer.from([0x81])), 0)
  })
})

describe('closeFrame', () => {
  it('writes code and reason, unmasked to a client and masked to a server', () => {
    const plain = closeFrame(GOING_AWAY, 'bye', false)
    assert.deepEqual([...plain], [0x88, 5, 0x03, 0xe9, ...Buffer.from('bye')])
    const masked = closeFrame(GOING_AWAY, 'bye', true)
    assert.equal(masked[0], 0x88)
    assert.equal(masked[1], 0x80 | 5)
    const key = masked.subarray(2, 6)
    const payload = Buffer.from(masked.subarray(6).map((b, i) => b ^ key[i & 3]!))
    assert.equal(payload.readUInt16BE(0), 1001)
    assert.equal(payload.subarray(2).toString(), 'bye')
    const cursor = new FrameCursor()
    cursor.advance(masked)
    assert.equal(cursor.atBoundary, true)
  })
})
