import { randomBytes } from 'node:crypto';
import { ChuteError } from '@chute/errors';

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** CSPRNG bytes drawn from a pool refilled 4 KiB at a time: one syscall per ~130 ids, not one per id. */
const POOL_SIZE = 4096;
let pool = Buffer.alloc(0);
let poolAt = 0;

function randomByte(): number {
  if (poolAt >= pool.length) {
    pool = randomBytes(POOL_SIZE);
    poolAt = 0;
  }
  return pool[poolAt++]!;
}

/**
 * `n` base62 characters from the OS CSPRNG. Bytes ≥ 248 are dropped (rejection sampling) so every
 * character is equally likely: `byte % 62` alone would favour the first 8 characters.
 */
export function randomBase62(n: number): string {
  let out = '';
  while (out.length < n) {
    const b = randomByte();
    if (b < 248) out += BASE62[b % 62];
  }
  return out;
}

/**
 * `up_` + 22 base62 characters: 8 of the creation time in ms, then 14 random (≈83 bits, as
 * unguessable as a key needs: more than UUIDv7's 74). Time first so that ids sort by creation
 * and a new grant's row lands at the end of the primary-key B-tree instead of on a random page:
 * with random ids every grant of a group commit dirtied a page of its own, and each dirty page is
 * a 4 KiB WAL write. (The grants benchmark's COMMIT stalls fell with this change; the page count
 * per commit was estimated, not counted.)
 */
export function newUploadId(now = Date.now()): string {
  return `up_${timePart(now)}${randomBase62(14)}`;
}

/** 8 base62 digits of epoch ms (good until the year 8000), most significant first. */
function timePart(now: number): string {
  let time = '';
  for (let t = now, i = 0; i < 8; i++, t = Math.floor(t / 62)) time = BASE62[t % 62] + time;
  return time;
}

let lastMs = -1;
let seq = 0;

/**
 * `{prefix}_` + 22 base62 characters that sort in the order they were made in this process: 8 of
 * the time in ms, 4 of a counter that restarts each ms (and carries the order when the clock
 * stands still or steps back), 10 random. For rows read back in order (the audit trail, events).
 */
export function newSortableId(prefix: string, now = Date.now()): string {
  if (now > lastMs) {
    lastMs = now;
    seq = 0;
  } else seq++;
  let counter = '';
  for (let c = seq, i = 0; i < 4; i++, c = Math.floor(c / 62)) counter = BASE62[c % 62] + counter;
  return `${prefix}_${timePart(lastMs)}${counter}${randomBase62(10)}`;
}

/**
 * `ev_` + 22 base62, sortable: the dispatcher delivers one upload's events in event-id order, so
 * ids must sort in the order they were written. Across instances they sort by each instance's
 * clock; an upload's events are serialised by its state transitions anyway.
 */
export function newEventId(now = Date.now()): string {
  return newSortableId('ev', now);
}

export const EVENT_ID = /^ev_[0-9A-Za-z]{22}$/;

export const UPLOAD_ID = /^up_[0-9A-Za-z]{22}$/;

export function isUploadId(s: string): boolean {
  return UPLOAD_ID.test(s);
}

/**
 * User ids become a path segment of every incoming key (`incoming/{userId}/…`), so they must not
 * be able to climb or fork the key space: no '/', no '..', nothing S3 lists as "characters to
 * avoid" ('|', '\\', '{', '%', …). Starts with a letter or digit; at most 128 characters.
 * IdPs whose subjects contain other characters (e.g. Auth0's `auth0|…`) need a mapped claim.
 */
export const USER_ID = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,127}$/;

export function isUserId(s: unknown): s is string {
  return typeof s === 'string' && USER_ID.test(s);
}

export function assertUserId(s: unknown): string {
  if (!isUserId(s)) {
    throw new ChuteError('invalid_request', {
      message: 'User id must be 1–128 of A–Z a–z 0–9 . _ @ -, starting with a letter or digit.',
    });
  }
  return s;
}

/** Where the browser uploads. Both parts are validated: no user input reaches a key unchecked. */
export function incomingKey(userId: string, uploadId: string): string {
  if (!isUserId(userId) || !isUploadId(uploadId)) throw new TypeError('unsafe key part');
  return `incoming/${userId}/${uploadId}`;
}

/** Where a verified file is frozen; only the gateway writes here. */
export function fileKey(uploadId: string): string {
  if (!isUploadId(uploadId)) throw new TypeError('unsafe key part');
  return `files/${uploadId}`;
}
