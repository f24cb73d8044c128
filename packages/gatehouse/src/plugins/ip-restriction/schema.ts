/**
 * Config of the ip-restriction plugin: Kong's ip-restriction schema (3.x) with Kong's messages, so a Kong
 * file loads unchanged (Kong writes unset fields as `null` in exports). `status` is checked here, at load,
 * where Kong only fails at request time (kong.response.error takes 400–599).
 */
import { z } from 'zod'
import { parseIpOrCidr } from './addresses.ts'

const ipOrCidr = z.string().superRefine((value, ctx) => {
  if (parseIpOrCidr(value) === null)
    ctx.addIssue({ code: 'custom', message: `invalid ip or cidr range: '${value}'` })
})

const list = (verb: string) =>
  z
    .array(ipOrCidr, { error: 'expected an array' })
    .nullish()
    .describe(
      `IPv4 or IPv6 addresses and CIDR blocks (\`10.0.0.0/8\`, \`2001:db8::/32\`, \`192.0.2.7\`) to ${verb}; an IPv4 entry also matches the client's IPv4-mapped IPv6 form (\`::ffff:10.1.2.3\`). Set \`allow\`, \`deny\` or both. Default: unset.`,
    )

export const ipRestrictionSchema = z
  .strictObject({
    allow: list('allow: every other client is refused'),
    deny: list('refuse, even when `allow` also lists them (deny is checked first)'),
    status: z
      .int({ error: 'expected an integer' })
      .min(400, { error: 'value should be between 400 and 599' })
      .max(599, { error: 'value should be between 400 and 599' })
      .nullish()
      .describe('The status of a refusal. Default: 403.'),
    message: z
      .string()
      .nullish()
      .describe(
        "The `message` of a refusal's body. Default: Kong's `IP address not allowed: <client address>`.",
      ),
  })
  .refine((c) => (c.allow?.length ?? 0) > 0 || (c.deny?.length ?? 0) > 0, {
    error: "at least one of these fields must be non-empty: 'config.allow', 'config.deny'",
  })
  .describe(
    "Allows or refuses clients by IP address (Kong's ip-restriction). The address is the one the gateway determines for the request and logs as `client_ip`: the peer's, or, when the peer is in proxy.trusted_ips, the right-most X-Forwarded-For entry that is not itself a trusted proxy. An X-Forwarded-For from any other peer is ignored, so a client cannot claim an allowed address. A client address that is no IP address is refused whatever the lists say.",
  )

export type IpRestrictionConfig = z.output<typeof ipRestrictionSchema>
