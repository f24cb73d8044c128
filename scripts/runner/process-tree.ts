/**
 * A test file's whole process tree, for the watchdog: the file's process and everything it started,
 * whatever process group each is in (Playwright puts Chromium in one of its own, the harness does the
 * same for every child). Found from `ps` (Linux and macOS), and stopped before it is killed, so that
 * nothing forks or is re-parented between the listing and the kill.
 */
import { execFileSync } from 'node:child_process'

/** `root` and its descendants, parents first; just `root` when `ps` cannot be run. */
export function processTree(root: number): number[] {
  let listing: string
  try {
    listing = execFileSync('ps', ['-A', '-o', 'pid=,ppid='], { encoding: 'utf8' })
  } catch {
    return [root]
  }
  const children = new Map<number, number[]>()
  for (const line of listing.split('\n')) {
    const [pid, ppid] = line.trim().split(/\s+/).map(Number)
    if (!pid || ppid === undefined) continue
    const list = children.get(ppid) ?? []
    list.push(pid)
    children.set(ppid, list)
  }
  const tree = [root]
  for (let i = 0; i < tree.length; i++) tree.push(...(children.get(tree[i]!) ?? []))
  return tree
}

/** SIGKILLs `root`, its process group and every descendant, after freezing them (SIGSTOP). */
export function killTree(root: number): number[] {
  const first = processTree(root)
  for (const pid of first) signal(pid, 'SIGSTOP')
  // Frozen, none can start another; list again for any that did just before.
  const tree = [...new Set([...first, ...processTree(root)])]
  for (const pid of tree) signal(pid, 'SIGSTOP')
  signal(-root, 'SIGKILL')
  for (const pid of tree) signal(pid, 'SIGKILL')
  return tree
}

function signal(pid: number, name: NodeJS.Signals): void {
  try {
    process.kill(pid, name)
  } catch {
    // gone already
  }
}
