/**
 * `gatehouse audit ...` (issue 14): the identity audit trail in the store, which the admin API shows as
 * `GET /identity/audit` (identity/manage/audit.ts says what is in it). `list` prints it newest first, as
 * a table or as JSON lines (`--json`, for a log shipper), filtered by target and action, a page at a
 * time; `prune` deletes the events recorded before a date, the one way the trail ever shrinks, and
 * records that it did.
 */
import { parseArgs } from 'node:util'
import { closest } from '../config/did-you-mean.ts'
import { AUDIT_ACTIONS, type AuditTargetType, isAuditAction, targetQuery } from '../identity/manage/audit.ts'
import type { StoredAuditEvent } from '../storage/store.ts'
import { auditCli } from './lib/audit.ts'
import { UsageError } from './lib/errors.ts'
import { plural, printTable, say } from './lib/output.ts'
import { CONFIG_OPTION, configFileFrom, splitSubcommand, withStore } from './lib/store-command.ts'

const SUBCOMMANDS = 'list, prune'

/** The options that name a target, and the type each names. */
const TARGETS: Readonly<Record<string, AuditTargetType>> = {
  user: 'user',
  client: 'client',
  key: 'signing_key',
  revocation: 'revocation',
}

export async function auditCommand(args: string[]): Promise<number> {
  const [sub, rest] = splitSubcommand(args)
  switch (sub) {
    case 'list':
      return list(rest)
    case 'prune':
      return prune(rest)
    default:
      throw new UsageError(
        sub === undefined
          ? `audit needs a command (${SUBCOMMANDS})`
          : `unknown audit command '${sub}' (expected: ${SUBCOMMANDS})`,
      )
  }
}

async function list(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: {
      ...CONFIG_OPTION,
      user: { type: 'string' },
      client: { type: 'string' },
      key: { type: 'string' },
      revocation: { type: 'string' },
      action: { type: 'string' },
      limit: { type: 'string' },
      before: { type: 'string' },
      json: { type: 'boolean' },
    },
    allowPositionals: true,
  })
  if (positionals.length > 0) throw new UsageError('audit list takes no arguments besides its options')
  const named = Object.keys(TARGETS).filter((k) => values[k as keyof typeof values] !== undefined)
  if (named.length > 1) throw new UsageError(`name one of --${named.join(', --')}, not several`)
  const { action } = values
  if (action !== undefined && !isAuditAction(action)) {
    const hint = closest(action, Object.keys(AUDIT_ACTIONS))
    throw new UsageError(
      `--action '${action}' is not an audit action${hint !== undefined ? ` (did you mean '${hint}'?)` : ''}`,
      false,
    )
  }
  const limit = wholeNumber('--limit', values.limit, 100, 10_000)
  const before = values.before === undefined ? undefined : wholeNumber('--before', values.before, 0, 2 ** 53)
  return withStore(configFileFrom(values.config, 'audit list'), async ({ store }) => {
    const option = named[0]
    const value = option === undefined ? undefined : (values[option as keyof typeof values] as string)
    const target = option === undefined ? undefined : await targetQuery(store, TARGETS[option]!, value!)
    const events = await store.audit.list({
      ...(target !== undefined && { target }),
      ...(action !== undefined && { action }),
      ...(before !== undefined && { before }),
      limit: limit + 1,
    })
    const page = events.slice(0, limit)
    if (values.json) {
      for (const e of page) say(JSON.stringify(e))
      return 0
    }
    if (page.length === 0) say('no audit events')
    else
      printTable(
        ['ID', 'TIME', 'ACTION', 'BY', 'TARGET', 'DETAIL'],
        page.map((e) => [
          String(e.id),
          new Date(e.at * 1000).toISOString().slice(0, 19) + 'Z',
          e.action,
          actorOf(e),
          targetOf(e),
          detailOf(e),
        ]),
      )
    if (events.length > limit)
      say(`more: gatehouse audit list ... --before ${page.at(-1)!.id} (the older events)`)
    return 0
  })
}

async function prune(args: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args,
    options: { ...CONFIG_OPTION, before: { type: 'string' } },
    allowPositionals: true,
  })
  if (positionals.length > 0) throw new UsageError('audit prune takes no arguments besides --before DATE')
  if (values.before === undefined) throw new UsageError('audit prune needs --before DATE')
  const before = dateOf(values.before)
  return withStore(configFileFrom(values.config, 'audit prune'), async (ctx) => {
    const removed = await ctx.store.audit.prune(before)
    await auditCli(ctx, {
      action: 'audit.pruned',
      target: { type: 'audit', id: null, name: null },
      detail: { before, removed },
    })
    say(`removed ${plural(removed, 'audit event')} recorded before ${new Date(before * 1000).toISOString()}`)
    return 0
  })
}

/** `--before 2025-01-31` (midnight UTC) or a full ISO 8601 time, as epoch seconds; never in the future. */
function dateOf(text: string): number {
  const date = /^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : text
  const ms = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(date)
    ? Date.parse(date)
    : Number.NaN
  if (Number.isNaN(ms))
    throw new UsageError(
      `--before '${text}': expected a date (2025-01-31) or an ISO 8601 time with its zone`,
      false,
    )
  if (ms > Date.now())
    throw new UsageError(
      `--before '${text}' is in the future: it would remove the events of today too`,
      false,
    )
  return Math.floor(ms / 1000)
}

function wholeNumber(flag: string, text: string | undefined, fallback: number, max: number): number {
  if (text === undefined) return fallback
  const n = Number(text)
  if (!/^\d+$/.test(text) || n < 1 || n > max)
    throw new UsageError(`${flag} '${text}': expected a whole number from 1 to ${max}`, false)
  return n
}

function actorOf(e: StoredAuditEvent): string {
  const { actor } = e
  if (actor.via === 'cli')
    return `cli ${actor['os_user']}${actor['sudo_user'] ? ` (sudo ${actor['sudo_user']})` : ''}@${actor['host']}`
  // The person themself: by which page (the session's uid is in --json), from where.
  if (actor.via === 'self-service') return `self-service ${actor['channel']} ${actor['address']}`
  return `${actor.via} ${actor['address'] ?? '-'}`
}

function targetOf(e: StoredAuditEvent): string {
  const { type, id, name } = e.target
  if (type === 'audit') return '-'
  // A user by its username (its id in --json); a client by its client_id, not its display name.
  return `${type} ${(type === 'user' ? name : id) ?? id ?? '-'}`
}

/** `key=value` pairs; a string is quoted when it has a space or a quote. */
function detailOf(e: StoredAuditEvent): string {
  const pairs = Object.entries(e.detail).map(([k, v]) => {
    const text = typeof v === 'string' && /[\s"=]/.test(v) ? JSON.stringify(v) : String(v)
    return `${k}=${text}`
  })
  return pairs.join(' ') || '-'
}
