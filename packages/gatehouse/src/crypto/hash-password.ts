/**
 * Prints the argon2id PHC string of a password read from standard input (one line, or everything up
 * to EOF), for a `basicauth_credentials` entry that must not hold the password in clear:
 *
 *   printf '%s' "$PASSWORD" | node packages/gatehouse/src/crypto/hash-password.ts
 *
 * The password is never taken as an argument, where shell history and `ps` would show it.
 */
import { text } from 'node:stream/consumers'
import { hashPassword } from './argon2id.ts'

const input = (await text(process.stdin)).replace(/\r?\n$/, '')
if (input === '') {
  process.stderr.write('hash-password: no password on standard input\n')
  process.exit(2)
}
process.stdout.write(`${hashPassword(input)}\n`)
