/**
 * A server's whole process tree, read from /proc: the CPU time and the resident memory of a process and of
 * every process below it. A system is no longer one process: nginx forks its workers, and
 * `gatehouse start --workers N` (issue 11) a primary and N workers sharing the proxy port. Its cost is the
 * sum over all of them, or CPU per request and memory would count only the primary, which serves nothing.
 *
 * A process belongs to a root when it is the root, when its process group is the root's (every server is
 * started as the leader of its own group, lib/procs.ts, so an orphan re-parented to init still counts), or
 * when its parent belongs to it. CPU time is utime + stime plus cutime + cstime: a worker that exited and
 * was reaped (a crash, a replacement) leaves its time in its parent's cutime/cstime, so the sum over the
 * live tree never loses it; a live process's own ticks are never in any parent's c-fields, so nothing is
 * counted twice.
 *
 * Resident memory is VmRSS per process (/proc/<pid>/status). The sum over a tree counts pages shared
 * between processes (the node binary, a forked worker's copy-on-write pages) once per process: it is an
 * upper bound of what the tree holds, and what `ps`, `top` and a container's per-process view show.
 */
import { readdirSync, readFileSync } from 'node:fs'

/** One process as /proc shows it at one instant. */
export interface Proc {
  pid: number
  ppid: number
  pgrp: number
  /** Executable name (/proc/<pid>/stat's comm, at most 15 characters). */
  comm: string
  /** utime + stime + cutime + cstime, in clock ticks (USER_HZ, 100 a second on Linux). */
  ticks: number
}

/** Every live process on the machine (kernel threads included; they belong to no tree we ask about). */
export function snapshot(): Map<number, Proc> {
  const procs = new Map<number, Proc>()
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue
    let stat: string
    try {
      stat = readFileSync(`/proc/${name}/stat`, 'utf8')
    } catch {
      continue // exited meanwhile
    }
    // "pid (comm) state ppid pgrp …": comm may hold spaces and parentheses, so cut at the last ')'.
    const close = stat.lastIndexOf(')')
    const f = stat
      .slice(close + 2)
      .split(' ')
      .map(Number)
    const pid = Number(name)
    procs.set(pid, {
      pid,
      ppid: f[1]!,
      pgrp: f[2]!,
      comm: stat.slice(stat.indexOf('(') + 1, close),
      ticks: f[11]! + f[12]! + f[13]! + f[14]!,
    })
  }
  return procs
}

/** The processes of `root`'s tree (the root first when it is alive), by the rule in the header. */
export function treeOf(procs: ReadonlyMap<number, Proc>, root: number): Proc[] {
  const member = new Map<number, boolean>()
  const belongs = (pid: number): boolean => {
    const known = member.get(pid)
    if (known !== undefined) return known
    member.set(pid, false) // guards against a cycle while the answer is being worked out
    const p = procs.get(pid)
    const yes = p !== undefined && (pid === root || p.pgrp === root || (p.ppid > 1 && belongs(p.ppid)))
    member.set(pid, yes)
    return yes
  }
  const tree = [...procs.values()].filter((p) => belongs(p.pid))
  return tree.sort((a, b) => (a.pid === root ? -1 : b.pid === root ? 1 : a.pid - b.pid))
}

/** CPU ticks used so far by each root's whole tree (0 for a root with nothing left). */
export function treeTicks(roots: readonly number[]): Map<number, number> {
  const procs = snapshot()
  return new Map(roots.map((root) => [root, treeOf(procs, root).reduce((n, p) => n + p.ticks, 0)]))
}

/** CPU ticks used so far by each process of `root`'s tree. */
export function processTicks(root: number): Map<number, number> {
  return new Map(treeOf(snapshot(), root).map((p) => [p.pid, p.ticks]))
}

/** Resident memory of one process in kB (VmRSS), or null once it has exited. */
export function rssKb(pid: number): number | null {
  try {
    const match = /^VmRSS:\s+(\d+) kB/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))
    return match ? Number(match[1]) : 0 // a zombie has no VmRSS line: nothing resident
  } catch {
    return null
  }
}

/** The CPUs a process may run on (Cpus_allowed_list: "1", "0-1"), or null once it has exited. */
export function cpusAllowed(pid: number): string | null {
  try {
    return /^Cpus_allowed_list:\s+(\S+)/m.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? null
  } catch {
    return null
  }
}

/** Each process of `root`'s tree with its resident memory (processes that exited meanwhile are left out). */
export function treeMemory(root: number): { pid: number; comm: string; rssKb: number }[] {
  return treeOf(snapshot(), root).flatMap((p) => {
    const rss = rssKb(p.pid)
    return rss === null ? [] : [{ pid: p.pid, comm: p.comm, rssKb: rss }]
  })
}
