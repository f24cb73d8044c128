/**
 * The help texts and the short usage error, written from the command table (commands.ts): the overview,
 * a family's subcommands, and one command's usage, flags, variables and examples.
 */
import {
  COMMANDS,
  type CommandHelp,
  ENVIRONMENT,
  FAMILIES,
  type OptionHelp,
  subcommandsOf,
} from '../commands.ts'

const HELP_OPTION: OptionHelp = { flag: '--help', short: '-h', text: 'show this help' }

export function usageLine(name: string): string {
  const command = COMMANDS.find((c) => c.name === name)
  if (command !== undefined) return `gatehouse ${command.name}${command.args ? ` ${command.args}` : ''}`
  const subs = subcommandsOf(name)
  return subs.length > 0 ? `gatehouse ${name} ${subs.join('|')} ...` : 'gatehouse <command> [options]'
}

export function overview(): string {
  const width = Math.max(...Object.keys(FAMILIES).map((f) => f.length))
  return [
    'Gatehouse: an API gateway and identity provider.',
    '',
    'Usage: gatehouse <command> [options]',
    '',
    'Commands:',
    ...Object.entries(FAMILIES).map(([family, text]) => {
      const subs = subcommandsOf(family)
      const name = subs.length > 0 ? `${family} ${subs.join('|')}` : family
      return `  ${family.padEnd(width)}  ${text}${subs.length > 0 ? ` (${name.slice(family.length + 1)})` : ''}`
    }),
    '',
    "Run 'gatehouse <command> --help' (or 'gatehouse help <command>') for a command's flags and examples.",
    "'gatehouse --version' prints the version.",
    '',
    'Environment:',
    ...table(Object.entries(ENVIRONMENT)),
    '',
    'Docs: docs/configuration.md, docs/plugins.md, docs/errors.md',
  ].join('\n')
}

export function familyHelp(family: string): string {
  const subs = COMMANDS.filter((c) => c.name.startsWith(`${family} `))
  return [
    `gatehouse ${family}: ${FAMILIES[family]}`,
    '',
    'Usage:',
    ...subs.map((c) => `  ${usageLine(c.name)}`),
    '',
    'Commands:',
    ...table(subs.map((c) => [c.name.slice(family.length + 1), c.summary])),
    '',
    `Run 'gatehouse ${family} <command> --help' for a command's flags and examples.`,
  ].join('\n')
}

export function commandHelp(command: CommandHelp): string {
  const flags = [...command.options, HELP_OPTION].map((o): [string, string] => [
    `${o.short ? `${o.short}, ` : '    '}${o.flag}${o.value ? ` ${o.value}` : ''}`,
    o.repeat ? `${o.text} (repeatable)` : o.text,
  ])
  return [
    `gatehouse ${command.name}: ${command.summary}`,
    '',
    `Usage: ${usageLine(command.name)}`,
    ...(command.details ?? []).flatMap((p) => ['', ...wrap(p, 100)]),
    '',
    'Options:',
    ...table(flags),
    ...(command.env.length > 0
      ? ['', 'Environment:', ...table(command.env.map((v) => [v, ENVIRONMENT[v] ?? '']))]
      : []),
    '',
    command.examples.length === 1 ? 'Example:' : 'Examples:',
    ...command.examples.map((e) => `  ${e}`),
  ].join('\n')
}

/** The short report of a wrong command line: what was wrong, the usage line, where the help is. */
export function usageError(message: string, name: string | undefined): string {
  const help = name === undefined ? 'gatehouse --help' : `gatehouse ${name} --help`
  return `gatehouse: ${message}\nUsage: ${usageLine(name ?? '')}\nRun '${help}' for more.\n`
}

function table(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.max(...rows.map(([left]) => left.length))
  return rows.map(([left, right]) => `  ${left.padEnd(width)}  ${right}`)
}

function wrap(text: string, width: number): string[] {
  const lines: string[] = []
  let line = ''
  for (const word of text.split(' ')) {
    if (line !== '' && line.length + 1 + word.length > width) {
      lines.push(line)
      line = word
    } else line = line === '' ? word : `${line} ${word}`
  }
  return [...lines, line]
}
