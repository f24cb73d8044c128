import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, describe, it } from 'node:test'
import { COMMANDS, ENVIRONMENT, FAMILIES, subcommandsOf } from '../../src/cli/commands.ts'
import { runCli, writeTempConfig } from '../harness/gatehouse.ts'

const CLEAN_ENV = { GATEHOUSE_CONFIG: '' }

const VALID = `_format_version: "3.0"
services:
- name: orders
  url: http://127.0.0.1:1
  routes:
  - name: orders-api
    paths: [/orders]
`

/** Three lines: what was wrong, the command's usage line, where its help is; never the whole manual. */
function assertShortUsageError(stderr: string, message: string, command: string): void {
  const lines = stderr.split('\n')
  assert.equal(lines.length, 4, stderr)
  assert.equal(lines[0], `gatehouse: ${message}`)
  assert.match(lines[1]!, new RegExp(`^Usage: gatehouse ${command.replace(/ /g, ' ')}\\b`))
  assert.equal(lines[2], `Run 'gatehouse ${command} --help' for more.`)
  assert.equal(lines[3], '')
}

describe('gatehouse --help', () => {
  it('prints the overview, naming every command family and variable, to stdout and exits 0', async () => {
    const r = await runCli(['--help'])
    assert.equal(r.code, 0)
    assert.equal(r.stderr, '')
    assert.match(r.stdout, /^Gatehouse: an API gateway and identity provider\.\n\nUsage: gatehouse <command>/)
    for (const family of Object.keys(FAMILIES)) assert.match(r.stdout, new RegExp(`\\n {2}${family} +\\S`))
    for (const variable of Object.keys(ENVIRONMENT)) assert.ok(r.stdout.includes(variable), variable)
  })

  it('prints the overview to stderr and exits 2 when no command is given', async () => {
    const r = await runCli([])
    assert.equal(r.code, 2)
    assert.equal(r.stdout, '')
    assert.match(r.stderr, /^Gatehouse: an API gateway/)
  })

  // Enumerates the table the CLI itself uses, so a command added there is checked here without a edit.
  for (const command of COMMANDS) {
    it(`gatehouse ${command.name} --help describes it, its flags, variables and an example, and exits 0`, async () => {
      const r = await runCli([...command.name.split(' '), '--help'], CLEAN_ENV)
      assert.equal(r.code, 0, r.stderr)
      assert.equal(r.stderr, '')
      assert.ok(
        r.stdout.startsWith(
          `gatehouse ${command.name}: ${command.summary}\n\nUsage: gatehouse ${command.name}`,
        ),
      )
      for (const option of command.options)
        assert.match(r.stdout, new RegExp(`\\n {2}(-\\w, | {4})${option.flag}\\b`))
      assert.match(r.stdout, /\n {2}-h, --help +show this help\n/)
      for (const variable of command.env) assert.match(r.stdout, new RegExp(`\\n {2}${variable} +\\S`))
      assert.match(r.stdout, /\nExamples?:\n {2}.*gatehouse /)
    })
  }

  it('gives the same help for -h, for help COMMAND, and with the flags before the subcommand', async () => {
    const long = await runCli(['users', 'add', '--help'])
    for (const args of [
      ['users', 'add', '-h'],
      ['help', 'users', 'add'],
      ['users', '--config', 'x.yaml', 'add', 'alice', '--help'],
    ]) {
      const r = await runCli(args)
      assert.deepEqual([r.stdout, r.code], [long.stdout, 0], args.join(' '))
    }
  })

  it("lists a family's commands with gatehouse FAMILY --help", async () => {
    for (const family of Object.keys(FAMILIES).filter((f) => subcommandsOf(f).length > 0)) {
      const r = await runCli([family, '--help'])
      assert.equal(r.code, 0)
      assert.match(r.stdout, new RegExp(`^gatehouse ${family}: `))
      for (const sub of subcommandsOf(family)) assert.match(r.stdout, new RegExp(`\\n {2}${sub} +\\S`))
    }
  })
})

describe('gatehouse, on a wrong command line', () => {
  it('suggests the command meant for a mistyped one, exiting 2', async () => {
    const r = await runCli(['strat', '--config', 'x.yaml'])
    assert.equal(
      r.stderr,
      "gatehouse: unknown command 'strat' (did you mean 'start'?)\nUsage: gatehouse <command> [options]\nRun 'gatehouse --help' for more.\n",
    )
    assert.equal(r.code, 2)
    const help = await runCli(['help', 'user'])
    assert.match(help.stderr, /^gatehouse: unknown command 'user' \(did you mean 'users'\?\)\n/)
    assert.equal(help.code, 2)
  })

  it('suggests the subcommand meant, or lists them when none is close', async () => {
    const near = await runCli(['clients', 'lst'])
    assertShortUsageError(near.stderr, "unknown clients command 'lst' (did you mean 'list'?)", 'clients')
    assert.equal(near.code, 2)
    const far = await runCli(['keys', 'frobnicate'])
    assertShortUsageError(
      far.stderr,
      "unknown keys command 'frobnicate' (expected: list, rotate, revoke)",
      'keys',
    )
    assert.equal(far.code, 2)
  })

  it("suggests the flag meant from the command's own flags, in three lines", async () => {
    const r = await runCli(['start', '--confg', 'x.yaml'], CLEAN_ENV)
    assertShortUsageError(r.stderr, "unknown option '--confg' (did you mean '--config'?)", 'start')
    assert.equal(r.code, 2)
    const sub = await runCli(['users', 'add', 'alice', '--emial', 'a@example.com'], CLEAN_ENV)
    assertShortUsageError(sub.stderr, "unknown option '--emial' (did you mean '--email'?)", 'users add')
    assert.equal(sub.code, 2)
    // A key id that starts with '-' reads as options: the answer says to put it after `--`.
    const kid = await runCli(['keys', 'revoke', '-mKZr3xQ', '--config', 'x.yaml'], CLEAN_ENV)
    assert.match(
      kid.stderr,
      /^gatehouse: unknown option '-m' \(a value that starts with '-', such as a key id, goes after '--'/,
    )
    assert.equal(kid.code, 2)
  })

  it('says which flag lacks its value, and names an unexpected argument', async () => {
    const value = await runCli(['migrate', '--config'], CLEAN_ENV)
    assertShortUsageError(value.stderr, "option '--config' needs a value", 'migrate')
    assert.equal(value.code, 2)
    const extra = await runCli(['start', '--config', 'x.yaml', 'now'], CLEAN_ENV)
    assertShortUsageError(extra.stderr, "unexpected argument 'now'", 'start')
    assert.equal(extra.code, 2)
  })
})

describe('gatehouse config check, given the file as --config', () => {
  const { dir, file } = writeTempConfig(VALID)
  after(() => rmSync(dir, { recursive: true, force: true }))
  const OK = `${file}: OK (1 service, 1 route, 0 consumers, 0 plugins)\n`

  it('checks --config FILE (and -c FILE) as it checks FILE', async () => {
    for (const args of [['--config', file], ['-c', file], [file]]) {
      const r = await runCli(['config', 'check', ...args], CLEAN_ENV)
      assert.deepEqual([r.stdout, r.stderr, r.code], [OK, '', 0], args.join(' '))
    }
  })

  it('checks GATEHOUSE_CONFIG when given neither', async () => {
    const r = await runCli(['config', 'check'], { GATEHOUSE_CONFIG: file })
    assert.deepEqual([r.stdout, r.code], [OK, 0])
  })

  it('refuses FILE and --config together, naming both, exiting 2', async () => {
    const r = await runCli(['config', 'check', file, '--config', 'other.yaml'], CLEAN_ENV)
    assertShortUsageError(
      r.stderr,
      `config check takes FILE or --config FILE, not both ('${file}' and 'other.yaml')`,
      'config check',
    )
    assert.equal(r.stdout, '')
    assert.equal(r.code, 2)
  })
})
