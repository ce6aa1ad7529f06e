/**
 * The events the gateway sends as webhooks: a closed list, so a config cannot subscribe to a
 * misspelt type that would never fire. Each is written to the outbox by the transaction of the
 * state change it reports.
 */
export const EVENT_TYPES = [
  'upload.verified',
  'upload.rejected',
  'review.approved',
  'review.rejected',
  'upload.withdrawn',
  'upload.expired',
] as const;

export type EventType = (typeof EVENT_TYPES)[number];
