/**
 * `gatehouse config convert FILE [--output OUT]`: a Kong 1.x/2.x declarative file (`_format_version`
 * "1.1" or "2.1") as the 3.0 file it stands for, with the changes the loader makes on the fly
 * (config/upgrade-2x.ts), one notice per change on stderr. Everything else is kept: a YAML file keeps its
 * comments, key order and layout (the changes are edits to its syntax tree), a JSON file is written as
 * JSON. The result goes to stdout, or to OUT; FILE itself is only replaced when OUT names it.
 */
import { readFile, writeFile } from 'node:fs/promises'
import { parseArgs } from 'node:util'
import { type Document, parseDocument } from 'yaml'
import { parseConfigText } from '../config/load.ts'
import {
  applyEdits,
  CURRENT_FORMAT_VERSION,
  FORMAT_VERSIONS,
  type FormatUpgrade,
  planUpgrade,
  UNSUPPORTED_FORMAT_VERSION,
} from '../config/upgrade-2x.ts'
import { ConfigError } from '../errors/errors.ts'
import { CommandFailure, UsageError } from './lib/errors.ts'

export async function convert(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { output: { type: 'string', short: 'o' } },
    allowPositionals: true,
  })
  const [file, ...extra] = positionals
  if (!file || extra.length > 0) throw new UsageError('config convert takes exactly one FILE (--output OUT)')
  let text: string
  try {
    text = await readFile(file, 'utf8')
  } catch (err) {
    throw new CommandFailure(
      `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`,
    )
  }
  const value = parseConfigText(text, file)
  if (value === null || typeof value !== 'object' || Array.isArray(value))
    throw new ConfigError(file, [
      { path: '', message: 'expected a mapping with `_format_version: "2.1"` at the top' },
    ])
  const doc = value as Record<string, unknown>
  const version = doc._format_version
  if (!(FORMAT_VERSIONS as readonly unknown[]).includes(version))
    throw new ConfigError(file, [
      {
        path: '_format_version',
        message: version === undefined ? 'is required' : UNSUPPORTED_FORMAT_VERSION,
      },
    ])

  const upgrade = planUpgrade(doc)
  if (upgrade && upgrade.issues.length > 0) throw new ConfigError(file, [...upgrade.issues])
  for (const notice of upgrade?.notices.slice(1) ?? []) process.stderr.write(`${file}: ${notice}\n`)
  const out = upgrade === null ? text : converted(text, doc, upgrade)
  if (values.output === undefined) process.stdout.write(out)
  else await writeFile(values.output, out)

  const where = values.output === undefined ? '' : `; wrote ${values.output}`
  if (upgrade === null)
    process.stderr.write(`${file}: already format ${CURRENT_FORMAT_VERSION}, nothing to convert${where}\n`)
  else
    process.stderr.write(
      `${file}: converted from format ${upgrade.from} to ${CURRENT_FORMAT_VERSION} ` +
        `(${upgrade.notices.length - 1} ${upgrade.notices.length === 2 ? 'change' : 'changes'})${where}\n`,
    )
  return 0
}

function converted(text: string, doc: Record<string, unknown>, upgrade: FormatUpgrade): string {
  // JSON is YAML too, so the parser cannot say which it was; the first character can.
  if (text.trimStart().startsWith('{')) return `${JSON.stringify(applyEdits(doc, upgrade.edits), null, 2)}\n`
  const yaml: Document = parseDocument(text, { uniqueKeys: true, merge: true, keepSourceTokens: false })
  for (const { path, value } of upgrade.edits) {
    if (value === undefined) yaml.deleteIn(path)
    else yaml.setIn(path, value)
  }
  return yaml.toString({
    lineWidth: 0,
    // Written as the file was: `- ` at the key's own column or indented, `[ a ]` or `[a]`.
    indentSeq: !/^([ \t]*)[\w-]+:[ \t]*(#.*)?\r?\n\1-[ \t]/m.test(text),
    flowCollectionPadding: /[[{] \S/.test(text),
  })
}
