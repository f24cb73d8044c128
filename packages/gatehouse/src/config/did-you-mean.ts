/**
 * The "did you mean" hint: the known name closest to a mistyped one. Shared by the config loader
 * (unknown keys) and the command line (unknown commands, subcommands and flags), so both guess alike.
 */

/** The known name within edit distance 2 of `name` (the nearest, first on a tie), if any. */
export function closest(name: string, known: Iterable<string>): string | undefined {
  let best: string | undefined
  let bestDistance = 3
  for (const k of known) {
    const d = editDistance(name, k)
    if (d < bestDistance) {
      best = k
      bestDistance = d
    }
  }
  return best
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i)
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0]!
    row[0] = i
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j]!
      row[j] = Math.min(row[j]! + 1, row[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1))
      prev = tmp
    }
  }
  return row[b.length]!
}
