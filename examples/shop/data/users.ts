/**
 * The users service's records: what the gateway adds to every internal token through enrichment
 * (`internal-token` `enrich`), keyed by the identity provider's user id (`identity.users[].id` in
 * gatehouse.yaml). Only alice and bob can log in; the others show the service knows more people than
 * the provider.
 */

export type CustomerType = 'premium' | 'standard'

export interface UserRecord {
  readonly id: string
  readonly display_name: string
  /** ISO 3166-1 alpha-2. */
  readonly country: string
  readonly customer_type: CustomerType
  readonly member_since: string
}

export const USERS: readonly UserRecord[] = Object.freeze([
  {
    id: 'u-alice',
    display_name: 'Alice',
    country: 'GB',
    customer_type: 'premium',
    member_since: '2019-04-02',
  },
  { id: 'u-bob', display_name: 'Bob', country: 'US', customer_type: 'standard', member_since: '2023-11-18' },
  {
    id: 'u-chloe',
    display_name: 'Chloé',
    country: 'FR',
    customer_type: 'premium',
    member_since: '2021-06-30',
  },
  {
    id: 'u-dieter',
    display_name: 'Dieter',
    country: 'DE',
    customer_type: 'standard',
    member_since: '2022-01-12',
  },
])
