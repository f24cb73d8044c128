/**
 * `proxy.tls`: HTTPS on a listener of its own, next to the plain one. The schema checks the shape and
 * the rules between keys; the files are read, and each key checked against its certificate, when the
 * listener is made or reloaded (proxy/certificates.ts), because paths are relative to the file's folder.
 */
import { z } from 'zod'
import { listenAddress, name } from './typedefs.ts'

/**
 * PEM from a file, or the PEM text itself (a value starting with `-----BEGIN`, usually from a vault
 * reference).
 */
export const pemSource = z.string().min(1, { error: 'must not be empty' })

/** A server name, or `*.` and a domain (one more label). Lower-cased when loaded. */
const sniName = z
  .string()
  .max(253)
  .regex(
    /^(\*\.)?[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?(\.[a-zA-Z0-9]([a-zA-Z0-9-]{0,61}[a-zA-Z0-9])?)*$/,
    {
      error: 'expected a host name such as shop.example, or a wildcard such as *.shop.example',
    },
  )
  .transform((s) => s.toLowerCase())

export const tlsCertificate = z.strictObject({
  name: name
    .optional()
    .describe('A name for the certificate, so `default_certificate` can choose it. Default: none.'),
  cert: pemSource.describe(
    'The certificate, with its intermediate CA certificates after it (PEM): a file path, relative to the configuration file, or the PEM text itself.',
  ),
  key: pemSource.describe(
    "The certificate's private key (PEM, unencrypted): a file path, relative to the configuration file, or the PEM text, e.g. `{vault://env/SHOP_TLS_KEY}`.",
  ),
  snis: z
    .array(sniName)
    .default([])
    .describe(
      'Server names (SNI) this certificate is served for. `*.shop.example` matches one more label (`www.shop.example`, not `shop.example`); an exact name wins over a wildcard. Default: none (only as the default certificate).',
    ),
})

export const proxyTlsSettings = z
  .strictObject({
    listen: listenAddress
      .default('0.0.0.0:8443')
      .describe(
        'Where the HTTPS listener listens, HOST:PORT. Flag `--proxy-tls-listen`, env `GATEHOUSE_PROXY_TLS_LISTEN`. Default: `0.0.0.0:8443`.',
      ),
    certificates: z
      .array(tlsCertificate)
      .min(1, { error: 'needs at least one certificate' })
      .describe('The certificates the listener serves, chosen by the name the client asks for (SNI).'),
    default_certificate: name
      .optional()
      .describe(
        'The `name` of the certificate served when the client sends no server name or one no certificate lists. Default: the first certificate.',
      ),
    min_version: z
      .enum(['TLSv1.2', 'TLSv1.3'])
      .default('TLSv1.2')
      .describe('The oldest TLS version accepted. Default: `TLSv1.2`.'),
    http2: z
      .boolean()
      .default(true)
      .describe(
        'Offer HTTP/2 (ALPN `h2`) next to HTTP/1.1; clients that do not ask for it keep HTTP/1.1. Default: true.',
      ),
  })
  .superRefine((tls, ctx) => {
    const names = new Map<string, number>()
    const snis = new Map<string, number>()
    tls.certificates.forEach((c, i) => {
      if (c.name !== undefined) {
        const first = names.get(c.name)
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['certificates', i, 'name'],
            message: `'${c.name}' is already the name of certificates[${first}]`,
          })
        else names.set(c.name, i)
      }
      c.snis.forEach((sni, k) => {
        const first = snis.get(sni)
        if (first !== undefined)
          ctx.addIssue({
            code: 'custom',
            path: ['certificates', i, 'snis', k],
            message: `'${sni}' is already listed by certificates[${first}]`,
          })
        else snis.set(sni, i)
      })
    })
    if (tls.default_certificate !== undefined && !names.has(tls.default_certificate))
      ctx.addIssue({
        code: 'custom',
        path: ['default_certificate'],
        message: `no certificate is named '${tls.default_certificate}'`,
      })
  })
  .describe(
    'HTTPS for the proxy, on a listener of its own (see docs/tls.md). Without this section the proxy speaks plain HTTP only.',
  )

export type ProxyTlsSettings = z.output<typeof proxyTlsSettings>
