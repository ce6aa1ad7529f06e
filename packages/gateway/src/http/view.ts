import type { z } from 'zod';
import type { Upload } from '../db/types.ts';
import type { UploadView } from './schemas.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/**
 * An upload as the API shows it: no incoming or frozen keys (the gateway's business); the published
 * key is shown, since the app serves the file from there.
 */
export function toView(u: Upload): z.output<typeof UploadView> {
  return {
    id: u.id,
    userId: u.userId,
    route: u.route,
    state: u.state,
    method: u.method,
    filename: u.filename,
    contentType: u.declaredType,
    size: u.declaredSize,
    createdAt: iso(u.createdAt),
    expiresAt: iso(u.expiresAt),
    ...(u.completedAt !== null && { completedAt: iso(u.completedAt) }),
    ...(u.reason !== null && { reason: u.reason }),
    ...(u.fileKey !== null &&
      u.purgedAt === null &&
      u.detectedType !== null &&
      u.size !== null && {
        file: {
          type: u.detectedType,
          size: u.size,
          ...(u.width !== null && { width: u.width }),
          ...(u.height !== null && { height: u.height }),
          download: `/v1/files/${u.id}/download`,
        },
      }),
    ...(u.reviewedBy !== null &&
      u.reviewedAt !== null && {
        review: {
          decision: u.state === 'rejected' ? ('reject' as const) : ('approve' as const),
          reviewer: u.reviewedBy,
          at: iso(u.reviewedAt),
          ...(u.reviewReason !== null && { reason: u.reviewReason }),
          ...(u.reviewNote !== null && { note: u.reviewNote }),
        },
      }),
    ...(u.publishedKey !== null &&
      u.publishedAt !== null && {
        published: {
          key: u.publishedKey,
          at: iso(u.publishedAt),
          download: `/v1/files/${u.id}/download?copy=published`,
        },
      }),
    ...(u.retiredAt !== null && { retiredAt: iso(u.retiredAt) }),
  };
}
