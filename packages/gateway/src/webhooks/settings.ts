import type { EventType } from '../lifecycle/events.ts';

/** One receiver of webhooks, as the dispatcher takes it (the config parses into this). */
export interface WebhookEndpoint {
  /** Stable name: deliveries and the disabled state are recorded under it. */
  id: string;
  url: string;
  /** `whsec_` + base64 of 24–64 bytes (Standard Webhooks). */
  secret: string;
  /** The event types it receives. */
  events: readonly EventType[];
}

export interface WebhookSettings {
  endpoints: readonly WebhookEndpoint[];
  /** Per request: an endpoint that has not answered by then is tried again later. */
  timeoutMs: number;
  /** Delays before the 2nd, 3rd, … attempt (±20 % jitter); after the last, the delivery is dead. */
  retryScheduleMs: readonly number[];
  /** How often the dispatcher looks for due retries and for events of other instances. */
  intervalMs: number;
  /** Requests in flight at once, over all endpoints. */
  concurrency: number;
}
