/**
 * The gateway's own identity provider issuing a DPoP-bound access token (client_credentials, openid-client
 * as the client) and a route of the same gateway taking it with the openid-connect plugin: openid-client
 * builds the DPoP proofs (htm, htu, ath, jti) exactly as a real client would, so this checks that our
 * reading of RFC 9449 matches an independent implementation's, not only our own test fixtures.
 */
import assert from 'node:assert/strict'
import { after, before, describe, it } from 'node:test'
import { type GatehouseProcess, startGatehouse } from '../../../test/harness/gatehouse.ts'
import { rawRequest } from '../../../test/harness/http.ts'
import { type EchoBody, startUpstream, type Upstream } from '../../../test/harness/upstream.ts'
import {
  freePort,
  identitySection,
  ORDERS_API,
  PARTNER_SECRET,
} from '../../../test/identity/support/gateway.ts'
import { client, configFor } from '../../../test/identity/support/oidc.ts'
import { assertRefusal } from './test-fixtures.ts'

describe('a DPoP-bound token from the built-in identity provider', () => {
  let upstream: Upstream
  let gh: GatehouseProcess
  let port: number
  let partner: client.Configuration

  before(async () => {
    upstream = await startUpstream()
    port = await freePort()
    const issuer = `http://127.0.0.1:${port}/oidc`
    gh = await startGatehouse({
      config: {
        _format_version: '3.0',
        identity: identitySection(issuer),
        services: [
          {
            name: 'orders',
            url: upstream.url,
            routes: [{ name: 'orders', paths: ['/orders'] }],
            plugins: [
              {
                name: 'openid-connect',
                config: {
                  issuer,
                  audience: ORDERS_API,
                  required_scopes: ['orders:read'],
                  verbose_errors: true,
                },
              },
            ],
          },
        ],
      },
      args: ['--proxy-listen', `127.0.0.1:${port}`],
    })
    partner = await configFor(issuer, 'partner', PARTNER_SECRET)
  })
  after(async () => {
    await gh?.stop()
    await upstream?.close()
  })

  it('is accepted with openid-client’s proofs, and refused as a bearer token', async () => {
    const DPoP = client.getDPoPHandle(partner, await client.randomDPoPKeyPair('ES256'))
    const tokens = await client.clientCredentialsGrant(
      partner,
      { resource: ORDERS_API, scope: 'orders:read' },
      { DPoP },
    )
    assert.equal(tokens.token_type, 'dpop')
    const resource = new URL(`http://127.0.0.1:${port}/orders/42?view=full`)
    for (let i = 0; i < 2; i++) {
      const res = await client.fetchProtectedResource(
        partner,
        tokens.access_token,
        resource,
        'GET',
        null,
        undefined,
        {
          DPoP,
        },
      )
      assert.equal(res.status, 200, await res.clone().text())
      const echo = (await res.json()) as EchoBody
      assert.equal(echo.headers['x-authenticated-userid'], 'partner')
      assert.equal(echo.headers.dpop, undefined)
      assert.match(echo.headers.authorization as string, /^DPoP ey/)
    }
    assertRefusal(
      await rawRequest(resource.href, { headers: { authorization: `Bearer ${tokens.access_token}` } }),
      {
        description: 'DPoP-bound token presented as a bearer token',
        reason: 'dpop_bearer_downgrade',
      },
    )
  })
})
