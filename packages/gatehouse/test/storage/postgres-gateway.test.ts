/**
 * Gateways with `storage.postgres` end to end, on a real PostgreSQL server: a node refuses a database
 * whose schema is older until `gatehouse migrate` has run; the identity provider issues tokens and, after
 * a restart, signs with the same keys (stored encrypted in the database); two nodes on one database serve
 * the same JWKS and accept each other's refresh tokens. The URL reaches the gateway through a vault
 * reference, as a password-bearing URL should.
 */
import assert from 'node:assert/strict'
import { rmSync } from 'node:fs'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, runCli, startGatehouse, writeTempConfig } from '../harness/gatehouse.ts'
import { type PostgresServer, postgresSkipReason, startPostgres } from '../harness/postgres.ts'
import {
  ALICE,
  freePort,
  identitySection,
  ORDERS_API,
  PARTNER_SECRET,
  WEB_SECRET,
} from '../identity/support/gateway.ts'
import { client, codeFlow, configFor, oauthError, TokenVerifier } from '../identity/support/oidc.ts'

const skip = postgresSkipReason()

describe('gateways on one PostgreSQL database', { skip }, () => {
  let server: PostgresServer
  let database: string
  let env: Record<string, string>
  let port: number
  let issuer: string
  const running: GatehouseProcess[] = []

  before(async () => {
    server = await startPostgres()
    const url = await server.createDatabase()
    database = url.slice(url.lastIndexOf('/') + 1)
    env = { GATEHOUSE_TEST_DATABASE_URL: url }
    port = await freePort()
    issuer = `http://127.0.0.1:${port}/oidc`
  })
  after(async () => {
    await Promise.all(running.map((gh) => gh.stop()))
    await server?.stop()
  })

  const config = () => ({
    _format_version: '3.0',
    identity: identitySection(issuer),
    storage: { postgres: { url: '{vault://env/GATEHOUSE_TEST_DATABASE_URL}', pool_size: 4 } },
  })

  /** A node listening on `listen` (the issuer's port by default), serving the one issuer. */
  async function startNode(listen = port): Promise<GatehouseProcess> {
    const gh = await startGatehouse({
      config: config(),
      env,
      args: ['--proxy-listen', `127.0.0.1:${listen}`],
    })
    running.push(gh)
    return gh
  }

  async function stopNode(gh: GatehouseProcess): Promise<void> {
    running.splice(running.indexOf(gh), 1)
    assert.equal((await gh.stop()).code, 0)
  }

  const jwks = async (origin: string) =>
    ((await (await fetch(`${origin}/oidc/jwks`)).json()) as { keys: { kid: string }[] }).keys

  it('refuses to start on a database not yet migrated, saying to run gatehouse migrate, which applies the schema', async () => {
    const { dir, file } = writeTempConfig(config())
    try {
      const location = `postgres://postgres@127.0.0.1:${server.port}/${database}`
      const refused = await runCli(
        ['start', '--config', file, '--proxy-listen', '127.0.0.1:0', '--admin-listen', '127.0.0.1:0'],
        env,
      )
      assert.equal(refused.code, 1)
      assert.equal(
        refused.stderr,
        `gatehouse: PostgreSQL database ${location}: the database schema is older than this version of Gatehouse expects (pending migrations: 001_identity, 002_entities, 003_factors, 004_identity_links, 005_account, 006_passkeys, 007_identity_audit); run \`gatehouse migrate\`\n`,
      )

      const migrated = await runCli(['migrate', '--config', file], env)
      assert.equal(migrated.code, 0, migrated.stderr)
      assert.equal(
        migrated.stdout,
        `applied 001_identity\napplied 002_entities\napplied 003_factors\napplied 004_identity_links\napplied 005_account\napplied 006_passkeys\napplied 007_identity_audit\n${location}: schema up to date (7 migrations applied)\n`,
      )
      const again = await runCli(['migrate', '--config', file], env)
      assert.equal(again.stdout, `${location}: schema already up to date\n`)
    } finally {
      rmSync(dir, { recursive: true, force: true })
    }
  })

  it('issues client_credentials tokens, and after a restart signs with the same keys, kept encrypted', async () => {
    const first = await startNode()
    const partner = await configFor(issuer, 'partner', PARTNER_SECRET)
    const token = (await client.clientCredentialsGrant(partner, { resource: ORDERS_API })).access_token
    const keysBefore = await jwks(first.proxyUrl)
    await stopNode(first)

    const second = await startNode()
    assert.deepEqual(await jwks(second.proxyUrl), keysBefore)
    const verify = new TokenVerifier(await configFor(issuer, 'partner', PARTNER_SECRET))
    const old = await verify.accessToken(token, ORDERS_API)
    const fresh = await verify.accessToken(
      (await client.clientCredentialsGrant(partner, { resource: ORDERS_API })).access_token,
      ORDERS_API,
    )
    assert.equal(fresh.kid, old.kid)

    const { rows } = await server.query<{ kid: string; encrypted_jwk: string }>(
      'select kid, encrypted_jwk from signing_keys order by kid',
      [],
      database,
    )
    assert.deepEqual(
      rows.map((r) => r.kid),
      keysBefore.map((k) => k.kid).sort(),
    )
    for (const { encrypted_jwk } of rows) {
      assert.doesNotMatch(encrypted_jwk, /"d"|"kty"|PRIVATE KEY/)
      assert.throws(() => JSON.parse(encrypted_jwk))
    }
  })

  it('runs two nodes on the database that serve the same JWKS and accept each other’s refresh tokens', async () => {
    const a = running[0] ?? (await startNode())
    const b = await startNode(await freePort())
    assert.deepEqual(await jwks(b.proxyUrl), await jwks(a.proxyUrl))

    const atA = await configFor(issuer, 'web-app', WEB_SECRET)
    const metadata = (await (
      await fetch(`${issuer}/.well-known/openid-configuration`)
    ).json()) as client.ServerMetadata
    // The same issuer, reached at node b: as behind a load balancer that picked b this time.
    const atB = new client.Configuration(
      { ...metadata, token_endpoint: metadata.token_endpoint!.replace(a.proxyUrl, b.proxyUrl) },
      'web-app',
      undefined,
      client.ClientSecretBasic(WEB_SECRET),
    )
    client.allowInsecureRequests(atB)

    const signedIn = await codeFlow(atA, ALICE, {
      scope: 'openid offline_access orders:read',
      resource: ORDERS_API,
      prompt: 'consent',
    })
    const first = signedIn.refresh_token!
    const second = (await client.refreshTokenGrant(atB, first)).refresh_token!
    const third = (await client.refreshTokenGrant(atA, second)).refresh_token!
    assert.ok(third && new Set([first, second, third]).size === 3)
    // Rotated at b, so spent at a: a reuse, which revokes the whole grant on both.
    assert.equal((await oauthError(client.refreshTokenGrant(atA, first))).error, 'invalid_grant')
    assert.equal((await oauthError(client.refreshTokenGrant(atB, third))).error, 'invalid_grant')
  })
})
