/** The `consumers` entity: an API client known to the gateway (Kong's consumers.lua). */
import { z } from 'zod'
import { tags, uuid } from './typedefs.ts'

export const consumerFields = {
  id: uuid.optional().describe('Entity id. Default: a stable UUID derived from the username or custom_id.'),
  username: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('Unique user name. One of username/custom_id is required.'),
  custom_id: z
    .string()
    .min(1)
    .max(256)
    .optional()
    .describe('Unique id from your own user store. One of username/custom_id is required.'),
  tags,
}
