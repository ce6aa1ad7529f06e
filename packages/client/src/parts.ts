import { requestPartUrls } from './api.ts';
import { type Deadline, deadlineOf, expiredLocally, isExpiry } from './deadline.ts';
import { ChuteClientError, storageError } from './errors.ts';
import { DEFAULT_STALL_MS, withStallGuard } from './stall.ts';
import type { MultipartGrant, PartUrl } from './types.ts';
import type { UploadContext } from './upload.ts';

/**
 * Part URLs asked for at once (`count` of POST /v1/uploads/{id}/parts; the gateway allows 1000):
 * the grant's own first 100, then aligned batches of 100 — 1.6 GiB of 16 MiB parts, sent well
 * within the URLs' lifetime, and little signing wasted when an upload stops.
 */
export const URL_BATCH = 100;

interface KnownUrl extends PartUrl {
  deadline: Deadline | undefined;
}

/**
 * Uploads every part storage does not hold yet, `concurrency` at a time, and returns all parts'
 * ETags in order. Each part is retried on its own (network, 5xx, 429); a part URL found expired
 * is re-asked for once per part. The first failure for good stops the others (one controller).
 */
export async function sendParts(
  file: Blob,
  grant: MultipartGrant,
  /** When the grant's own part URLs expire (`partsExpireAt`), on our clock. */
  deadline: Deadline | undefined,
  held: ReadonlyMap<number, string>,
  ctx: UploadContext,
): Promise<{ number: number; etag: string }[]> {
  const { partSize, partCount } = grant;
  const bytesOf = (n: number) => (n < partCount ? partSize : file.size - partSize * (partCount - 1));
  const etags = new Map(held);
  const urls = new Map<number, KnownUrl>(grant.parts.map((p) => [p.number, { ...p, deadline }]));
  const batches = new Map<number, Promise<void>>();
  const inflight = new Map<number, number>();
  let doneBytes = 0;
  for (const n of etags.keys()) doneBytes += bytesOf(n);
  const progress = () => {
    let loaded = doneBytes;
    for (const l of inflight.values()) loaded += l;
    ctx.report(loaded);
  };

  const stop = new AbortController();
  const follow = () => stop.abort(ctx.signal.reason);
  ctx.signal.addEventListener('abort', follow, { once: true });

  /** Aligned batches, so workers asking for neighbouring parts share one request. */
  const urlFor = async (n: number): Promise<KnownUrl> => {
    const known = urls.get(n);
    if (known !== undefined) return known;
    const from = Math.floor((n - 1) / URL_BATCH) * URL_BATCH + 1;
    let batch = batches.get(from);
    if (batch === undefined) {
      const count = Math.min(URL_BATCH, partCount - from + 1);
      batch = ctx
        .retry('part urls', () => requestPartUrls(ctx.options, grant.id, { from, count }, stop.signal))
        .then(({ urls: got, receivedAt }) => {
          const d = deadlineOf(got, receivedAt);
          for (const p of got.parts) if (!urls.has(p.number)) urls.set(p.number, { ...p, deadline: d });
        })
        .finally(() => batches.delete(from));
      batches.set(from, batch);
    }
    await batch;
    const got = urls.get(n);
    if (got === undefined)
      throw new ChuteClientError('invalid_response', `The gateway sent no URL for part ${n}.`, {
        source: 'gateway',
      });
    return got;
  };
  /** A URL signs its part's Content-Length: one that disagrees with our cut cannot succeed. */
  const checked = (n: number, url: KnownUrl): KnownUrl => {
    if (url.size !== bytesOf(n))
      throw new ChuteClientError(
        'invalid_response',
        `The gateway signed part ${n} for ${url.size} bytes; the plan cuts ${bytesOf(n)}.`,
        { source: 'gateway', uploadId: grant.id },
      );
    return url;
  };

  const sendOne = async (n: number): Promise<string> => {
    const start = (n - 1) * partSize;
    const blob = file.slice(start, start + bytesOf(n));
    for (let refreshed = false; ; refreshed = true) {
      let url: KnownUrl | undefined;
      try {
        return await ctx.retry(`part ${n}`, async () => {
          url = checked(n, await urlFor(n));
          if (url.deadline?.passed()) throw expiredLocally();
          inflight.set(n, 0);
          const part = url;
          // Late write callbacks of an attempt that is over must not count its bytes again.
          let live = true;
          const res = await withStallGuard(
            stop.signal,
            ctx.options.stallMs ?? DEFAULT_STALL_MS,
            (guarded, tick) =>
              ctx.transport.send({
                method: 'PUT',
                url: part.url,
                headers: {},
                body: { kind: 'bytes', blob },
                signal: guarded,
                onProgress: (l) => {
                  if (!live) return;
                  tick();
                  inflight.set(n, l);
                  progress();
                },
              }),
          ).finally(() => {
            live = false;
          });
          if (res.status < 200 || res.status > 299)
            throw storageError(res.status, res.text, res.header('retry-after'));
          const etag = res.header('etag');
          // Browsers hide ETag unless the bucket's CORS rule lists it in ExposeHeaders.
          if (!etag)
            throw new ChuteClientError(
              'invalid_response',
              `Storage answered part ${n} without a readable ETag (CORS: expose the ETag header).`,
              { source: 'storage', status: res.status },
            );
          return etag;
        });
      } catch (e) {
        if (refreshed || stop.signal.aborted || !isExpiry(e, url?.deadline)) throw e;
        urls.delete(n);
      } finally {
        inflight.delete(n);
      }
    }
  };

  const queue: number[] = [];
  for (let n = 1; n <= partCount; n++) if (!etags.has(n)) queue.push(n);
  let failure: unknown;
  const worker = async () => {
    while (queue.length > 0 && !stop.signal.aborted) {
      const n = queue.shift()!;
      try {
        etags.set(n, await sendOne(n));
        doneBytes += bytesOf(n);
        progress();
      } catch (e) {
        failure ??= e;
        stop.abort(e);
      }
    }
  };
  try {
    const workers = Math.max(1, Math.min(ctx.options.concurrency ?? 4, queue.length));
    await Promise.all(Array.from({ length: workers }, worker));
    if (failure !== undefined) throw failure;
    ctx.signal.throwIfAborted();
    return [...etags.entries()].sort((a, b) => a[0] - b[0]).map(([number, etag]) => ({ number, etag }));
  } finally {
    ctx.signal.removeEventListener('abort', follow);
    stop.abort();
  }
}
