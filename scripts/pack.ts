/**
 * `npm run pack [-- --out <dir>]`: the two packages Gatehouse publishes, as npm tarballs in <dir>
 * (default .tmp/pack/): gatehouse-gateway (the gateway, its `gatehouse` command and its programmatic API)
 * and gatehouse-sdk (what a service uses to verify internal tokens). Each is first assembled as it is
 * published by its own scripts/build.ts --out (compiled JavaScript, declarations, a manifest whose
 * `exports` name them), then packed from there with `npm pack`, so the tarballs install into any
 * directory, from files alone (`npm install ./gatehouse-gateway-0.1.0.tgz`). Prints the tarballs' paths.
 */
import { spawnSync } from 'node:child_process'
import { mkdirSync, rmSync } from 'node:fs'
import { join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'

const root = fileURLToPath(new URL('..', import.meta.url))
const args = process.argv.slice(2)
const outAt = args.indexOf('--out')
const outArg = outAt === -1 ? undefined : args[outAt + 1]
if (outAt !== -1 && (outArg === undefined || outArg.startsWith('--'))) {
  console.error('usage: npm run pack [-- --out <dir>]')
  process.exit(2)
}
const out = resolve(outArg ?? join(root, '.tmp', 'pack'))
const staging = join(out, 'staging')
rmSync(staging, { recursive: true, force: true })
mkdirSync(out, { recursive: true })

const PACKAGES = [
  { name: 'gatehouse-gateway', dir: 'packages/gatehouse' },
  { name: 'gatehouse-sdk', dir: 'packages/sdk' },
] as const

const tarballs: string[] = []
for (const { name, dir } of PACKAGES) {
  const stage = join(staging, name)
  const built = spawnSync(process.execPath, [join(root, dir, 'scripts', 'build.ts'), '--out', stage], {
    stdio: ['ignore', 'ignore', 'inherit'],
  })
  if (built.status !== 0) process.exit(built.status ?? 1)
  // npm is whichever one runs this script (npm_execpath), else the one on PATH.
  const npm = process.env.npm_execpath
  const packed = spawnSync(
    npm ? process.execPath : 'npm',
    [...(npm ? [npm] : []), 'pack', stage, '--pack-destination', out, '--json', '--loglevel=error'],
    { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] },
  )
  if (packed.status !== 0) process.exit(packed.status ?? 1)
  const [info] = JSON.parse(packed.stdout) as { filename: string }[]
  tarballs.push(join(out, info!.filename))
}
rmSync(staging, { recursive: true, force: true })
console.log(tarballs.join('\n'))
