import type { DueDelivery } from '../db/types.ts';
import { sign } from './sign.ts';

export const USER_AGENT = 'Chute-Webhooks/1';

export interface WebhookRequest {
  body: string;
  headers: Record<string, string>;
}

/**
 * One attempt's request. The body is `{"type", "timestamp", "data"}` with `data` the event's
 * payload as stored, byte for byte (never re-serialised). `webhook-id` is the event id, the same
 * on every retry, so a receiver can drop duplicates (at-least-once); `webhook-timestamp` is the
 * time of this attempt in seconds (receivers refuse old ones against replays), from the real
 * clock, as the receiver's is.
 */
export function webhookRequest(key: Buffer, delivery: DueDelivery, nowSeconds: number): WebhookRequest {
  const body = `{"type":${JSON.stringify(delivery.type)},"timestamp":${JSON.stringify(
    new Date(delivery.eventCreatedAt).toISOString(),
  )},"data":${delivery.payload}}`;
  return {
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': USER_AGENT,
      'webhook-id': delivery.eventId,
      'webhook-timestamp': String(nowSeconds),
      'webhook-signature': sign(key, delivery.eventId, nowSeconds, body),
    },
  };
}

export type SendResult = { status: number } | { error: string; aborted: boolean };

/**
 * POSTs one request. Redirects are not followed (a 3xx is a failed attempt: the receiver's URL is
 * configured, not discovered). The response body is not read: only the status counts.
 */
export async function send(
  url: string,
  request: WebhookRequest,
  timeoutMs: number,
  stop: AbortSignal,
): Promise<SendResult> {
  const timeout = AbortSignal.timeout(timeoutMs);
  try {
    const res = await fetch(url, {
      method: 'POST',
      headers: request.headers,
      body: request.body,
      redirect: 'manual',
      signal: AbortSignal.any([stop, timeout]),
    });
    await res.body?.cancel().catch(() => {});
    return { status: res.status };
  } catch (e) {
    if (stop.aborted) return { error: 'stopped', aborted: true };
    if (timeout.aborted) return { error: `no answer within ${timeoutMs} ms`, aborted: false };
    const cause = (e as { cause?: { code?: string; message?: string } }).cause;
    return { error: cause?.code ?? cause?.message ?? (e as Error).message, aborted: false };
  }
}
