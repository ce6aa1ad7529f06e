import { SYSTEM } from '../db/audit.ts';
import { isUploadId } from '../domain/ids.ts';
import type { BaseServices } from '../services.ts';
import { uploadEvent } from './events.ts';
import type { Publisher } from './publisher.ts';
import type { Reviews } from './reviews.ts';
import { ruleOf } from './rule-of.ts';

export interface SweepReport {
  /** false when another instance held the sweep lock and this one did nothing. */
  ran: boolean;
  expired: number;
  straysDeleted: number;
  reclaimed: number;
  /** Multipart uploads on storage that no open grant owns, aborted. */
  multipartAborted: number;
  /** Approved uploads published on a retry. */
  published: number;
  /** Rejected or withdrawn files deleted after their retention. */
  purged: number;
}

/** An approved upload not published this long after its decision is published by the sweeper. */
export const PUBLISH_RETRY_MS = 60_000;

/** A multipart upload with no grant row is a stray only once this old (see #strayMultiparts). */
export const STRAY_MULTIPART_AGE_MS = 10 * 60_000;
/** Pages of `incoming/` listed per sweep (1000 keys each), so one sweep stays bounded. */
const MAX_LIST_PAGES = 20;
const INCOMING = /^incoming\/[^/]+\/(up_[0-9A-Za-z]{22})$/;

/**
 * Housekeeping on an interval, in one instance at a time (repo.locks):
 * 1. grants past expiresAt + grace → `expired` (the transition releases their quota), and their
 *    incoming object deleted;
 * 2. stray incoming objects — no upload, or an upload no longer `granted` (a re-PUT after the
 *    freeze, a delete that failed after a rejection) — deleted;
 * 3. `uploaded` claims older than sweeper.claimTimeoutMs (a completer that died) handed back to `granted`, so complete can run again;
 * 4. approved uploads not published PUBLISH_RETRY_MS after their decision, published;
 * 5. rejected and withdrawn uploads past their retention: frozen copy deleted.
 */
export class Sweeper {
  readonly #services: BaseServices;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<SweepReport> | undefined;

  readonly #jobs: { publisher: Publisher; reviews: Reviews };

  constructor(services: BaseServices, jobs: { publisher: Publisher; reviews: Reviews }) {
    this.#services = services;
    this.#jobs = jobs;
  }

  start(): void {
    if (this.#timer !== undefined) return;
    this.#timer = setInterval(() => {
      this.once().catch((e) => this.#services.logger.error({ err: e }, 'sweep failed'));
    }, this.#services.config.sweeper.intervalMs);
    this.#timer.unref();
  }

  /** Stops the interval and waits for a sweep in progress. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running?.catch(() => {});
  }

  /** One sweep now (tests, `chute` commands); joins a sweep already running in this process. */
  once(): Promise<SweepReport> {
    this.#running ??= this.#sweep().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #sweep(): Promise<SweepReport> {
    const report: SweepReport = {
      ran: false,
      expired: 0,
      straysDeleted: 0,
      reclaimed: 0,
      multipartAborted: 0,
      published: 0,
      purged: 0,
    };
    report.ran = await this.#services.repo.locks.exclusive('sweeper', async () => {
      report.expired = await this.#expire();
      report.reclaimed = await this.#reclaim();
      report.straysDeleted = await this.#strays();
      report.multipartAborted = await this.#strayMultiparts();
      report.published = await this.#publish();
      report.purged = await this.#purge();
    });
    if (
      report.expired +
        report.straysDeleted +
        report.reclaimed +
        report.multipartAborted +
        report.published +
        report.purged >
      0
    ) {
      this.#services.logger.info(report, 'sweep');
    }
    return report;
  }

  async #expire(): Promise<number> {
    const { repo, storage, clock, config, metrics } = this.#services;
    let n = 0;
    for (;;) {
      const due = await repo.uploads.findExpired(clock() - config.sweeper.graceMs);
      if (due.length === 0) return n;
      for (const u of due) {
        const moved = await repo.uploads.transition(u.id, ['granted'], 'expired', {
          event: uploadEvent('upload.expired', { ...u, state: 'expired' }),
        });
        if (moved === undefined) continue; // completed meanwhile
        n++;
        metrics.swept.inc({ action: 'expired' });
        if (u.multipartId !== null) await storage.abortMultipart(u.incomingKey, u.multipartId);
        await storage.delete(u.incomingKey);
      }
    }
  }

  /**
   * Multipart uploads under incoming/ that no open grant owns (a grant the quota refused after the
   * upload was created, a cancel whose abort failed, a grant expired): aborted, so their parts stop
   * costing storage. An upload still `granted` or `uploaded` with this very id is left alone.
   */
  async #strayMultiparts(): Promise<number> {
    const { repo, storage, metrics, clock } = this.#services;
    let n = 0;
    let marker: Parameters<typeof storage.listMultipartUploads>[1];
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const listed = await storage.listMultipartUploads('incoming/', marker);
      const ids = listed.uploads
        .map((m) => INCOMING.exec(m.key)?.[1])
        .filter((id) => id !== undefined && isUploadId(id));
      const uploads = new Map((await repo.uploads.getMany(ids as string[])).map((u) => [u.id, u]));
      for (const m of listed.uploads) {
        const u = uploads.get(INCOMING.exec(m.key)?.[1] ?? '');
        if (
          u !== undefined &&
          (u.state === 'granted' || u.state === 'uploaded') &&
          u.multipartId === m.uploadId
        )
          continue;
        // A grant creates its upload on storage just before recording itself: a young upload
        // without a row may be one of those, mid-flight.
        if (u === undefined && clock() - m.initiated < STRAY_MULTIPART_AGE_MS) continue;
        await storage.abortMultipart(m.key, m.uploadId);
        n++;
        metrics.swept.inc({ action: 'multipart_aborted' });
      }
      marker = listed.next;
      if (marker === undefined) break;
    }
    return n;
  }

  /** Approved uploads whose publication failed (or whose process died before it): publish them. */
  async #publish(): Promise<number> {
    const { repo, clock, logger } = this.#services;
    let n = 0;
    for (const u of await repo.uploads.findUnpublished(clock() - PUBLISH_RETRY_MS)) {
      try {
        const rule = await ruleOf(this.#services, u);
        if (rule.publish === undefined) continue;
        await this.#jobs.publisher.publishApproved(u, rule.publish, SYSTEM);
        n++;
      } catch (e) {
        logger.warn({ err: e, uploadId: u.id }, 'publication failed; retried next sweep');
      }
    }
    return n;
  }

  /** Rejected and withdrawn files whose retention ran out: delete their frozen copy. */
  async #purge(): Promise<number> {
    const { repo, clock, metrics } = this.#services;
    let n = 0;
    for (const u of await repo.uploads.findPurgeable(clock())) {
      if ((await this.#jobs.reviews.purge(u)).purgedAt !== null) {
        n++;
        metrics.swept.inc({ action: 'purged' });
      }
    }
    return n;
  }

  async #reclaim(): Promise<number> {
    const { repo, clock, config } = this.#services;
    let n = 0;
    for (const u of await repo.uploads.findStale('uploaded', clock() - config.sweeper.claimTimeoutMs)) {
      if ((await repo.uploads.transition(u.id, ['uploaded'], 'granted')) !== undefined) n++;
    }
    return n;
  }

  async #strays(): Promise<number> {
    const { repo, storage, metrics, logger } = this.#services;
    let n = 0;
    let continuation: string | undefined;
    for (let page = 0; page < MAX_LIST_PAGES; page++) {
      const listed = await storage.list('incoming/', continuation);
      const byId = new Map<string, string>();
      for (const o of listed.objects) {
        const id = INCOMING.exec(o.key)?.[1];
        if (id !== undefined && isUploadId(id)) byId.set(id, o.key);
        else logger.warn({ key: o.key }, 'unexpected key under incoming/; left alone');
      }
      const uploads = new Map((await repo.uploads.getMany([...byId.keys()])).map((u) => [u.id, u]));
      for (const [id, key] of byId) {
        const u = uploads.get(id);
        // granted: still uploading; uploaded: a completer is reading it right now.
        if (u !== undefined && (u.state === 'granted' || u.state === 'uploaded')) continue;
        // Keys are server-chosen per upload, so an object whose record says otherwise (or with no
        // record) can only be a stray: a re-PUT after the freeze, or a delete that failed.
        if (u !== undefined && u.incomingKey !== key) continue;
        await storage.delete(key);
        n++;
        metrics.swept.inc({ action: 'stray_deleted' });
      }
      continuation = listed.continuation;
      if (continuation === undefined) break;
    }
    return n;
  }
}
