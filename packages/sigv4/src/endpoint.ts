/** An endpoint origin, parsed once: signing in a loop must not run the URL parser every time. */
export interface Endpoint {
  /** 'https://host:port' without a trailing slash */
  origin: string;
  /** The Host header a client sends: hostname plus a non-default port. */
  host: string;
}

const parsed = new Map<string, Endpoint>();

export function parseEndpoint(endpoint: string): Endpoint {
  let e = parsed.get(endpoint);
  if (e === undefined) {
    const url = new URL(endpoint);
    if ((url.pathname !== '/' && url.pathname !== '') || url.search !== '' || url.hash !== '') {
      throw new TypeError(`endpoint must be an origin without path or query: ${endpoint}`);
    }
    e = { origin: url.origin, host: url.host };
    // Bounded: endpoints are configuration, but never let a caller grow this without limit.
    if (parsed.size >= 64) parsed.clear();
    parsed.set(endpoint, e);
  }
  return e;
}
