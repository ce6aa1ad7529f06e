import type { NewGrant } from '../../src/db/index.ts';
import { incomingKey, newUploadId } from '../../src/ids.ts';

/** A grant of the demo `logo` route as the grants endpoint would record it, made at `now`. */
export function newGrant(userId: string, patch: Partial<NewGrant> = {}, now = Date.now()): NewGrant {
  const id = newUploadId(now);
  return {
    id,
    userId,
    route: 'logo',
    method: 'post',
    incomingKey: incomingKey(userId, id),
    filename: 'logo.png',
    declaredType: 'image/png',
    declaredSize: 1000,
    expiresAt: now + 600_000,
    ...patch,
  };
}
