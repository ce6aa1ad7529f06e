import { ownController, throwIfAborted } from './abort.ts';
import { completeUpload, type GatewayAuth, requestGrant } from './api.ts';
import { type Deadline, deadlineOf, expiredLocally, isExpiry } from './deadline.ts';
import { abortedError, ChuteClientError, networkError } from './errors.ts';
import { type ResumeStore, uploadMultipart } from './multipart.ts';
import { DEFAULT_RETRY, type RetryEvent, type RetryPolicy, withRetry } from './retry.ts';
import { sendSingle } from './single.ts';
import { DEFAULT_STALL_MS, withStallGuard } from './stall.ts';
import { defaultTransport } from './transport/index.ts';
import type { Transport } from './transport/types.ts';
import type { Grant, GrantRequest, Progress, Upload } from './types.ts';

export interface UploadOptions extends GatewayAuth {
  /** The route's name, e.g. `logo`. */
  route: string;
  /** Declared name (display only). Default: the File's name, else `upload`. */
  filename?: string | undefined;
  /** Declared media type, signed into the grant. Default: the Blob's type, else application/octet-stream. */
  contentType?: string | undefined;
  /** SHA-256 (hex or base64) of the file; PUT grants sign it, so storage checks the bytes. */
  checksum?: string | undefined;
  /** Ask for a transport; default: the route's. */
  method?: GrantRequest['method'] | undefined;
  signal?: AbortSignal | undefined;
  onProgress?: ((p: Progress) => void) | undefined;
  /** Each retry, before its wait. */
  onRetry?: ((e: RetryEvent) => void) | undefined;
  /** Each grant received (two when the first expired). */
  onGrant?: ((grant: Grant) => void) | undefined;
  retry?: Partial<RetryPolicy> | undefined;
  /** Default: XMLHttpRequest in browsers, fetch elsewhere. */
  transport?: Transport | undefined;
  /** A storage request with no progress and no answer this long is retried (default 30 s). */
  stallMs?: number | undefined;
  /** Multipart: parts in flight at once (default 4). */
  concurrency?: number | undefined;
  /** Multipart: where an upload in progress is remembered, so a reload/crash resumes it. */
  resume?: ResumeStore | undefined;
  /**
   * Multipart: the key this file's upload is remembered under in `resume`. Default:
   * `resumeKey(request, file)` (route, name, size, type, lastModified); the CLI uses the absolute
   * path, size and mtime (a Blob from `fs.openAsBlob` has no lastModified).
   */
  resumeKey?: string | undefined;
  /**
   * Multipart: an abort leaves the upload resumable (remembered, nothing cancelled) instead of
   * cancelling it (DELETE → `withdrawn`). For a command interrupted by Ctrl-C and run again.
   */
  keepOnAbort?: boolean | undefined;
}

/**
 * Grant → upload straight to storage → complete, and the completed upload back (its `state` is
 * `verified`, `pending_review` or `rejected` with a `reason`: a rejection is an answer, not an
 * error). Every other outcome is a thrown ChuteClientError carrying `uploadId` once granted.
 *
 * Expiry (storage's 403 "expired", the gateway's 410 grant_expired, or a grant found past its
 * deadline before a retry) gets one fresh grant and a new upload; a second expiry is thrown.
 */
export async function upload(file: Blob, options: UploadOptions): Promise<Upload> {
  const own = ownController(options.signal);
  const { signal } = own;
  const policy: RetryPolicy = { ...DEFAULT_RETRY, ...options.retry };
  const retry = <T>(what: string, fn: () => Promise<T>) =>
    withRetry(what, fn, { policy, signal, onRetry: options.onRetry });
  const transport = options.transport ?? defaultTransport();
  const filename = options.filename ?? (file as { name?: string }).name ?? 'upload';
  const total = file.size;
  const report = (loaded: number) => options.onProgress?.({ loaded, total });
  const stallMs = options.stallMs ?? DEFAULT_STALL_MS;
  let uploadId: string | undefined;
  try {
    throwIfAborted(signal);
    const request: GrantRequest = {
      route: options.route,
      filename,
      contentType: options.contentType || file.type || 'application/octet-stream',
      size: total,
      ...(options.checksum !== undefined && { checksum: options.checksum }),
      ...(options.method !== undefined && { method: options.method }),
    };
    const ctx: UploadContext = { options, signal, retry, transport, report };
    // An upload resumed from a record counts as the first grant: if it expired, one fresh one.
    let grants = 0;
    if (request.method === 'multipart' || options.resume !== undefined) {
      try {
        const resumed = await uploadMultipart.resume(file, request, ctx);
        if (resumed !== undefined) return resumed;
      } catch (e) {
        if (signal.aborted || !isExpiry(e, undefined)) throw e;
        grants = 1;
        report(0);
      }
    }
    for (grants++; ; grants++) {
      const { grant, receivedAt } = await retry('grant', () => requestGrant(options, request, signal));
      uploadId = grant.id;
      options.onGrant?.(grant);
      const deadline = deadlineOf(grant, receivedAt);
      try {
        if (grant.method === 'multipart')
          return await uploadMultipart.run(file, request, grant, receivedAt, ctx);
        if (grant.method !== 'post' && grant.method !== 'put') {
          const method = String((grant as Grant).method);
          throw new ChuteClientError('unsupported_method', `The grant's method "${method}" is unknown.`, {
            source: 'client',
          });
        }
        await retry('upload', () => {
          // A grant that ran out while we backed off is not worth another send.
          if (deadline.passed()) throw expiredLocally();
          return withStallGuard(signal, stallMs, (guarded, tick) =>
            sendSingle(grant, file, filename, {
              transport,
              signal: guarded,
              onProgress: (loaded) => {
                tick();
                report(loaded);
              },
            }),
          );
        });
        report(total);
        return await retry('complete', () => completeUpload(options, grant.id, signal));
      } catch (e) {
        if (grants === 1 && !signal.aborted && isExpiry(e, deadline)) {
          report(0);
          continue;
        }
        throw e;
      }
    }
  } catch (e) {
    // Our controller is released only in `finally`: aborted here means the caller aborted.
    const error = signal.aborted
      ? e instanceof ChuteClientError && e.code === 'aborted'
        ? e
        : abortedError(signal)
      : e instanceof ChuteClientError
        ? e
        : networkError(e, signal, 'upload');
    error.uploadId ??= uploadId;
    throw error;
  } finally {
    own.release();
  }
}

/** What upload() hands the multipart path. */
export interface UploadContext {
  options: UploadOptions;
  signal: AbortSignal;
  retry: <T>(what: string, fn: () => Promise<T>) => Promise<T>;
  transport: Transport;
  report: (loaded: number) => void;
}

export type { Deadline };
