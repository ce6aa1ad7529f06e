import type { z } from 'zod';
import type { Upload } from '../db/types.ts';
import type { UploadView } from './schemas.ts';

const iso = (ms: number) => new Date(ms).toISOString();

/** An upload as the API shows it: no storage keys (the frozen key is the gateway's business). */
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
  };
}
