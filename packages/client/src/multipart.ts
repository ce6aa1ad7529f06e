/**
 * Multipart uploads against the gateway's contract (README "Multipart"): the grant carries the
 * plan and the first part URLs, more come from POST …/parts, complete sends the ETags, DELETE
 * gives up. upload() comes here when a grant says `method: "multipart"`, and first tries a
 * remembered upload when a ResumeStore is given.
 */
import { abortUpload, completeUpload, getUpload, listStoredParts } from './api.ts';
import { type Deadline, deadlineOf } from './deadline.ts';
import { ChuteClientError } from './errors.ts';
import { sendParts } from './parts.ts';
import { parseResumeRecord, type ResumeRecord, resumeKey } from './resume.ts';
import { isRetryable } from './retry.ts';
import type { GrantRequest, MultipartGrant, Upload } from './types.ts';
import type { UploadContext } from './upload.ts';

export type { ResumeStore } from './resume.ts';

/** S3's limits: 10,000 parts; every part but the last at least 5 MiB. */
const MAX_PARTS = 10_000;
const MIN_PART = 5 * 1024 * 1024;
const DONE_STATES = new Set(['uploaded', 'verified', 'pending_review', 'approved', 'rejected']);

function checkPlan(grant: MultipartGrant, size: number): void {
  const ok =
    Number.isSafeInteger(grant.partSize) &&
    grant.partSize >= MIN_PART &&
    Number.isSafeInteger(grant.partCount) &&
    grant.partCount >= 1 &&
    grant.partCount <= MAX_PARTS &&
    grant.partCount === Math.max(1, Math.ceil(size / grant.partSize)) &&
    Array.isArray(grant.parts);
  if (!ok)
    throw new ChuteClientError(
      'invalid_response',
      `The multipart plan (partSize ${grant.partSize}, partCount ${grant.partCount}) does not fit ${size} bytes.`,
      { source: 'gateway', uploadId: grant.id },
    );
}

async function run(
  file: Blob,
  request: GrantRequest,
  grant: MultipartGrant,
  deadline: Deadline | undefined,
  ctx: UploadContext,
  held: ReadonlyMap<number, string> = new Map(),
): Promise<Upload> {
  checkPlan(grant, file.size);
  const store = ctx.options.resume;
  const key = ctx.options.resumeKey ?? resumeKey(request, file);
  const record: ResumeRecord = {
    v: 1,
    id: grant.id,
    uploadId: grant.uploadId,
    partSize: grant.partSize,
    partCount: grant.partCount,
    size: file.size,
  };
  await store?.set(key, JSON.stringify(record));
  let parts: { number: number; etag: string }[];
  try {
    parts = await sendParts(file, grant, deadline, held, ctx);
  } catch (e) {
    // Kept for resume: what retries could not get through (network, 5xx), a crash (nothing
    // runs), and an abort when asked to keep it. Given up: an abort by the caller and refusals,
    // so storage frees the parts now.
    const aborted = ctx.signal.aborted;
    if (aborted ? ctx.options.keepOnAbort !== true : !isRetryable(e)) {
      await store?.delete(key);
      await abortUpload(ctx.options, grant.id, AbortSignal.timeout(10_000)).catch(() => {});
    }
    throw e;
  }
  ctx.report(file.size);
  // Every part is stored: a complete that fails (even a 4xx: 409 a part missing, 400 a list
  // storage disagrees with) cancels nothing — the grant stays usable, and a resume lists what
  // storage holds and completes again, instead of losing gigabytes to one refused request.
  const done = await ctx.retry('complete', () => completeUpload(ctx.options, grant.id, ctx.signal, parts));
  await store?.delete(key);
  return done;
}

/**
 * The upload remembered for this file, continued from what storage holds: undefined when there
 * is none (or it cannot be continued: gone, expired, another size), and a fresh grant follows.
 */
async function resume(file: Blob, request: GrantRequest, ctx: UploadContext): Promise<Upload | undefined> {
  const store = ctx.options.resume;
  if (store === undefined) return undefined;
  const key = ctx.options.resumeKey ?? resumeKey(request, file);
  const record = parseResumeRecord(await store.get(key), file.size);
  if (record === undefined) return undefined;
  let view: Upload;
  try {
    view = await ctx.retry('resume', () => getUpload(ctx.options, record.id, ctx.signal));
  } catch (e) {
    if (isRetryable(e) || ctx.signal.aborted) throw e;
    await store.delete(key);
    return undefined;
  }
  if (DONE_STATES.has(view.state)) {
    // Completed before the crash could forget it: that is the answer.
    await store.delete(key);
    return ctx.retry('complete', () => completeUpload(ctx.options, record.id, ctx.signal));
  }
  if (view.state !== 'granted' || view.method !== 'multipart') {
    await store.delete(key);
    return undefined;
  }
  const listing = await ctx.retry('list parts', () => listStoredParts(ctx.options, record.id, ctx.signal));
  if (listing.partSize !== record.partSize || listing.partCount !== record.partCount) {
    // Not the plan these parts were cut by (a record from elsewhere): start afresh.
    await store.delete(key);
    return undefined;
  }
  const stored = listing.parts;
  const bytesOf = (n: number) =>
    n < record.partCount ? record.partSize : file.size - record.partSize * (record.partCount - 1);
  // Only parts whose size is what this plan cuts; anything else is uploaded again.
  const held = new Map(
    stored
      .filter((p) => p.number >= 1 && p.number <= record.partCount && p.size === bytesOf(p.number))
      .map((p) => [p.number, p.etag]),
  );
  // Rebuilt from the record: no part URLs (each batch is asked for, with its own clock), and no
  // deadline of the grant's own (GET /v1/uploads/{id} carries no serverTime), so its times are
  // placeholders nothing reads.
  const grant: MultipartGrant = {
    id: record.id,
    method: 'multipart',
    key: '',
    url: '',
    expiresAt: view.expiresAt,
    serverTime: view.expiresAt,
    partsExpireAt: view.expiresAt,
    uploadId: record.uploadId,
    partSize: record.partSize,
    partCount: record.partCount,
    parts: [],
  };
  return run(file, request, grant, undefined, ctx, held);
}

export const uploadMultipart = {
  /** A fresh grant; its part URLs live until `partsExpireAt` (not the grant's 24 h). */
  run: (file: Blob, request: GrantRequest, grant: MultipartGrant, receivedAt: number, ctx: UploadContext) =>
    run(
      file,
      request,
      grant,
      deadlineOf(
        { expiresAt: grant.partsExpireAt ?? grant.expiresAt, serverTime: grant.serverTime },
        receivedAt,
      ),
      ctx,
    ),
  resume,
};
