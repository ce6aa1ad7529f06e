import type { Actor } from '../db/audit.ts';
import type { Upload } from '../db/types.ts';
import { type PublishRule, publishedKey } from '../rules/publish.ts';
import type { BaseServices } from '../services.ts';
import { uploadEvent } from './events.ts';

/**
 * Publication: a copy of the frozen file at the route's published key, which the app serves.
 * The frozen copy stays (it is what reviewers and downloads read); a published copy is only ever
 * made from it, so what is published is exactly what was verified.
 */
export class Publisher {
  readonly #services: BaseServices;

  constructor(services: BaseServices) {
    this.#services = services;
  }

  /** Copies the frozen file to its published key and returns the key. Idempotent. */
  async copy(upload: Upload, rule: PublishRule): Promise<string> {
    if (upload.fileKey === null) throw new TypeError(`upload ${upload.id} has no frozen file`);
    const key = publishedKey(rule, { route: upload.route, userId: upload.userId, uploadId: upload.id });
    await this.#services.storage.copy(upload.fileKey, key);
    return key;
  }

  /**
   * An approved upload: copy, then record the publication with its `review.approved` event (the
   * app is told once the file is where the event says), then retire the user's previous file on
   * keepOne routes. A failure leaves the upload approved and unpublished; the sweeper retries.
   */
  async publishApproved(upload: Upload, rule: PublishRule, by: Actor): Promise<Upload> {
    const { repo, clock } = this.#services;
    const key = await this.copy(upload, rule);
    const fields = { publishedKey: key, publishedAt: clock() };
    const done = await repo.uploads.transition(upload.id, ['approved'], 'approved', {
      fields,
      by,
      action: 'published',
      detail: { key },
      event: uploadEvent('review.approved', { ...upload, ...fields }),
    });
    if (done === undefined) return upload;
    await this.retireOthers(done, rule, by);
    return done;
  }

  /**
   * keepOne: the user's other published files of this route are retired — their published copy
   * deleted (unless the new file took over the same key), their record kept with retiredAt.
   */
  async retireOthers(current: Upload, rule: PublishRule, by: Actor): Promise<void> {
    if (!rule.keepOne || current.publishedKey === null) return;
    const { repo, storage, clock, logger } = this.#services;
    for (const old of await repo.uploads.findPublished(current.userId, current.route)) {
      if (old.id === current.id || old.publishedKey === null) continue;
      if (old.publishedKey !== current.publishedKey) {
        await storage
          .delete(old.publishedKey)
          .catch((e) => logger.warn({ err: e, uploadId: old.id }, 'delete of a retired file failed'));
      }
      await repo.uploads.transition(old.id, [old.state], old.state, {
        fields: { publishedKey: null, retiredAt: clock() },
        by,
        action: 'retired',
        detail: { key: old.publishedKey, by: current.id },
      });
    }
  }
}
