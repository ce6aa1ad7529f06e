import { DEMO_ROUTES } from '../../src/config/dev.ts';
import type { NewGrant } from '../../src/db/index.ts';
import { incomingKey, newUploadId } from '../../src/domain/ids.ts';
import { ruleFingerprint } from '../../src/rules/fingerprint.ts';

/** The demo `logo` rule's fingerprint, as a gateway running the demo config records it. */
export const LOGO_RULE_HASH = ruleFingerprint(DEMO_ROUTES[0]!.build());

/** A grant of the demo `logo` route as the grants endpoint would record it, made at `now`. */
export function newGrant(userId: string, patch: Partial<NewGrant> = {}, now = Date.now()): NewGrant {
  const id = newUploadId(now);
  return {
    id,
    userId,
    route: 'logo',
    ruleHash: LOGO_RULE_HASH,
    method: 'post',
    incomingKey: incomingKey(userId, id),
    filename: 'logo.png',
    declaredType: 'image/png',
    declaredSize: 1000,
    expiresAt: now + 600_000,
    ...patch,
  };
}
