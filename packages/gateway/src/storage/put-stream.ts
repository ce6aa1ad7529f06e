import { once } from 'node:events';
import http, { type IncomingMessage } from 'node:http';
import https from 'node:https';
import { codeForStatus, StorageError } from './errors.ts';
import { parseError } from './xml.ts';

/** How long storage may take to answer once the last byte is sent (it may hash a large body). */
const ANSWER_TIMEOUT_MS = 120_000;

/**
 * PUT `url` with `body` streamed through node:http: each chunk is written only after the previous
 * one drained, so memory stays at a socket buffer whatever the size (fetch with a stream body would
 * send it chunked; storage needs the signed Content-Length). When `body` throws, the request is
 * destroyed before its last byte: storage never received Content-Length bytes, so it stores nothing.
 */
export async function streamPut(
  url: string,
  headers: Record<string, string>,
  body: AsyncIterable<Uint8Array>,
): Promise<{ etag: string }> {
  const u = new URL(url);
  const { host, ...rest } = headers;
  const req = (u.protocol === 'https:' ? https : http).request(u, { method: 'PUT', headers: rest });
  req.on('error', () => {}); // surfaced through `answered`; a second error must not crash the process
  let early: IncomingMessage | undefined;
  const answered = new Promise<IncomingMessage>((resolve, reject) => {
    req.once('response', (res: IncomingMessage) => {
      early = res;
      resolve(res);
    });
    req.once('error', reject);
    req.once('close', () => reject(new Error('connection to storage closed without an answer')));
  });
  answered.catch(() => {});
  try {
    for await (const chunk of body) {
      if (early !== undefined) break; // storage answered before the end: an error, read below
      if (!req.write(chunk)) await Promise.race([once(req, 'drain'), answered]);
    }
    if (early === undefined) req.end();
  } catch (e) {
    req.destroy();
    throw e;
  }
  const timer = setTimeout(() => req.destroy(new Error('storage did not answer')), ANSWER_TIMEOUT_MS);
  let res: IncomingMessage;
  try {
    res = await answered.catch((e: unknown) => {
      throw new StorageError('PutObject', 'NetworkError', 0, e instanceof Error ? e.message : String(e), {
        cause: e,
      });
    });
  } finally {
    clearTimeout(timer);
  }
  const chunks: Buffer[] = [];
  for await (const c of res) chunks.push(c as Buffer);
  const status = res.statusCode ?? 0;
  if (status === 200) {
    const etag = res.headers.etag;
    if (typeof etag !== 'string') throw new StorageError('PutObject', 'InternalError', status, 'no ETag');
    return { etag };
  }
  if (early !== undefined) req.destroy();
  const parsed = parseError(Buffer.concat(chunks).toString('utf8'));
  throw new StorageError(
    'PutObject',
    parsed?.code ?? codeForStatus(status),
    status,
    parsed?.message ?? res.statusMessage ?? '',
    { requestId: parsed?.requestId },
  );
}
