/**
 * The pages oidc-provider renders itself (errors at the authorization endpoint, the logout question,
 * the signed-out page), in our shell and with our headers instead of its built-in views.
 * oidc-provider's logout form carries its own xsrf field; our buttons go inside it.
 */
import type { KoaContextWithOIDC } from 'oidc-provider'
import { markupOf, type SafeHtml, trusted } from './html.ts'
import { errorPage, logoutButtons, logoutPage, signedOutPage } from './messages.ts'
import { PAGE_HEADERS, renderPage } from './page.ts'

function send(ctx: KoaContextWithOIDC, page: { title: string; body: SafeHtml }): void {
  ctx.set(PAGE_HEADERS)
  ctx.body = renderPage(page.title, page.body)
}

export async function renderErrorPage(
  ctx: KoaContextWithOIDC,
  out: { error: string; error_description?: string | undefined },
): Promise<void> {
  const description = out.error_description ?? 'The request could not be completed.'
  send(ctx, errorPage('Sign-in failed', `${description} (${out.error})`))
}

export async function renderLogoutPage(ctx: KoaContextWithOIDC, form: string): Promise<void> {
  const host = new URL(ctx.oidc.issuer).host
  send(ctx, logoutPage(host, trusted(form.replace('</form>', `${markupOf(logoutButtons())}</form>`))))
}

export async function renderSignedOutPage(ctx: KoaContextWithOIDC): Promise<void> {
  const client = ctx.oidc.client
  send(ctx, signedOutPage(client ? (client.clientName ?? client.clientId) : undefined))
}
