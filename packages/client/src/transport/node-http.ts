import type { ClientRequest, IncomingMessage } from 'node:http';
import { networkError } from '../errors.ts';
import { formBody } from './form.ts';
import { type StorageRequest, type StorageResponse, type Transport, withoutLength } from './types.ts';

/** RFC 9110 §10.1.1: a client need not wait for 100 (Continue) forever; servers that ignore it get the body after this. */
const CONTINUE_WAIT_MS = 1_000;
/** An error document is small; a body beyond this is not kept. */
const MAX_ANSWER = 64 * 1024;

/**
 * Node: node:http(s) with `Expect: 100-continue` (PUTs), streaming the Blob (from disk with
 * `fs.openAsBlob`) with backpressure. Chosen over fetch for two things fetch cannot do:
 * - 100-continue. Storage refuses a bad request (expired signature, policy, size) before reading
 *   the body, then closes the connection. With fetch the refusal arrives as a reset while the body
 *   is still being sent ("write ECONNRESET"), and "expired" becomes an anonymous network error that
 *   gets retried. Expecting 100 (Continue), the body is sent only once storage agreed, and a
 *   refusal is read as storage's XML (S3, RGW and our store honour it; the AWS SDK does the same).
 * - Progress in bytes the socket took: counted in each write's callback, not when pulled.
 */
export const nodeHttpTransport: Transport = {
  name: 'node:http',
  async send(request: StorageRequest): Promise<StorageResponse> {
    const url = new URL(request.url);
    const { request: httpRequest } =
      url.protocol === 'https:' ? await import('node:https') : await import('node:http');
    const { body, signal } = request;
    const headers = withoutLength(request.headers);
    let parts: (Uint8Array | Blob)[];
    let length: number;
    if (body.kind === 'bytes') {
      parts = [body.blob];
      length = body.blob.size;
    } else {
      const form = formBody(body.fields, { size: body.file.size, filename: body.filename });
      parts = [form.head, body.file, form.tail];
      length = form.length;
      headers['content-type'] = form.contentType;
    }
    headers['content-length'] = String(length);
    // Only for bytes: a POST form's policy is in its body, so storage cannot refuse it earlier
    // (and Ceph RGW 16 answers a POST form sent with Expect: 100-continue 400 InvalidArgument).
    const expectContinue = body.kind === 'bytes';
    if (expectContinue) headers['expect'] = '100-continue';

    return new Promise<StorageResponse>((resolve, reject) => {
      let settled = false;
      let sending = false;
      let answered = false;
      const req: ClientRequest = httpRequest(url, { method: request.method, headers, signal });
      const fail = (e: unknown) => {
        if (settled) return;
        settled = true;
        clearTimeout(wait);
        reject(networkError(e, signal, `${request.method} to storage`));
      };
      const start = () => {
        if (sending || answered) return;
        sending = true;
        clearTimeout(wait);
        pump(req, parts, request.onProgress, () => answered).then(() => req.end(), fail);
      };
      const wait = setTimeout(start, expectContinue ? CONTINUE_WAIT_MS : 0);
      req.on('continue', start);
      req.on('error', fail);
      req.on('response', (res: IncomingMessage) => {
        answered = true;
        clearTimeout(wait);
        const chunks: Buffer[] = [];
        let kept = 0;
        res.on('data', (b: Buffer) => {
          if (kept < MAX_ANSWER) chunks.push(b);
          kept += b.length;
        });
        res.on('error', fail);
        res.on('end', () => {
          if (settled) return;
          settled = true;
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({
            status: res.statusCode ?? 0,
            header: (n) => {
              const v = res.headers[n.toLowerCase()];
              return v === undefined ? null : Array.isArray(v) ? v.join(', ') : v;
            },
            text,
          });
          // Answered before the body was all sent (a refusal): this connection is done.
          if (!req.writableFinished) req.destroy();
        });
      });
    });
  },
};

/** Writes every part in order, honouring backpressure; progress counts file bytes only. */
async function pump(
  req: ClientRequest,
  parts: (Uint8Array | Blob)[],
  onProgress: ((loaded: number) => void) | undefined,
  stopped: () => boolean,
): Promise<void> {
  let loaded = 0;
  for (const part of parts) {
    if (part instanceof Uint8Array) {
      if (!req.write(part)) await drained(req);
      continue;
    }
    const reader = (part.stream() as ReadableStream<Uint8Array>).getReader();
    try {
      for (;;) {
        if (stopped() || req.destroyed) return;
        const { done, value } = await reader.read();
        if (done) break;
        const ok = req.write(value, () => {
          loaded += value.byteLength;
          onProgress?.(loaded);
        });
        if (!ok) await drained(req);
      }
    } finally {
      reader.releaseLock();
    }
  }
}

function drained(req: ClientRequest): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = () => {
      req.off('drain', done);
      req.off('close', closed);
      resolve();
    };
    const closed = () => {
      req.off('drain', done);
      reject(new Error('connection closed while sending'));
    };
    req.on('drain', done);
    req.once('close', closed);
  });
}
