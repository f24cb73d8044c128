/**
 * Reading PEM that the configuration names: a file path (relative to the configuration file's folder)
 * or the PEM text itself. Failures are fixed messages naming the file, never its content.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'

export class PemError extends Error {}

/** The PEM text of `value`: itself when it is PEM, else the file it names. Throws PemError. */
export function readPem(value: string, baseDir: string): string {
  if (value.trimStart().startsWith('-----BEGIN ')) return value
  const file = resolve(baseDir, value)
  try {
    return readFileSync(file, 'utf8')
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code
    const reason =
      code === 'ENOENT'
        ? 'no such file'
        : code === 'EACCES'
          ? 'permission denied'
          : code === 'EISDIR'
            ? 'it is a directory'
            : (code ?? 'unreadable')
    throw new PemError(`cannot read '${file}': ${reason}`)
  }
}

/** Whether a private key PEM is encrypted (PKCS#8 or the traditional Proc-Type header). */
export function isEncryptedKey(pem: string): boolean {
  return pem.includes('-----BEGIN ENCRYPTED PRIVATE KEY-----') || pem.includes('Proc-Type: 4,ENCRYPTED')
}
