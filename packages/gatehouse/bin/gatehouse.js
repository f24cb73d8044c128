#!/usr/bin/env node
// Plain JavaScript on purpose: it must run, and explain itself, on any Node version.
const [major, minor] = process.versions.node.split('.').map(Number)
if (major < 22 || (major === 22 && minor < 18)) {
  process.stderr.write(
    `gatehouse: Node.js >= 22.18 is required (this is ${process.version}).\n` +
      'Run it through npm (npm start / npx gatehouse), which uses the Node 24 the repository installs,\n' +
      'or install Node.js 24 LTS.\n',
  )
  process.exit(1)
}
if (!process.features.typescript) {
  process.stderr.write(
    'gatehouse: this Node.js has TypeScript type stripping disabled (--no-experimental-strip-types).\n',
  )
  process.exit(1)
}
const { main } = await import('../src/cli.ts')
const code = await main(process.argv.slice(2))
if (code >= 0) process.exitCode = code
