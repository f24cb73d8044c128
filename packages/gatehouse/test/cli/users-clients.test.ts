import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { clientSecretKey, hashClientSecret } from '../../src/config/normalize-identity.ts'
import { parsePhc, verifyPassword } from '../../src/crypto/argon2id.ts'
import { SqliteStore } from '../../src/storage/sqlite.ts'
import type { Store } from '../../src/storage/store.ts'
import { runCli, writeTempConfig } from '../harness/gatehouse.ts'

const IDENTITY_SECRET = 'test-identity-secret-0123456789abcdef'
const CAROL_PASSWORD = 'carol-config-password-1'
const ENV = {
  GATEHOUSE_CONFIG: '',
  TEST_IDENTITY_SECRET: IDENTITY_SECRET,
  TEST_CAROL_PASSWORD: CAROL_PASSWORD,
}

/** carol and shop-web are the file's; everything else the tests add through the CLI. */
const CONFIG = `_format_version: "3.0"
identity:
  secret: "{vault://env/TEST_IDENTITY_SECRET}"
  resources:
  - indicator: https://api.shop.example
    scopes: [orders:read]
  users:
  - username: carol
    email: carol@shop.example
    password: "{vault://env/TEST_CAROL_PASSWORD}"
  clients:
  - client_id: shop-web
    redirect_uris: [https://shop.example/callback]
storage:
  sqlite:
    path: gatehouse.db
`

const USERS_USAGE =
  /\nUsage: gatehouse users add\|list\|.* \.\.\.\nRun 'gatehouse users --help' for more\.\n$/

/** The actions of a command's stderr, which holds nothing but audit lines when it succeeds. */
function auditActions(stderr: string): string[] {
  return stderr
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l) as { type: string; action: string })
    .map((l) => (l.type === 'audit' ? l.action : `not an audit line: ${JSON.stringify(l)}`))
}

/** One configuration and database for a describe block, removed after it. */
function fixture(config = CONFIG) {
  const { dir, file } = writeTempConfig(config)
  after(() => rmSync(dir, { recursive: true, force: true }))
  return {
    file,
    /** `gatehouse ARGS... --config FILE`, with `input` on standard input. */
    run: (args: string[], input?: string) =>
      runCli([...args, '--config', file], ENV, input === undefined ? {} : { input }),
    /** Opens the database the commands use, for what the output does not show. */
    async inStore<T>(look: (store: Store) => Promise<T>): Promise<T> {
      const store = await SqliteStore.open(join(dir, 'gatehouse.db'))
      try {
        await store.checkSchema()
        return await look(store)
      } finally {
        await store.close()
      }
    },
  }
}

describe('gatehouse migrate', () => {
  it('applies the migrations of a new database, then says it is up to date', async () => {
    const { file, run } = fixture()
    const database = join(file, '..', 'gatehouse.db')
    const first = await run(['migrate'])
    assert.equal(
      first.stdout,
      `applied 001_identity\napplied 002_entities\napplied 003_factors\napplied 004_identity_links\napplied 005_account\napplied 006_passkeys\napplied 007_identity_audit\n${database}: schema up to date (7 migrations applied)\n`,
    )
    assert.equal(first.code, 0)
    const again = await runCli(['migrate'], { ...ENV, GATEHOUSE_CONFIG: file })
    assert.equal(again.stdout, `${database}: schema already up to date\n`)
    assert.equal(again.code, 0)
  })

  it('exits 2 with the usage when no configuration file is given', async () => {
    const r = await runCli(['migrate'], ENV)
    assert.match(
      r.stderr,
      /^gatehouse: migrate needs --config FILE \(or GATEHOUSE_CONFIG\)\nUsage: gatehouse migrate \[--config FILE\]\n/,
    )
    assert.equal(r.code, 2)
  })

  it('prints configuration problems the usual way, without the secret, and exits 1', async () => {
    const { file, run } = fixture(CONFIG.replace('{vault://env/TEST_IDENTITY_SECRET}', 'too-short-secret'))
    const r = await run(['users', 'list'])
    assert.equal(
      r.stderr,
      `${file}: identity.secret: must be at least 32 characters (openssl rand -base64 32)\n` +
        'gatehouse: 1 problem in the configuration\n',
    )
    assert.equal(r.code, 1)
  })

  it('names the database path when its folder does not exist, and exits 1', async () => {
    const { file, run } = fixture(CONFIG.replace('path: gatehouse.db', 'path: missing/gatehouse.db'))
    const folder = join(file, '..', 'missing')
    const r = await run(['migrate'])
    assert.equal(
      r.stderr,
      `gatehouse: cannot open the SQLite database ${join(folder, 'gatehouse.db')}: the folder ${folder} does not exist\n`,
    )
    assert.equal(r.code, 1)
  })
})

describe('gatehouse users', () => {
  const { file, run, inStore } = fixture()
  const managed = (name: string) => `gatehouse: user '${name}' is managed by ${file}; change it there\n`

  it('adds a user with the password from standard input, and lists users without their hashes', async () => {
    const password = 'alice-has-a-long-passphrase'
    const added = await run(
      ['users', 'add', 'alice', '--email', 'Alice@Shop.example', '--role', 'admin', '--role', 'staff'].concat(
        ['--claim', 'country=GB', '--claim', 'customer_type=premium'],
      ),
      `${password}\n`,
    )
    assert.match(added.stdout, /^user 'alice' added \(id [0-9a-f-]{36}\)\n$/)
    // stderr has the change's audit line only (test/cli/audit.test.ts checks it whole).
    assert.deepEqual(auditActions(added.stderr), ['user.added'])
    assert.equal(added.code, 0)

    const listed = await run(['users', 'list'])
    assert.equal(listed.code, 0)
    assert.deepEqual(listed.stdout.split('\n')[0]!.split(/\s+/), [
      'USERNAME',
      'EMAIL',
      'ROLES',
      'DISABLED',
      'SOURCE',
    ])
    assert.match(listed.stdout, /\nalice\s+Alice@Shop\.example\s+admin,staff\s+no\s+cli\n/)
    for (const r of [added, listed]) {
      assert.ok(!(r.stdout + r.stderr).includes(password), 'the password is never printed')
      assert.ok(!(r.stdout + r.stderr).includes('$argon2'), 'no hash is printed')
    }

    const alice = (await inStore((s) => s.users.findByUsername('alice')))!
    assert.deepEqual(alice.claims, { country: 'GB', customer_type: 'premium' })
    assert.equal(alice.source, 'cli')
    const hash = parsePhc(alice.password_hash)
    assert.ok(typeof hash !== 'string' && (await verifyPassword(hash, password)))
  })

  it('refuses a username or e-mail address already taken, in any case, naming it, and exits 1', async () => {
    await run(['users', 'add', 'bea', '--email', 'bea@shop.example'], 'bea-has-a-long-passphrase\n')
    const name = await run(['users', 'add', 'BEA'], 'another-long-passphrase\n')
    assert.equal(name.stderr, "gatehouse: username 'BEA' is already taken\n")
    assert.equal(name.code, 1)
    const email = await run(
      ['users', 'add', 'bea2', '--email', 'BEA@shop.example'],
      'another-long-passphrase\n',
    )
    assert.equal(email.stderr, "gatehouse: e-mail address 'BEA@shop.example' is already taken\n")
    assert.equal(email.code, 1)
  })

  it('refuses a weak or missing password, saying why, and adds nobody', async () => {
    const cases: [string[], string | undefined, string][] = [
      [['bob'], 'short-pw\n', 'password refused: it has fewer than 12 characters'],
      [
        ['bobby-builder-x'],
        'Bobby-Builder-X\n',
        'password refused: it is the username or the e-mail address',
      ],
      [
        ['bob', '--email', 'bob.long@shop.example'],
        'BOB.long@shop.example\n',
        'password refused: it is the username or the e-mail address',
      ],
      [['bob'], 'Password1234\n', 'password refused: it is one of the most common passwords'],
      [['bob'], undefined, 'no password on standard input (pipe one line, or run it in a terminal)'],
    ]
    for (const [args, input, message] of cases) {
      const r = await run(['users', 'add', ...args], input)
      assert.equal(r.stderr, `gatehouse: ${message}\n`, args.join(' '))
      assert.equal(r.code, 1)
    }
    assert.equal(await inStore((s) => s.users.findByUsername('bob')), undefined)
  })

  it('refuses bad option values with exit 2, naming each option and value', async () => {
    const r = await run(
      ['users', 'add', 'b b', '--email', 'nope', '--role', 'x y', '--claim', 'Country=GB'],
      'a-long-enough-passphrase\n',
    )
    assert.equal(
      r.stderr,
      "gatehouse: USERNAME 'b b': must be 1-64 characters of letters, digits and . _ @ + -; " +
        "--email 'nope': Invalid email address; --role 'x y': must contain only letters, digits and . _ ~ -; " +
        "--claim 'Country': claim names are lower_snake_case\n",
    )
    assert.equal(r.code, 2)
    const claim = await run(['users', 'add', 'bob', '--claim', 'country'])
    assert.equal(claim.stderr, "gatehouse: --claim 'country': expected NAME=VALUE\n")
    assert.equal(claim.code, 2)
  })

  it('disables, enables, changes the password of and removes a CLI user', async () => {
    await run(['users', 'add', 'dave'], 'dave-first-long-passphrase\n')
    const disabled = await run(['users', 'disable', 'DAVE'])
    assert.deepEqual([disabled.stdout, disabled.code], ["user 'dave' disabled\n", 0])
    assert.equal((await inStore((s) => s.users.findByUsername('dave')))?.disabled, true)
    const enabled = await run(['users', 'enable', 'dave'])
    assert.deepEqual([enabled.stdout, enabled.code], ["user 'dave' enabled\n", 0])
    assert.equal((await inStore((s) => s.users.findByUsername('dave')))?.disabled, false)

    const passwd = await run(['users', 'passwd', 'dave'], 'dave-second-long-passphrase\n')
    assert.deepEqual([passwd.stdout, passwd.code], ["password of 'dave' changed\n", 0])
    const hash = parsePhc((await inStore((s) => s.users.findByUsername('dave')))!.password_hash)
    assert.ok(typeof hash !== 'string' && (await verifyPassword(hash, 'dave-second-long-passphrase')))
    const weak = await run(['users', 'passwd', 'dave'], 'dave\n')
    assert.deepEqual(
      [weak.stderr, weak.code],
      ['gatehouse: password refused: it has fewer than 12 characters\n', 1],
    )

    const removed = await run(['users', 'remove', 'dave'])
    assert.deepEqual([removed.stdout, removed.code], ["user 'dave' removed\n", 0])
    const gone = await run(['users', 'disable', 'dave'])
    assert.deepEqual([gone.stderr, gone.code], ["gatehouse: no user 'dave'\n", 1])
  })

  it('clears the failed logins and lock of a username with users unlock', async () => {
    await inStore(async (s) => {
      await s.throttle.recordFailure('user:erin', 1_700_000_000, 60)
      await s.throttle.lock('user:erin', 4_000_000_000)
    })
    const unlocked = await run(['users', 'unlock', 'Erin'])
    assert.deepEqual([unlocked.stdout, unlocked.code], ["cleared the failed logins and lock of 'Erin'\n", 0])
    assert.equal(await inStore((s) => s.throttle.get('user:erin')), undefined)
    const again = await run(['users', 'unlock', 'erin'])
    assert.deepEqual([again.stdout, again.code], ["'erin' has no failed logins or lock to clear\n", 0])
  })

  it('refuses to add or change users the configuration file manages, but unlocks them', async () => {
    for (const args of [
      ['add', 'Carol'],
      ['disable', 'carol'],
      ['passwd', 'carol'],
      ['remove', 'carol'],
    ]) {
      const r = await run(['users', ...args], 'a-long-enough-passphrase\n')
      assert.equal(r.stderr, managed(args[0] === 'add' ? 'Carol' : 'carol'), args.join(' '))
      assert.equal(r.code, 1)
    }
    // Written to the store by a load of the file, since removed from it: still the file's until the next load.
    await inStore((s) =>
      s.users.syncConfigUsers(
        [{ username: 'frank', email: null, password_hash: 'x', roles: [], claims: {}, disabled: false }],
        1_700_000_000,
      ),
    )
    const frank = await run(['users', 'remove', 'frank'])
    assert.deepEqual([frank.stderr, frank.code], [managed('frank'), 1])
    assert.equal((await run(['users', 'unlock', 'carol'])).code, 0)
  })

  it('exits 2 with the usage for a missing or unknown users command or a missing USERNAME', async () => {
    const none = await run(['users'])
    assert.match(
      none.stderr,
      /^gatehouse: users needs a command \(add, list, disable, enable, passwd, unlock, remove, mfa, sessions, signout, links, unlink\)/,
    )
    assert.match(none.stderr, USERS_USAGE)
    assert.equal(none.code, 2)
    const unknown = await run(['users', 'rename'])
    assert.match(unknown.stderr, /^gatehouse: unknown users command 'rename'/)
    assert.equal(unknown.code, 2)
    const missing = await run(['users', 'disable'])
    assert.match(missing.stderr, /^gatehouse: users disable takes exactly one USERNAME\n/)
    assert.equal(missing.code, 2)
  })
})

describe('gatehouse clients', () => {
  const { file, run, inStore } = fixture()

  it('adds a confidential client, printing its secret once and storing only a keyed hash of it', async () => {
    const r = await run(
      [
        'clients',
        'add',
        'partner',
        '--grant',
        'client_credentials',
        '--resource',
        'https://api.shop.example',
      ].concat(['--scope', 'orders:read', '--name', 'Partner backend']),
    )
    assert.equal(r.code, 0)
    const lines = r.stdout.split('\n')
    assert.equal(lines[0], "client 'partner' added (confidential)")
    const secret = /^client_secret: ([A-Za-z0-9_-]{43})$/.exec(lines[1]!)?.[1]
    assert.ok(secret, r.stdout)
    assert.match(lines[2]!, /shown only this once/)

    const stored = (await inStore((s) => s.clients.get('partner')))!
    assert.equal(stored.secret_hash, hashClientSecret(clientSecretKey(IDENTITY_SECRET), secret))
    assert.deepEqual(stored.grant_types, ['client_credentials'])
    assert.deepEqual(stored.resources, ['https://api.shop.example'])
    assert.equal(stored.source, 'cli')

    const listed = await run(['clients', 'list'])
    assert.equal(listed.code, 0)
    assert.match(listed.stdout, /\npartner\s+Partner backend\s+confidential\s+client_credentials\s+-\s+cli\n/)
    assert.ok(!listed.stdout.includes(secret) && !listed.stdout.includes('hmac-sha256'))
    assert.ok(!listed.stdout.includes(IDENTITY_SECRET) && !r.stdout.includes(IDENTITY_SECRET))
  })

  it('adds a public client with the default grants and scopes, printing no secret', async () => {
    const r = await run([
      'clients',
      'add',
      'spa',
      '--public',
      '--redirect-uri',
      'http://localhost:3000/cb',
      '--first-party',
    ])
    assert.deepEqual([r.stdout, r.code], ["client 'spa' added (public)\n", 0])
    assert.deepEqual(auditActions(r.stderr), ['client.added'])
    const spa = (await inStore((s) => s.clients.get('spa')))!
    assert.equal(spa.secret_hash, null)
    assert.deepEqual(spa.grant_types, ['authorization_code', 'refresh_token'])
    assert.deepEqual(spa.scopes, ['openid', 'profile', 'email', 'offline_access'])
    assert.equal(spa.first_party, true)
  })

  it('refuses bad redirect URIs, grants and resources with exit 2, naming the option and value', async () => {
    const cases: [string[], string][] = [
      [
        ['--redirect-uri', 'http://evil.example/cb', '--redirect-uri', 'https://app.example/cb#x'],
        "--redirect-uri 'http://evil.example/cb': http is only allowed for loopback hosts (localhost, 127.0.0.1, [::1]); use https; " +
          "--redirect-uri 'https://app.example/cb#x': must not contain a fragment (RFC 6749 §3.1.2)",
      ],
      [[], '--redirect-uri: at least one is required for the authorization_code grant'],
      [
        ['--public', '--grant', 'client_credentials', '--resource', 'https://api.shop.example'],
        '--public: a public client cannot use the client_credentials grant',
      ],
      [
        ['--grant', 'client_credentials', '--resource', 'https://other.example'],
        "--resource 'https://other.example': no resource 'https://other.example' in identity.resources",
      ],
      [
        ['--grant', 'refresh_token', '--redirect-uri', 'https://app.example/cb'],
        '--grant: refresh_token needs authorization_code',
      ],
    ]
    for (const [args, message] of cases) {
      const r = await run(['clients', 'add', 'bad-client', ...args])
      assert.equal(r.stderr, `gatehouse: ${message}\n`, args.join(' '))
      assert.equal(r.stdout, '', 'no secret is printed for a refused client')
      assert.equal(r.code, 2)
    }
    assert.equal(await inStore((s) => s.clients.get('bad-client')), undefined)
  })

  it('refuses a client_id taken and clients the configuration file manages; removes a CLI client', async () => {
    await run(['clients', 'add', 'mobile', '--public', '--redirect-uri', 'https://app.example/cb'])
    const taken = await run([
      'clients',
      'add',
      'mobile',
      '--public',
      '--redirect-uri',
      'https://app.example/cb',
    ])
    assert.deepEqual([taken.stderr, taken.code], ["gatehouse: client_id 'mobile' is already taken\n", 1])
    const managed = `gatehouse: client 'shop-web' is managed by ${file}; change it there\n`
    const add = await run(['clients', 'add', 'shop-web', '--redirect-uri', 'https://shop.example/cb'])
    assert.deepEqual([add.stderr, add.stdout, add.code], [managed, '', 1])
    const remove = await run(['clients', 'remove', 'shop-web'])
    assert.deepEqual([remove.stderr, remove.code], [managed, 1])

    const removed = await run(['clients', 'remove', 'mobile'])
    assert.deepEqual([removed.stdout, removed.code], ["client 'mobile' removed\n", 0])
    const gone = await run(['clients', 'remove', 'mobile'])
    assert.deepEqual([gone.stderr, gone.code], ["gatehouse: no client 'mobile'\n", 1])
  })
})

describe('gatehouse clients, without identity.secret', () => {
  const { file, run } = fixture(CONFIG.replace(/ {2}secret: .*\n/, ''))

  it('refuses a confidential client, saying why, and still adds a public one', async () => {
    const r = await run(['clients', 'add', 'partner', '--grant', 'client_credentials'])
    assert.equal(
      r.stderr,
      `gatehouse: identity.secret is not set in ${file}: a confidential client's secret is stored as a hash keyed by it ` +
        '(set it, e.g. to {vault://env/GATEHOUSE_IDENTITY_SECRET}, or add a --public client)\n',
    )
    assert.deepEqual([r.stdout, r.code], ['', 1])
    const spa = await run(['clients', 'add', 'spa', '--public', '--redirect-uri', 'https://app.example/cb'])
    assert.equal(spa.code, 0)
  })
})
