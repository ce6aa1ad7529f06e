import { networkError } from '../errors.ts';
import { formBody } from './form.ts';
import { type StorageRequest, type StorageResponse, type Transport, withoutLength } from './types.ts';

/**
 * fetch with a streaming request body (`duplex: 'half'`): the file is read from its Blob (in Node,
 * `fs.openAsBlob`: from disk, never whole in memory) and counted as fetch pulls it. Chosen over
 * node:http because it is the same code in Node, Deno and Bun, takes the AbortSignal natively,
 * and its pull-based body gives progress with backpressure: bytes are counted when the socket
 * takes them, give or take one chunk. Node's fetch (undici) keeps an explicit Content-Length on a
 * stream body, which S3 requires (signed into PUT grants; POST Object refuses chunked bodies).
 * Browsers only stream request bodies over HTTP/2 and report no progress: they use xhr.ts.
 */
export const fetchTransport: Transport = {
  name: 'fetch',
  async send(request: StorageRequest): Promise<StorageResponse> {
    const { body } = request;
    const headers = withoutLength(request.headers);
    let stream: ReadableStream<Uint8Array>;
    let length: number;
    if (body.kind === 'bytes') {
      stream = counted(body.blob, request.onProgress);
      length = body.blob.size;
    } else {
      const form = formBody(body.fields, { size: body.file.size, filename: body.filename });
      stream = framed(form.head, counted(body.file, request.onProgress), form.tail);
      length = form.length;
      headers['content-type'] = form.contentType;
    }
    headers['content-length'] = String(length);
    try {
      const res = await fetch(request.url, {
        method: request.method,
        headers,
        body: stream,
        duplex: 'half',
        signal: request.signal,
      } as RequestInit);
      const text = await res.text();
      return { status: res.status, header: (n) => res.headers.get(n), text };
    } catch (e) {
      throw networkError(e, request.signal, `${request.method} to storage`);
    }
  },
};

function counted(blob: Blob, onProgress: ((n: number) => void) | undefined): ReadableStream<Uint8Array> {
  const source = blob.stream() as ReadableStream<Uint8Array>;
  if (onProgress === undefined) return source;
  let loaded = 0;
  return source.pipeThrough(
    new TransformStream<Uint8Array, Uint8Array>({
      transform(chunk, controller) {
        controller.enqueue(chunk);
        loaded += chunk.byteLength;
        onProgress(loaded);
      },
    }),
  );
}

/** head, then every chunk of `middle`, then tail; pulled, so nothing is read ahead of the socket. */
function framed(
  head: Uint8Array,
  middle: ReadableStream<Uint8Array>,
  tail: Uint8Array,
): ReadableStream<Uint8Array> {
  const reader = middle.getReader();
  let stage: 'head' | 'middle' | 'done' = 'head';
  return new ReadableStream<Uint8Array>({
    async pull(controller) {
      if (stage === 'head') {
        stage = 'middle';
        controller.enqueue(head);
        return;
      }
      if (stage === 'done') return;
      const { done, value } = await reader.read();
      if (!done) {
        controller.enqueue(value);
        return;
      }
      stage = 'done';
      controller.enqueue(tail);
      controller.close();
    },
    cancel(reason) {
      return reader.cancel(reason);
    },
  });
}
