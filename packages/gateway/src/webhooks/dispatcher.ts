import type { Repo } from '../db/repo.ts';
import type { DueDelivery } from '../db/types.ts';
import type { Logger } from '../telemetry/logger.ts';
import type { Metrics } from '../telemetry/metrics.ts';
import { retryDelay } from './backoff.ts';
import { send, webhookRequest } from './request.ts';
import type { WebhookEndpoint, WebhookSettings } from './settings.ts';
import { secretKey } from './sign.ts';

export interface DispatcherOptions {
  settings: WebhookSettings;
  repo: Repo;
  /** Epoch ms for the schedule (tests move it); signatures' timestamps use the real clock. */
  clock: () => number;
  logger: Logger;
  metrics: Metrics;
  /** [0, 1) for the jitter; default Math.random. */
  random?: () => number;
}

export interface DispatchReport {
  /** false when another instance held the dispatcher lock (or this one is stopped). */
  ran: boolean;
  /** Events fanned out to the endpoints. */
  fannedOut: number;
  delivered: number;
  /** Failed attempts with a retry scheduled. */
  retried: number;
  /** Deliveries given up: schedule used up, endpoint gone (410) or removed from the config. */
  dead: number;
}

const REMOVED = 'endpoint removed from the config';
/** Attempts per round: bounds the round's memory and how long it keeps the lock. */
const MAX_PER_ROUND = 1000;
/** Due deliveries read per endpoint at a time, in shares of the concurrency. */
const READ_AHEAD = 4;

/**
 * Delivers the outbox as Standard Webhooks, in one instance at a time (the 'dispatcher' lock).
 * Each round: pending deliveries of endpoints no longer configured are ended (in the first round
 * of this process that holds the lock); new events are fanned out to the endpoints that take
 * their type; due deliveries are sent, `concurrency` at a time. 2xx: delivered. 410: the endpoint is disabled and its pending deliveries end. Anything
 * else (3xx included, a timeout, a refused connection): retried after the schedule's next delay,
 * dead after the last. At least once: a crash between a receiver's 2xx and our record of it sends
 * that event again (same webhook-id). Rounds run on an interval, and at once when this process
 * writes an event.
 */
export class Dispatcher {
  readonly #o: DispatcherOptions;
  readonly #keys: Map<string, Buffer>;
  readonly #random: () => number;
  #timer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;
  /** A round asked for and not yet started: later asks join it. */
  #queued: Promise<DispatchReport> | undefined;
  #current: Promise<DispatchReport> | undefined;
  #stop = new AbortController();
  /** Whether this instance has ended the deliveries of endpoints its config no longer has. */
  #retired = false;

  constructor(options: DispatcherOptions) {
    this.#o = options;
    this.#keys = new Map(options.settings.endpoints.map((e) => [e.id, secretKey(e.secret)]));
    this.#random = options.random ?? Math.random;
  }

  /** Rounds on the interval and on every event this process writes. */
  start(): void {
    if (this.#timer !== undefined || this.#stop.signal.aborted) return;
    this.#timer = setInterval(() => this.wake(), this.#o.settings.intervalMs);
    this.#timer.unref();
    this.#unsubscribe = this.#o.repo.outbox.onCommitted(() => this.wake());
    this.wake(); // whatever is due since the last run
  }

  /** A round soon, logging its failure (the next one retries). */
  wake(): void {
    this.once().catch((e: unknown) => this.#o.logger.error({ err: e }, 'webhook dispatch failed'));
  }

  /**
   * Stops for good: no new rounds, requests in flight aborted (their deliveries stay pending, not
   * counted as an attempt: the next instance sends them again), the round in progress awaited.
   */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    this.#unsubscribe?.();
    this.#stop.abort();
    await Promise.allSettled([this.#current, this.#queued]);
  }

  /**
   * One round now (tests, after moving the clock); rounds never overlap, so this joins a round
   * that is queued, or runs after the one in progress (which may have read the due list earlier).
   */
  once(): Promise<DispatchReport> {
    if (this.#queued !== undefined) return this.#queued;
    const previous = this.#current ?? Promise.resolve();
    const round: Promise<DispatchReport> = previous
      .catch(() => {})
      .then(() => {
        this.#queued = undefined;
        this.#current = round;
        return this.#round();
      })
      .finally(() => {
        if (this.#current === round) this.#current = undefined;
      });
    this.#queued = round;
    return round;
  }

  async #round(): Promise<DispatchReport> {
    const report: DispatchReport = { ran: false, fannedOut: 0, delivered: 0, retried: 0, dead: 0 };
    if (this.#stop.signal.aborted) return report;
    const { repo, settings } = this.#o;
    let more = false;
    report.ran = await repo.locks.exclusive('dispatcher', async () => {
      if (!this.#retired) {
        // Once per process: the config does not change while it runs.
        report.dead += await repo.deliveries.retireOthers(
          settings.endpoints.map((e) => e.id),
          REMOVED,
        );
        this.#retired = true;
      }
      const active = await this.#activeEndpoints();
      const subscriptions = active.map((e) => ({ id: e.id, events: e.events }));
      for (let n = -1; n !== 0; ) {
        n = await repo.deliveries.fanOut(subscriptions);
        report.fannedOut += n;
      }
      more = await this.#deliverDue(active, report);
    });
    if (more) this.wake(); // the next round, after this one (and a chance for other instances)
    return report;
  }

  /** The configured endpoints, less those disabled (410) while they had the URL they have now. */
  async #activeEndpoints(): Promise<WebhookEndpoint[]> {
    const disabled = new Map((await this.#o.repo.deliveries.disabled()).map((d) => [d.id, d.url]));
    return this.#o.settings.endpoints.filter((e) => disabled.get(e.id) !== e.url);
  }

  /**
   * Sends what is due, up to `concurrency` at a time and an equal share of that per endpoint (so a
   * receiver that hangs until the timeout cannot hold every slot while the others wait), until
   * nothing is due. A delivery in flight is still pending in the database, so the same upload's
   * next event cannot be picked meanwhile. Each delivery is attempted at most once per round: a
   * due list read while an attempt was being recorded may still show it pending (PostgreSQL reads
   * on another connection), and must not send it again. Returns true when the round stopped at
   * MAX_PER_ROUND with work left.
   */
  async #deliverDue(endpoints: WebhookEndpoint[], report: DispatchReport): Promise<boolean> {
    const gone = new Set<string>();
    const attempted = new Set<string>();
    const inflight = new Set<Promise<void>>();
    const { concurrency } = this.#o.settings;
    const share = Math.max(1, Math.ceil(concurrency / Math.max(1, endpoints.length)));
    const busy = new Map(endpoints.map((e) => [e.id, 0]));
    // Read ahead per endpoint, so that a due list is read once per several deliveries. What is
    // read stays due: only this round attempts it (and a 410 drops the endpoint's whole queue).
    const queued = new Map(endpoints.map((e): [string, DueDelivery[]] => [e.id, []]));
    /** Endpoints whose last read found nothing new; read again once something finishes. */
    const empty = new Set<string>();
    const keyOf = (d: DueDelivery) => `${d.eventId} ${d.endpointId}`;
    while (!this.#stop.signal.aborted && attempted.size < MAX_PER_ROUND) {
      let started = 0;
      for (const endpoint of endpoints) {
        let free = Math.min(share - busy.get(endpoint.id)!, concurrency - inflight.size);
        if (free <= 0 || gone.has(endpoint.id)) continue;
        const queue = queued.get(endpoint.id)!;
        if (queue.length === 0 && !empty.has(endpoint.id)) {
          const due = await this.#o.repo.deliveries.due(endpoint.id, share * READ_AHEAD);
          queue.push(...due.filter((d) => !attempted.has(keyOf(d))));
          if (queue.length === 0) empty.add(endpoint.id);
        }
        for (; free > 0 && queue.length > 0 && !gone.has(endpoint.id); free--, started++) {
          const d = queue.shift()!;
          attempted.add(keyOf(d));
          busy.set(endpoint.id, busy.get(endpoint.id)! + 1);
          const work: Promise<void> = this.#attempt(endpoint, d, report, gone)
            // The delivery stays pending (a database hiccup): the next round sends it again.
            .catch((e: unknown) =>
              this.#o.logger.error({ err: e, eventId: d.eventId }, 'webhook attempt failed'),
            )
            .finally(() => {
              inflight.delete(work);
              busy.set(endpoint.id, busy.get(endpoint.id)! - 1);
            });
          inflight.add(work);
        }
      }
      if (started > 0) continue;
      if (inflight.size === 0) return false; // nothing due anywhere
      await Promise.race(inflight);
      empty.clear(); // a delivery done may have released the next event of its upload
    }
    await Promise.allSettled(inflight);
    return !this.#stop.signal.aborted;
  }

  async #attempt(
    endpoint: WebhookEndpoint,
    d: DueDelivery,
    report: DispatchReport,
    gone: Set<string>,
  ): Promise<void> {
    const { repo, settings, logger, metrics } = this.#o;
    const request = webhookRequest(this.#keys.get(endpoint.id)!, d, Math.floor(Date.now() / 1000));
    const result = await send(endpoint.url, request, settings.timeoutMs, this.#stop.signal);
    if ('aborted' in result && result.aborted) return; // stopping: left pending, as if never sent
    const log = { eventId: d.eventId, type: d.type, uploadId: d.uploadId, endpoint: endpoint.id };
    const attempts = d.attempts + 1;
    const status = 'status' in result ? result.status : null;
    if (status !== null && status >= 200 && status < 300) {
      await repo.deliveries.record(d.eventId, endpoint.id, { kind: 'delivered', status });
      metrics.webhookDeliveries.inc({ endpoint: endpoint.id, outcome: 'delivered' });
      report.delivered++;
      logger.debug({ ...log, status, attempts }, 'webhook delivered');
      return;
    }
    if (status === 410) {
      // Standard Webhooks: a 410 means the receiver asks for no more deliveries.
      const reason = 'endpoint answered 410 Gone: disabled';
      // Before the record: once this delivery is no longer pending, the upload's next one is due.
      gone.add(endpoint.id);
      await repo.deliveries.record(d.eventId, endpoint.id, { kind: 'dead', status, error: reason });
      report.dead += 1 + (await repo.deliveries.disable(endpoint, reason));
      metrics.webhookDeliveries.inc({ endpoint: endpoint.id, outcome: 'gone' });
      logger.warn({ ...log, status }, 'webhook endpoint answered 410 Gone; disabled until its URL changes');
      return;
    }
    const error = 'error' in result ? result.error : `HTTP ${status}`;
    const delay = retryDelay(settings.retryScheduleMs, attempts, this.#random);
    if (delay === undefined) {
      await repo.deliveries.record(d.eventId, endpoint.id, { kind: 'dead', status, error });
      metrics.webhookDeliveries.inc({ endpoint: endpoint.id, outcome: 'dead' });
      report.dead++;
      logger.error({ ...log, status, error, attempts }, 'webhook dead after its last retry');
      return;
    }
    const at = this.#o.clock() + delay;
    await repo.deliveries.record(d.eventId, endpoint.id, { kind: 'retry', status, error, at });
    metrics.webhookDeliveries.inc({ endpoint: endpoint.id, outcome: 'retry' });
    report.retried++;
    logger.warn({ ...log, status, error, attempts, retryInMs: delay }, 'webhook failed; will retry');
  }
}
