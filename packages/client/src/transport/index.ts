import { fetchTransport } from './fetch.ts';
import type { StorageRequest, Transport } from './types.ts';
import { hasXhr, xhrTransport } from './xhr.ts';

export { fetchTransport } from './fetch.ts';
export type { StorageBody, StorageRequest, StorageResponse, Transport } from './types.ts';
export { xhrTransport } from './xhr.ts';

/**
 * node:http, loaded on first use: a browser importing this package never asks for node:http.
 * Elsewhere without node:http (Deno without Node compatibility, workers), fetch.
 */
export const nodeTransport: Transport = {
  name: 'node:http',
  async send(request: StorageRequest) {
    const { nodeHttpTransport } = await import('./node-http.ts');
    return nodeHttpTransport.send(request);
  },
};

/** XMLHttpRequest where there is one (browsers: the only way to see upload progress), else node:http. */
export function defaultTransport(): Transport {
  if (hasXhr()) return xhrTransport;
  const isNode =
    typeof (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node ===
    'string';
  return isNode ? nodeTransport : fetchTransport;
}
