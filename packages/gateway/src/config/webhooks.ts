import { z } from 'zod';
import { EVENT_TYPES } from '../lifecycle/events.ts';
import { parseDuration } from '../units/duration.ts';
import type { WebhookSettings } from '../webhooks/settings.ts';
import { secretKey } from '../webhooks/sign.ts';
import { DEFAULTS } from './defaults.ts';

/** A duration string ("10s") within [min, max], as milliseconds. */
const duration = (what: string, minText: string, maxText: string) =>
  z.string().transform((s, ctx) => {
    const [min, max] = [parseDuration(minText), parseDuration(maxText)];
    let ms: number;
    try {
      ms = parseDuration(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
      return z.NEVER;
    }
    if (ms < min || ms > max) {
      ctx.addIssue({ code: 'custom', message: `${what} must be ${minText} … ${maxText}` });
      return z.NEVER;
    }
    return ms;
  });

const endpoint = z.strictObject({
  /** Deliveries and the disabled state are recorded under this id: keep it when the URL changes. */
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/, '1–64 of A-Z a-z 0-9 . _ -'),
  url: z
    .url({ protocol: /^https?$/, error: 'an http:// or https:// URL' })
    // fetch refuses URLs with credentials; a receiver authenticates us by the signature anyway.
    .refine(
      (u) => !/^https?:\/\/[^/?#]*@/.test(u),
      'no user:password@ in a webhook URL: the signature authenticates',
    ),
  secret: z.string().superRefine((s, ctx) => {
    try {
      secretKey(s);
    } catch (e) {
      ctx.addIssue({ code: 'custom', message: (e as Error).message });
    }
  }),
  /** Default: every event type. */
  events: z
    .array(z.enum(EVENT_TYPES))
    .min(1, 'list at least one event type, or leave events out for all')
    .default([...EVENT_TYPES]),
});

/** `webhooks` in the config: where events go, and how hard the dispatcher tries. */
export const webhooksSchema = z
  .strictObject({
    endpoints: z
      .array(endpoint)
      .default([])
      .refine(
        (list) => new Set(list.map((e) => e.id)).size === list.length,
        'webhook endpoint ids must be unique',
      ),
    timeout: duration('webhooks.timeout', '100ms', '5m').prefault(DEFAULTS.webhooks.timeout),
    retrySchedule: z
      .array(duration('a retry delay', '1s', '7d'))
      .max(20, 'at most 20 retries')
      .prefault([...DEFAULTS.webhooks.retrySchedule]),
    interval: duration('webhooks.interval', '100ms', '1h').prefault(DEFAULTS.webhooks.interval),
    concurrency: z.number().int().min(1).max(64).default(DEFAULTS.webhooks.concurrency),
  })
  .prefault({})
  .transform(
    (w): WebhookSettings => ({
      endpoints: w.endpoints,
      timeoutMs: w.timeout,
      retryScheduleMs: w.retrySchedule,
      intervalMs: w.interval,
      concurrency: w.concurrency,
    }),
  );
