import { ChuteClientError } from './errors.ts';

/**
 * When a grant stops working, on *our* clock. The gateway's clock and ours may disagree by
 * minutes (a laptop's clock, a VM resumed from sleep): comparing `expiresAt` with our Date.now()
 * would call a fresh grant dead, or a dead one fresh. What both clocks agree on is the lifetime,
 * `expiresAt - serverTime`, counted from when the grant reached us.
 */
export interface Deadline {
  /** Epoch ms on the local clock. */
  at: number;
  /** True once fewer than `marginMs` remain: a request started now would likely be refused. */
  passed(now?: number): boolean;
}

/** Requests started this close to the deadline are not started (a re-grant is cheaper). */
export const DEADLINE_MARGIN_MS = 2_000;

export function deadlineOf(
  times: { expiresAt: string; serverTime: string },
  receivedAt: number,
  marginMs = DEADLINE_MARGIN_MS,
): Deadline {
  const lifetime = Date.parse(times.expiresAt) - Date.parse(times.serverTime);
  if (!Number.isFinite(lifetime))
    throw new ChuteClientError('invalid_response', 'The grant has no readable expiresAt/serverTime.', {
      source: 'client',
    });
  const at = receivedAt + lifetime;
  return { at, passed: (now = Date.now()) => now > at - marginMs };
}

/**
 * Did this failure mean "your grant (or part URL) has expired"? The gateway says so with
 * `grant_expired` (410). Storage says 403 AccessDenied, worded per engine: "Request has expired"
 * (presigned URL, S3 and ours), "Invalid according to Policy: Policy expired." (POST policy) —
 * and Ceph RGW 16 says AccessDenied with no message at all. So any AccessDenied counts, as does
 * any 403 once past the grant's deadline: the cost of being wrong is one more grant (re-granting
 * happens once per upload), and the second refusal is then thrown as storage said it.
 */
export function isExpiry(e: unknown, deadline: Deadline | undefined): boolean {
  if (!(e instanceof ChuteClientError)) return false;
  if (e.source !== 'storage') return e.code === 'grant_expired';
  if (e.status !== 403) return false;
  return e.code === 'AccessDenied' || /expired/i.test(e.message) || (deadline?.passed() ?? false);
}

/** Thrown (and then handled as an expiry) instead of sending a request that is bound to be refused. */
export function expiredLocally(): ChuteClientError {
  return new ChuteClientError('grant_expired', 'The grant expired before the upload could start.', {
    source: 'client',
  });
}
