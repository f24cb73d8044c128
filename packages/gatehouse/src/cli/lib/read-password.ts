/**
 * Reads a password from standard input: never from the command line (it would sit in the shell history
 * and in `ps`), and never echoed. A terminal gets a prompt with echo off and is asked twice; a pipe
 * gives its first line.
 */
import type { ReadStream } from 'node:tty'
import { CommandFailure } from './errors.ts'

/** Longer input is refused rather than hashed: no one types 1,024 characters. */
const MAX_LENGTH = 1024

export async function readPassword(prompt: string): Promise<string> {
  const stdin = process.stdin as ReadStream
  if (!stdin.isTTY) {
    const line = await firstLine(stdin)
    if (line === null)
      throw new CommandFailure('no password on standard input (pipe one line, or run it in a terminal)')
    return checked(line)
  }
  const password = checked(await readHidden(stdin, prompt))
  if ((await readHidden(stdin, 'Repeat it: ')) !== password) throw new CommandFailure('the passwords differ')
  return password
}

function checked(password: string): string {
  if (password.length > MAX_LENGTH)
    throw new CommandFailure(`the password is longer than ${MAX_LENGTH} characters`)
  return password
}

async function firstLine(stream: NodeJS.ReadableStream): Promise<string | null> {
  let text = ''
  stream.setEncoding('utf8')
  for await (const chunk of stream) {
    text += chunk as string
    const end = text.indexOf('\n')
    if (end !== -1) return text.slice(0, end).replace(/\r$/, '')
    if (text.length > MAX_LENGTH + 2) return text
  }
  return text === '' ? null : text.replace(/\r$/, '')
}

function readHidden(stdin: ReadStream, prompt: string): Promise<string> {
  process.stderr.write(prompt)
  stdin.setRawMode(true)
  stdin.setEncoding('utf8')
  stdin.resume()
  return new Promise((resolve, reject) => {
    let chars: string[] = []
    const finish = () => {
      stdin.off('data', onData)
      stdin.setRawMode(false)
      stdin.pause()
      process.stderr.write('\n')
    }
    const onData = (chunk: string) => {
      for (const ch of chunk) {
        if (ch === '\r' || ch === '\n' || ch === '\u0004') {
          finish()
          resolve(chars.join(''))
          return
        }
        if (ch === '\u0003') {
          finish()
          reject(new CommandFailure('cancelled'))
          return
        }
        if (ch === '\u007f' || ch === '\b') chars = chars.slice(0, -1)
        else if (ch >= ' ') chars.push(ch)
      }
    }
    stdin.on('data', onData)
  })
}
