import { setTimeout as sleep } from 'node:timers/promises';
import { ChuteError } from '@chute/errors';
import { type Actor, SYSTEM } from '../db/audit.ts';
import type { Upload, UploadState } from '../db/types.ts';
import { fileKey } from '../domain/ids.ts';
import type { BaseServices } from '../services.ts';
import { isStorageError } from '../storage/errors.ts';
import { verifyObject } from '../verify/verify.ts';
import { assembleParts, type ClientPart } from './assemble.ts';
import { uploadEvent } from './events.ts';
import type { Publisher } from './publisher.ts';
import { ruleOf } from './rule-of.ts';

/** States complete() has nothing more to do for: it answers with what was recorded. */
export const SETTLED: ReadonlySet<UploadState> = new Set([
  'verified',
  'pending_review',
  'approved',
  'rejected',
  'withdrawn',
]);

/** How long a complete waits for another request (or instance) that is verifying the same upload. */
const WAIT_FOR_OTHER_MS = 60_000;
/** Verify+copy rounds when the object is replaced between HEAD and copy (copy-source-if-match fails). */
const MAX_ROUNDS = 3;

/**
 * complete = verify, then freeze. Idempotent: the claim is a compare-and-set (granted → uploaded),
 * so of any number of concurrent calls — in this process or on other instances — exactly one does
 * the work; the others wait for its outcome and return it. A later call returns the recorded
 * outcome. An infrastructure failure (storage unreachable) hands the claim back (uploaded →
 * granted) so the client can simply retry.
 */
export class Completer {
  readonly #services: BaseServices;
  /** Work in progress in this process, joined by concurrent calls for the same upload. */
  readonly #inflight = new Map<string, Promise<Upload>>();

  readonly #publisher: Publisher;

  constructor(services: BaseServices, publisher: Publisher) {
    this.#services = services;
    this.#publisher = publisher;
  }

  /** `by`: who asked (the audit trail records each step under their name and request). */
  async complete(upload: Upload, by: Actor = SYSTEM, parts?: readonly ClientPart[]): Promise<Upload> {
    const { repo, clock, config } = this.#services;
    for (let current: Upload | undefined = upload; ; current = await repo.uploads.get(upload.id)) {
      if (current === undefined) throw new ChuteError('not_found');
      if (SETTLED.has(current.state)) return current;
      // (Every state is either settled, expired, uploaded or granted: a state this loop does not
      // know would spin it, so adding one means adding it above.)
      if (current.state === 'expired') throw new ChuteError('grant_expired');
      const joined = this.#inflight.get(current.id);
      if (joined !== undefined) return joined;
      if (current.state === 'uploaded') return this.#waitForOther(current.id, by);
      // granted: a PUT that started just before the deadline may still be landing, so the sweeper's
      // grace applies here too; after that the grant is as good as expired.
      if (clock() > current.expiresAt + config.sweeper.graceMs) throw new ChuteError('grant_expired');
      const claimed = await repo.uploads.transition(current.id, ['granted'], 'uploaded', { by });
      if (claimed === undefined) continue; // someone else moved it: re-read and answer from that
      const heartbeat = this.#heartbeat(claimed.id);
      const work = this.#verifyAndFreeze(claimed, by, parts).finally(() => {
        clearInterval(heartbeat);
        this.#inflight.delete(claimed.id);
      });
      this.#inflight.set(claimed.id, work);
      return work;
    }
  }

  /**
   * Keeps the claim fresh while this process works on it: the sweeper takes back `uploaded`
   * claims not touched for sweeper.claimTimeoutMs (their completer died: a killed instance), so
   * a live completer touches its claim four times per timeout. A claim can therefore time out
   * fast (a retried complete waits that long, not half an hour) however long a large freeze copy
   * takes. A failed touch (the database away for a moment) is only a missed beat.
   */
  #heartbeat(id: string): NodeJS.Timeout {
    const { repo, config, logger } = this.#services;
    const timer = setInterval(() => {
      repo.uploads
        .touch(id, 'uploaded')
        .catch((e) => logger.warn({ err: e, uploadId: id }, 'claim heartbeat failed'));
    }, config.sweeper.claimTimeoutMs / 4);
    timer.unref();
    return timer;
  }

  async #waitForOther(id: string, by: Actor): Promise<Upload> {
    const deadline = Date.now() + WAIT_FOR_OTHER_MS;
    while (Date.now() < deadline) {
      await sleep(100);
      const u = await this.#services.repo.uploads.get(id);
      if (u === undefined) throw new ChuteError('not_found');
      if (u.state !== 'uploaded') return u.state === 'granted' ? this.complete(u, by) : u;
    }
    throw new ChuteError('unavailable', { message: 'The upload is still being verified.', retryAfter: 5 });
  }

  async #verifyAndFreeze(
    upload: Upload,
    by: Actor,
    parts: readonly ClientPart[] | undefined,
  ): Promise<Upload> {
    const { repo, storage, clock, metrics, logger } = this.#services;
    const started = performance.now();
    const log = logger.child({ uploadId: upload.id, route: upload.route });
    try {
      const rule = await ruleOf(this.#services, upload);
      if (upload.multipartId !== null) await assembleParts(storage, upload, parts);
      for (let round = 1; ; round++) {
        const result = await verifyObject(storage, upload, rule);
        if (!result.ok && result.reason === 'missing') {
          // Nothing has landed yet (a client that completes before its upload finished): not the
          // file's fault, so the grant stays usable until it expires; the catch below hands the
          // claim back.
          throw new ChuteError('conflict', { message: 'Nothing has been uploaded for this grant yet.' });
        }
        if (!result.ok) {
          const rejected = await repo.uploads.transition(upload.id, ['uploaded'], 'rejected', {
            fields: { reason: result.reason, completedAt: clock() },
            by,
            detail: { reason: result.reason },
            event: uploadEvent('upload.rejected', { ...upload, reason: result.reason, state: 'rejected' }),
          });
          // The object is refused: it must not stay where a reader finds it. Deleted once the
          // verdict is recorded (see the freeze below for why not before), and only by the claim's
          // holder: a claim taken back from it (rejected undefined) is someone else's to finish.
          if (rejected !== undefined)
            await storage
              .delete(upload.incomingKey)
              .catch((e) => log.warn({ err: e }, 'delete after rejection failed; the sweeper retries'));
          log.info({ reason: result.reason, detail: result.detail }, 'upload rejected');
          metrics.completions.inc({ route: upload.route, outcome: 'rejected', reason: result.reason });
          metrics.completeDuration.observe({ outcome: 'rejected' }, (performance.now() - started) / 1000);
          return rejected ?? (await this.#reread(upload.id));
        }
        // Freeze: copy to a key only the gateway writes, pinned to the ETag that was verified, so
        // bytes swapped in by a re-PUT between our HEAD and this copy are never frozen.
        const frozen = fileKey(upload.id);
        try {
          await storage.copy(upload.incomingKey, frozen, {
            ifMatch: result.head.etag,
            size: result.head.size,
          });
        } catch (e) {
          if (isStorageError(e, 'PreconditionFailed') && round < MAX_ROUNDS) continue;
          throw e;
        }
        const state = rule.review ? 'pending_review' : 'verified';
        const fields = {
          fileKey: frozen,
          detectedType: result.detectedType,
          size: result.head.size,
          width: result.width ?? null,
          height: result.height ?? null,
          completedAt: clock(),
          publishedKey: null as string | null,
          publishedAt: null as number | null,
        };
        // A route without review that publishes does so before the state is recorded, so that
        // upload.verified already says where the file is.
        if (!rule.review && rule.publish !== undefined) {
          fields.publishedKey = await this.#publisher.copy({ ...upload, ...fields }, rule.publish);
          fields.publishedAt = clock();
        }
        const done = await repo.uploads.transition(upload.id, ['uploaded'], state, {
          fields,
          by,
          detail: {
            type: result.detectedType,
            size: result.head.size,
            ...(fields.publishedKey !== null && { publishedKey: fields.publishedKey }),
          },
          event: uploadEvent('upload.verified', { ...upload, ...fields, state }),
        });
        // Only now that the state is recorded, and only by the claim's holder. Deleted before, a
        // process killed (or a database gone) between the two left a claim whose bytes were gone:
        // the retry after the claim's hand-back found nothing to verify (409) and the grant
        // expired with the file frozen but never recorded (found by test/faults). An incoming
        // object a crash leaves here is the sweeper's: a stray of an upload no longer `granted`.
        if (done !== undefined)
          await storage
            .delete(upload.incomingKey)
            .catch((e) => log.warn({ err: e }, 'delete after freeze failed; the sweeper retries'));
        if (done !== undefined && rule.publish !== undefined && done.publishedKey !== null) {
          await this.#publisher
            .retireOthers(done, rule.publish, SYSTEM)
            .catch((e) => log.warn({ err: e }, 'retiring the previous file failed'));
        }
        log.info({ state, checksum: result.checksum }, 'upload verified');
        metrics.completions.inc({ route: upload.route, outcome: state, reason: '' });
        metrics.bytes.inc({ route: upload.route }, result.head.size);
        metrics.completeDuration.observe({ outcome: state }, (performance.now() - started) / 1000);
        return done ?? (await this.#reread(upload.id));
      }
    } catch (e) {
      // Not the file's fault: hand the claim back so a retry can do the work.
      await repo.uploads.transition(upload.id, ['uploaded'], 'granted', { by }).catch(() => {});
      if (e instanceof ChuteError) throw e;
      log.error({ err: e }, 'complete failed');
      throw new ChuteError('unavailable', { retryAfter: 2, cause: e });
    }
  }

  async #reread(id: string): Promise<Upload> {
    const u = await this.#services.repo.uploads.get(id);
    if (u === undefined) throw new ChuteError('not_found');
    return u;
  }
}
