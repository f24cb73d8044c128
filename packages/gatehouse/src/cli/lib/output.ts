/** What commands print: plain lines and aligned tables on stdout. */

export function say(line: string): void {
  process.stdout.write(`${line}\n`)
}

export function plural(count: number, noun: string): string {
  return `${count} ${noun}${count === 1 ? '' : 's'}`
}

/** Columns padded to their widest cell, two spaces apart; the last column is not padded. */
export function printTable(header: readonly string[], rows: readonly (readonly string[])[]): void {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)))
  for (const row of [header, ...rows])
    say(row.map((cell, i) => (i === row.length - 1 ? cell : cell.padEnd(widths[i]!))).join('  '))
}

export const nowSeconds = (): number => Math.floor(Date.now() / 1000)
