import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/**
 * The gateway's Prometheus metrics, in a registry of its own (not prom-client's global one), so
 * two gateways in one process — tests, benchmarks — never share or double-register counters.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly grants = new Counter({
    name: 'chute_grants_total',
    help: 'Grants issued, by route and transport.',
    labelNames: ['route', 'method'] as const,
    registers: [this.registry],
  });
  readonly completions = new Counter({
    name: 'chute_completions_total',
    help: 'Completed uploads by outcome (verified, pending_review, rejected) and rejection reason.',
    labelNames: ['route', 'outcome', 'reason'] as const,
    registers: [this.registry],
  });
  readonly bytes = new Counter({
    name: 'chute_verified_bytes_total',
    help: 'Bytes of uploads that passed verification.',
    labelNames: ['route'] as const,
    registers: [this.registry],
  });
  readonly httpDuration = new Histogram({
    name: 'chute_http_request_duration_seconds',
    help: 'API request latency by route pattern and status.',
    labelNames: ['method', 'route', 'status'] as const,
    buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10],
    registers: [this.registry],
  });
  readonly completeDuration = new Histogram({
    name: 'chute_complete_duration_seconds',
    help: 'Time to verify and freeze one upload.',
    labelNames: ['outcome'] as const,
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 10, 60],
    registers: [this.registry],
  });
  readonly reviews = new Counter({
    name: 'chute_review_decisions_total',
    help: 'Review decisions, by route and decision (approve, reject).',
    labelNames: ['route', 'decision'] as const,
    registers: [this.registry],
  });
  readonly swept = new Counter({
    name: 'chute_sweeper_actions_total',
    help: 'Sweeper actions: grants expired, stray incoming objects deleted, rejected files purged.',
    labelNames: ['action'] as const,
    registers: [this.registry],
  });

  readonly webhookDeliveries = new Counter({
    name: 'chute_webhook_deliveries_total',
    help: 'Webhook delivery attempts by endpoint and outcome (delivered, retry, dead, gone = 410).',
    labelNames: ['endpoint', 'outcome'] as const,
    registers: [this.registry],
  });
  /** Where the outbox gauges read from at scrape time (the database, shared by all instances). */
  #outbox: (() => Promise<{ depth: number; oldestAgeSeconds: number }>) | undefined;
  readonly outboxDepth = new Gauge({
    name: 'chute_outbox_depth',
    help: 'Webhook deliveries pending, plus events not yet fanned out to the endpoints.',
    registers: [this.registry],
    collect: async () => {
      if (this.#outbox !== undefined) this.outboxDepth.set((await this.#outbox()).depth);
    },
  });
  readonly outboxOldest = new Gauge({
    name: 'chute_outbox_oldest_pending_seconds',
    help: 'Age of the oldest event not yet delivered to every endpoint (0: none).',
    registers: [this.registry],
    collect: async () => {
      if (this.#outbox !== undefined) this.outboxOldest.set((await this.#outbox()).oldestAgeSeconds);
    },
  });

  /** Sets what the outbox gauges report. */
  observeOutbox(source: () => Promise<{ depth: number; oldestAgeSeconds: number }>): void {
    this.#outbox = source;
  }

  constructor(options: { processMetrics?: boolean } = {}) {
    if (options.processMetrics ?? true) collectDefaultMetrics({ register: this.registry });
  }
}
