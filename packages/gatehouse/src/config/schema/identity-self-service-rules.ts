/** The self-service keys' rules across keys: what sends mail needs `identity.email`, SMTP needs one server. */
import type { z } from 'zod'
import type { identitySettings } from './identity.ts'

/** The account page's built-in client (identity/account-page/account-client.ts). */
export const RESERVED_CLIENT_ID = 'gatehouse-account'

export function checkSelfService(
  raw: z.output<typeof identitySettings>,
  issue: (path: string, message: string) => void,
): void {
  const at = 'identity'
  for (const feature of ['registration', 'password_reset'] as const)
    if (raw[feature].enabled && raw.email === undefined)
      issue(
        `${at}.${feature}.enabled`,
        'needs identity.email (an SMTP server and a From address): the links are sent by e-mail',
      )
  for (const [i, client] of raw.clients.entries())
    if (client.client_id === RESERVED_CLIENT_ID)
      issue(
        `${at}.clients[${i}].client_id`,
        `'${RESERVED_CLIENT_ID}' is the account page's own client; choose another id`,
      )
  const smtp = raw.email?.smtp
  if (smtp === undefined) return
  if ((smtp.url === undefined) === (smtp.host === undefined))
    issue(`${at}.email.smtp`, 'give either url or host (and port, secure, auth), not both or neither')
  if (smtp.url !== undefined && smtp.port !== undefined)
    issue(`${at}.email.smtp.port`, 'the url carries the port; remove port or url')
  if (smtp.url !== undefined && /^smtps?:\/\/[^/]*@/.test(smtp.url))
    issue(
      `${at}.email.smtp.url`,
      'must not carry credentials; put them in auth (auth.pass as {vault://env/NAME})',
    )
}
