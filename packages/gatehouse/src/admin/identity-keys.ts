/**
 * The identity provider's signing keys on the admin API (issue 12), as `gatehouse keys list|rotate`
 * (identity/keys/rotation.ts); withdrawing one is `POST /signing-keys/{kid}/revoke` (signing-keys.ts):
 *   GET  /identity/keys         kid, alg, state and dates of each key in the store (never key material)
 *   POST /identity/keys/rotate  the next key signs now and the active one is retired, for every configured
 *                               algorithm or the body's `alg`; this node's provider serves the new key
 *                               before the answer, the others within a second (they follow the store)
 */
import { z } from 'zod'
import { listKeys } from '../identity/keys/rotation.ts'
import { rotations } from '../identity/manage/audit.ts'
import { checkedBody, fieldsRefusal, sendRefusal } from './checked-body.ts'
import { type AdminHandler, sendJson } from './http.ts'
import { audited } from './identity-audit.ts'
import { identityFor } from './identity-requests.ts'

/** The (optional) body of `POST /identity/keys/rotate`. */
export const rotateBody = z.strictObject({
  alg: z
    .string()
    .regex(/^[A-Za-z0-9]{1,16}$/, { error: 'expected a JWS algorithm name such as ES256' })
    .optional()
    .describe(
      'Rotate only the keys of this algorithm (one of identity.keys.algorithms). Default: every one.',
    ),
})

/** `GET /identity/keys`. */
export const listProviderKeys: AdminHandler = async (ctx, a) => {
  const found = identityFor(ctx, a)
  if (found === null) return
  sendJson(a.res, 200, { data: await listKeys(found.host.store) })
}

/** `POST /identity/keys/rotate`: 201 with what changed and the keys now. */
export const rotateProviderKeys: AdminHandler = async (ctx, a, env) => {
  const found = identityFor(ctx, a)
  if (found === null) return
  const body = await checkedBody(a, env, rotateBody, { optional: true })
  if (body === null) return
  const algorithms = found.host.keyAlgorithms
  if (body.alg !== undefined && !algorithms.includes(body.alg))
    return sendRefusal(
      a,
      fieldsRefusal('GH_ERR_ADMIN_BAD_REQUEST', [
        {
          path: 'alg',
          message: `'${body.alg}' is not in identity.keys.algorithms (${algorithms.join(', ')})`,
        },
      ]),
    )
  const events = await found.host.rotateKeys(body.alg)
  for (const rotation of rotations(events)) await audited(ctx, a, env, rotation)
  sendJson(a.res, 201, { events, data: await listKeys(found.host.store) })
}
