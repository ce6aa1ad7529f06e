import type { NewEvent, Upload } from '../db/types.ts';

/** The events the gateway emits; a closed list (webhook subscriptions name these). */
export const EVENT_TYPES = [
  'upload.verified',
  'upload.rejected',
  'review.approved',
  'review.rejected',
  'upload.withdrawn',
  'upload.expired',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];

/**
 * An event about one upload, with everything an app needs to act on it without calling back:
 * ids, owner, route, the file (frozen key, type read from the bytes, size, dimensions), where it
 * was published, why it was rejected, and the reviewer's decision. `upload` is the row as the
 * change left it.
 */
export function uploadEvent(type: EventType, upload: Upload): NewEvent {
  const file =
    upload.fileKey !== null && upload.detectedType !== null && upload.size !== null
      ? {
          key: upload.fileKey,
          size: upload.size,
          type: upload.detectedType,
          ...(upload.width !== null && { width: upload.width }),
          ...(upload.height !== null && { height: upload.height }),
        }
      : undefined;
  return {
    type,
    uploadId: upload.id,
    payload: {
      id: upload.id,
      userId: upload.userId,
      route: upload.route,
      filename: upload.filename,
      state: upload.state,
      ...(upload.reason !== null && { reason: upload.reason }),
      ...(file !== undefined && { file }),
      ...(upload.publishedKey !== null && { publishedKey: upload.publishedKey }),
      ...(upload.reviewedBy !== null && {
        review: {
          reviewer: upload.reviewedBy,
          decision: upload.state === 'rejected' ? 'reject' : 'approve',
          ...(upload.reviewReason !== null && { reason: upload.reviewReason }),
          ...(upload.reviewNote !== null && { note: upload.reviewNote }),
        },
      }),
    },
  };
}
