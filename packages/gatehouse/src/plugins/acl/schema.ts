/** Config of the acl plugin (Kong's acl schema, 3.x) and its credential, `acls` (consumer groups). */
import { z } from 'zod'

const group = z
  .string()
  .min(1)
  .max(256)
  .regex(/^[^,\r\n]+$/, { error: 'must not contain commas or line breaks (groups are sent comma-separated)' })

export const aclSchema = z
  .strictObject({
    allow: z
      .array(group)
      .nullish()
      .describe(
        'Groups allowed to use the route or service; every other consumer gets 403. Set `allow` or `deny`.',
      ),
    deny: z
      .array(group)
      .nullish()
      .describe('Groups refused with 403; every other consumer may pass. Set `allow` or `deny`.'),
    hide_groups_header: z
      .boolean()
      .default(false)
      .describe('Do not send `X-Consumer-Groups` upstream. Default: false.'),
    always_use_authenticated_groups: z
      .boolean()
      .default(false)
      .describe(
        "Accepted for Kong compatibility; groups always come from the consumer's `acls`. Default: false.",
      ),
    include_consumer_groups: z
      .literal(false)
      .default(false)
      .describe(
        'Kong Enterprise consumer groups are not supported; only `false` is accepted. Default: false.',
      ),
  })
  .refine((c) => (c.allow?.length ?? 0) > 0 !== (c.deny?.length ?? 0) > 0, {
    error: 'set exactly one of allow or deny, with at least one group',
  })
  .describe("Allows or denies consumers by group (Kong's acl), after authentication.")

export type AclConfig = z.output<typeof aclSchema>

/** The fields of one `acls` entry. */
export const aclCredentialFields = {
  group: group.describe('The group the consumer belongs to.'),
}
