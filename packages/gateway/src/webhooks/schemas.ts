import { z } from 'zod';
import { EVENT_TYPES, type EventType } from '../lifecycle/events.ts';

/**
 * What a webhook's body looks like, for the OpenAPI document's `webhooks`. `data` is the event's
 * payload as its writer stored it (the dispatcher never reshapes it); these are the fields
 * lifecycle/events.ts uploadEvent() puts there. Loose: a writer may add fields, and receivers should ignore what they do
 * not know.
 */
const FileInfo = z
  .object({
    key: z.string().describe('Storage key of the frozen file (files/{id}).'),
    size: z.number().int().describe('Bytes.'),
    type: z.string().describe('Media type read from the bytes.'),
    width: z.number().int().optional(),
    height: z.number().int().optional(),
  })
  .loose()
  .meta({ id: 'WebhookFile' });

export const WebhookData = z
  .object({
    id: z.string().describe('The upload id (up_…).'),
    userId: z.string().describe('The owner.'),
    route: z.string(),
    filename: z.string().optional().describe('As the client declared it (never part of a key).'),
    state: z.string().describe('The state the upload moved to.'),
    reason: z
      .string()
      .optional()
      .describe('Why it was rejected (a rejection code, or the reviewer’s reason).'),
    file: FileInfo.optional(),
    publishedKey: z
      .string()
      .optional()
      .describe('Where the file was published (approved, or a route that publishes).'),
    review: z
      .object({
        reviewer: z.string(),
        decision: z.enum(['approve', 'reject']),
        reason: z.string().optional(),
        note: z.string().optional(),
      })
      .loose()
      .optional()
      .describe('The review decision, once there is one.'),
  })
  .loose()
  .meta({ id: 'WebhookData' });

export const EVENT_SUMMARIES: Record<EventType, string> = {
  'upload.verified': 'An upload passed verification and was frozen (state verified, or pending_review).',
  'upload.rejected': 'An upload failed verification; its object was deleted (data.reason).',
  'review.approved': 'A reviewer approved an upload; the file is published.',
  'review.rejected': 'A reviewer rejected an upload (data.reason).',
  'upload.withdrawn': 'The owner withdrew an upload.',
  'upload.expired': 'A grant expired without a completed upload.',
};

export function webhookBody(type: EventType): z.ZodType {
  return z.strictObject({
    type: z.literal(type),
    timestamp: z
      .string()
      .meta({ format: 'date-time', description: 'When the event happened (ISO 8601, UTC).' }),
    data: WebhookData,
  });
}

export const WEBHOOK_HEADERS = {
  'webhook-id':
    'The event id (ev_…): the same on every retry; drop duplicates by it (delivery is at-least-once).',
  'webhook-timestamp': 'Seconds since the epoch, of this attempt; refuse ones more than 5 minutes off.',
  'webhook-signature':
    'v1,<base64 HMAC-SHA256 of "{webhook-id}.{webhook-timestamp}.{body}"> with the endpoint secret.',
} as const;

export { EVENT_TYPES };
