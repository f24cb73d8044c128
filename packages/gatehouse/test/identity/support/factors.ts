/**
 * Second factors from the test's side: codes computed here with otpauth (as an authenticator app
 * would), factors seeded straight into the running gateway's store (sealed as the provider seals them),
 * and a browserless walk through the sign-in pages.
 */
import assert from 'node:assert/strict'
import { randomUUID } from 'node:crypto'
import { setTimeout as sleep } from 'node:timers/promises'
import { Secret, TOTP } from 'otpauth'
import { sealSecret } from '../../../src/identity/factors/seal.ts'
import { factorSealKey } from '../../../src/identity/secrets.ts'
import type { Store } from '../../../src/storage/store.ts'
import { type Browser, formTo } from './browser.ts'
import { SECRET } from './gateway.ts'

/** The code an authenticator app shows `steps` steps from now (30 s each). */
export function totpCode(secret: string, steps = 0): string {
  return TOTP.generate({
    secret: Secret.fromBase32(secret.replace(/\s/g, '')),
    algorithm: 'SHA1',
    digits: 6,
    period: 30,
    timestamp: Date.now() + steps * 30_000,
  })
}

/** Waits out the last 3 s of a time step, so a code computed now is checked in the same step. */
export async function awayFromStepEdge(): Promise<void> {
  const left = TOTP.remaining({ period: 30 })
  if (left < 3000) await sleep(left + 200)
}

/** Gives the user an authenticator app with a new secret (no step used yet); returns the secret. */
export async function seedTotp(store: Store, username: string): Promise<string> {
  const user = await store.users.findByUsername(username)
  assert.ok(user, `no user ${username}`)
  const secret = new Secret({ size: 20 }).base32
  const id = randomUUID()
  await store.factors.insert({
    id,
    user_id: user.id,
    kind: 'totp',
    name: 'Seeded app',
    secret: sealSecret(factorSealKey(SECRET), id, secret),
    last_step: null,
    created_at: Math.floor(Date.now() / 1000),
    last_used_at: null,
  })
  return secret
}

/** A page of the sign-in, or where it ended (the client's callback). */
export type Step = { readonly html: string; readonly status: number } | URL

export async function open(browser: Browser, url: URL): Promise<Step> {
  return settle(await browser.follow(await browser.get(url), url.origin))
}

/** Submits the form posting to `…suffix` on `step` with `fields`. */
export async function submit(
  browser: Browser,
  step: Step,
  origin: string,
  suffix: string,
  fields: Record<string, string>,
): Promise<Step> {
  assert.ok(!(step instanceof URL), `expected a page, the sign-in ended at ${String(step)}`)
  const form = formTo(step.html, suffix)
  return settle(
    await browser.follow(
      await browser.post(new URL(form.action, origin), { ...form.fields, ...fields }),
      origin,
    ),
  )
}

async function settle(res: Response | URL): Promise<Step> {
  if (res instanceof URL) return res
  return { html: await res.text(), status: res.status }
}

export function page(step: Step): string {
  assert.ok(!(step instanceof URL), `expected a page, the sign-in ended at ${String(step)}`)
  return step.html
}

export function titleOf(step: Step): string {
  return /<title>([^<]*)<\/title>/.exec(page(step))?.[1] ?? ''
}
