import { ChuteError } from '@chute/errors';
import type { Actor } from '../db/audit.ts';
import type { Upload } from '../db/types.ts';
import type { BaseServices } from '../services.ts';
import { uploadEvent } from './events.ts';
import type { Publisher } from './publisher.ts';
import { ruleOf } from './rule-of.ts';

export interface Decision {
  decision: 'approve' | 'reject';
  /** A reason code from the route's list; required to reject, refused to approve. */
  reason?: string | undefined;
  note?: string | undefined;
}

/**
 * Review decisions and withdrawals. Each is a compare-and-set out of `pending_review`: of two
 * reviewers deciding at once exactly one wins, and the other (like a second decision later) is
 * answered 409 with the state the upload is in.
 */
export class Reviews {
  readonly #services: BaseServices;
  readonly #publisher: Publisher;

  constructor(services: BaseServices, publisher: Publisher) {
    this.#services = services;
    this.#publisher = publisher;
  }

  async decide(upload: Upload, d: Decision, by: Actor): Promise<Upload> {
    const { repo, clock, metrics } = this.#services;
    // Four eyes: a reviewer does not judge their own upload (an admin may).
    if (upload.userId === by.id && by.role !== 'admin') {
      throw new ChuteError('forbidden', { message: 'You cannot review your own upload.' });
    }
    const rule = await ruleOf(this.#services, upload);
    if (d.decision === 'reject') {
      if (d.reason === undefined || !rule.rejectReasons.includes(d.reason)) {
        throw new ChuteError('invalid_request', {
          message: `A rejection needs a reason: one of ${rule.rejectReasons.join(', ')}.`,
          details: { field: 'reason', allowed: [...rule.rejectReasons] },
        });
      }
    } else if (d.reason !== undefined) {
      throw new ChuteError('invalid_request', {
        message: 'An approval takes no reason (a note is fine).',
        details: { field: 'reason' },
      });
    }
    if (upload.state !== 'pending_review') throw notPending(upload);
    const now = clock();
    const fields = {
      reviewedBy: by.id,
      reviewedAt: now,
      reviewNote: d.note ?? null,
      ...(d.decision === 'reject' && {
        reason: 'review_rejected' as const,
        reviewReason: d.reason ?? null,
        purgeAt: now + rule.rejectedRetentionMs,
      }),
    };
    const decided = await repo.uploads.transition(
      upload.id,
      ['pending_review'],
      d.decision === 'approve' ? 'approved' : 'rejected',
      d.decision === 'approve'
        ? // review.approved goes out once the file is published (Publisher.publishApproved).
          { fields, by, action: 'approved', detail: d.note === undefined ? undefined : { note: d.note } }
        : {
            fields,
            by,
            action: 'review_rejected',
            detail: { reason: d.reason, ...(d.note !== undefined && { note: d.note }) },
            event: uploadEvent('review.rejected', { ...upload, ...fields, state: 'rejected' }),
          },
    );
    if (decided === undefined) {
      const current = await repo.uploads.get(upload.id);
      throw notPending(current ?? upload);
    }
    metrics.reviews.inc({ route: upload.route, decision: d.decision });
    if (d.decision === 'reject') return rule.rejectedRetentionMs === 0 ? this.purge(decided) : decided;
    if (rule.publish === undefined) return decided;
    try {
      return await this.#publisher.publishApproved(decided, rule.publish, by);
    } catch (e) {
      // The decision stands; publication is retried by the sweeper. The reviewer is told it is pending.
      this.#services.logger.warn({ err: e, uploadId: upload.id }, 'publication failed; the sweeper retries');
      return decided;
    }
  }

  /** The owner takes back an upload still waiting for review; its frozen copy is deleted. */
  async withdraw(upload: Upload, by: Actor): Promise<Upload> {
    const { repo, clock } = this.#services;
    if (upload.state !== 'pending_review') throw notPending(upload);
    const fields = { purgeAt: clock() };
    const withdrawn = await repo.uploads.transition(upload.id, ['pending_review'], 'withdrawn', {
      fields,
      by,
      event: uploadEvent('upload.withdrawn', { ...upload, ...fields, state: 'withdrawn' }),
    });
    if (withdrawn === undefined) throw notPending((await repo.uploads.get(upload.id)) ?? upload);
    return this.purge(withdrawn);
  }

  /**
   * The owner cancels an upload still `granted` (nothing completed yet): the grant is withdrawn
   * first (so a complete racing with this fails its CAS), then a multipart upload is aborted and
   * whatever reached the incoming key deleted. A storage failure there is left to the sweeper,
   * which deletes strays and aborts orphaned multipart uploads.
   */
  async cancel(upload: Upload, by: Actor): Promise<Upload> {
    const { repo, storage, logger } = this.#services;
    if (upload.state !== 'granted') throw notPending(upload, 'granted');
    const withdrawn = await repo.uploads.transition(upload.id, ['granted'], 'withdrawn', {
      by,
      detail: { cancelled: true },
      event: uploadEvent('upload.withdrawn', { ...upload, state: 'withdrawn' }),
    });
    if (withdrawn === undefined) throw notPending((await repo.uploads.get(upload.id)) ?? upload, 'granted');
    try {
      if (upload.multipartId !== null) await storage.abortMultipart(upload.incomingKey, upload.multipartId);
      await storage.delete(upload.incomingKey);
    } catch (e) {
      logger.warn({ err: e, uploadId: upload.id }, 'cleanup after cancel failed; the sweeper retries');
    }
    return withdrawn;
  }

  /**
   * Deletes a rejected or withdrawn upload's frozen copy (now, or when the sweeper finds its
   * retention ran out). On failure the upload stays due and the sweeper tries again.
   */
  async purge(upload: Upload): Promise<Upload> {
    const { repo, storage, clock, logger } = this.#services;
    if (upload.fileKey === null || upload.purgedAt !== null) return upload;
    try {
      await storage.delete(upload.fileKey);
    } catch (e) {
      logger.warn({ err: e, uploadId: upload.id }, 'purge failed; the sweeper retries');
      return upload;
    }
    const purged = await repo.uploads.transition(upload.id, [upload.state], upload.state, {
      fields: { purgedAt: clock() },
      action: 'purged',
      detail: { key: upload.fileKey },
    });
    return purged ?? upload;
  }
}

function notPending(upload: Upload, expected = 'pending_review'): ChuteError {
  return new ChuteError('conflict', {
    message: `The upload is ${upload.state}, not ${expected}.`,
    details: { state: upload.state },
  });
}
