/**
 * WebAuthn challenges, kept server-side (the store's artefacts, so every node sees them) under a key
 * that binds them to what they were made for: an interaction (`interaction:<uid>:<purpose>`) or an
 * account-page session (`account:<session id>:<purpose>`). A page that offers a passkey makes one;
 * the response is checked against the one taken (deleted in the same statement), so a challenge is
 * used once even when two requests race with it, and a newer page replaces an older one.
 */
import { randomBytes } from 'node:crypto'
import type { OidcStore } from '../../storage/store.ts'
import { PASSKEY_TIMEOUT_SECONDS } from './passkey.ts'

const MODEL = 'GatehousePasskeyChallenge'
const nowSeconds = () => Math.floor(Date.now() / 1000)

/** A new challenge for `key` (replacing any earlier one), base64url as WebAuthn's JSON carries it. */
export async function issueChallenge(store: OidcStore, key: string): Promise<string> {
  const challenge = randomBytes(32).toString('base64url')
  // A little longer than the browser's timeout: the form still has to be posted after the prompt.
  await store.upsert(MODEL, key, { challenge }, PASSKEY_TIMEOUT_SECONDS + 60, nowSeconds())
  return challenge
}

/** The challenge issued for `key`, gone from the store from now on; undefined: none, used or expired. */
export async function takeChallenge(store: OidcStore, key: string): Promise<string | undefined> {
  const payload = await store.take(MODEL, key, nowSeconds())
  return typeof payload?.['challenge'] === 'string' ? payload['challenge'] : undefined
}
