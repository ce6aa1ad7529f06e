import { abortedError, ChuteClientError } from '../errors.ts';
import { type StorageRequest, type StorageResponse, type Transport, withoutLength } from './types.ts';

/**
 * The part of XMLHttpRequest used here, typed locally: the project compiles without the DOM lib,
 * and a structural type keeps this file honest about what it touches.
 */
interface Xhr {
  open(method: string, url: string): void;
  setRequestHeader(name: string, value: string): void;
  send(body: unknown): void;
  abort(): void;
  readonly status: number;
  readonly responseText: string;
  getResponseHeader(name: string): string | null;
  readonly upload: { onprogress: ((e: { loaded: number; total: number }) => void) | null };
  onload: (() => void) | null;
  onerror: (() => void) | null;
  onabort: (() => void) | null;
  ontimeout: (() => void) | null;
}

type XhrConstructor = new () => Xhr;
type FormDataLike = { append(name: string, value: string | Blob, filename?: string): void };

export function hasXhr(): boolean {
  return typeof (globalThis as { XMLHttpRequest?: unknown }).XMLHttpRequest === 'function';
}

/**
 * Browsers: XMLHttpRequest, the one API with upload progress events (fetch has none). The body is
 * the File itself (or a FormData holding it): the browser streams it from disk and sets
 * Content-Length, which scripts may not set.
 */
export const xhrTransport: Transport = {
  name: 'xhr',
  send(request: StorageRequest): Promise<StorageResponse> {
    const g = globalThis as unknown as { XMLHttpRequest: XhrConstructor; FormData: new () => FormDataLike };
    const { signal, body } = request;
    if (signal.aborted) return Promise.reject(abortedError(signal));
    const xhr = new g.XMLHttpRequest();
    return new Promise<StorageResponse>((resolve, reject) => {
      const onAbort = () => xhr.abort();
      const settle = (fn: () => void) => {
        signal.removeEventListener('abort', onAbort);
        xhr.upload.onprogress = xhr.onload = xhr.onerror = xhr.onabort = xhr.ontimeout = null;
        fn();
      };
      xhr.open(request.method, request.url);
      for (const [k, v] of Object.entries(withoutLength(request.headers))) xhr.setRequestHeader(k, v);
      const file = body.kind === 'bytes' ? body.blob : body.file;
      if (request.onProgress) {
        const report = request.onProgress;
        // A form's total includes its framing: scale to file bytes (exact at the end).
        xhr.upload.onprogress = (e) =>
          report(e.total > 0 ? Math.min(file.size, Math.round((e.loaded / e.total) * file.size)) : 0);
      }
      xhr.onload = () =>
        settle(() =>
          resolve({ status: xhr.status, header: (n) => xhr.getResponseHeader(n), text: xhr.responseText }),
        );
      const fail = (what: string) => () =>
        settle(() =>
          reject(
            signal.aborted
              ? abortedError(signal)
              : new ChuteClientError('network_error', `${request.method} to storage: ${what}`, {
                  source: 'client',
                }),
          ),
        );
      xhr.onerror = fail('network error (or the bucket\u2019s CORS rule does not allow this origin)');
      xhr.ontimeout = fail('timed out');
      xhr.onabort = fail('aborted');
      signal.addEventListener('abort', onAbort, { once: true });
      if (body.kind === 'bytes') xhr.send(body.blob);
      else {
        const form = new g.FormData();
        for (const [k, v] of body.fields) form.append(k, v);
        form.append('file', body.file, body.filename);
        xhr.send(form);
      }
    });
  },
};
