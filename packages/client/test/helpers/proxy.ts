import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A real HTTP proxy on 127.0.0.1 in front of a real server (the gateway or the store): it
 * forwards every request untouched (Host included, so SigV4 signatures still verify) unless
 * `fault` says to answer it itself — a 503 page as a load balancer would send, or a reset
 * connection, or no answer at all. It is how the tests meet failures without mocking the servers behind it.
 */
export type Fault = { status: number; headers?: Record<string, string>; body?: string } | 'reset' | 'hang';

export interface TestProxy {
  url: string;
  /** Every request seen, in order, e.g. "PUT /bucket/incoming/…". */
  seen: string[];
  /** Body bytes received of each request in `seen` (so far). */
  bodyBytes: number[];
  /** Requests being answered now, and the most there were at once (since it was last reset). */
  active: number;
  maxActive: number;
  fault: ((req: IncomingMessage, index: number) => Fault | undefined) | undefined;
  close(): Promise<void>;
}

export async function startProxy(target: string): Promise<TestProxy> {
  const to = new URL(target);
  const proxy: TestProxy = {
    url: '',
    seen: [],
    bodyBytes: [],
    active: 0,
    maxActive: 0,
    fault: undefined,
    close: async () => {},
  };
  const handle = (req: IncomingMessage, res: ServerResponse, expectsContinue: boolean) => {
    const index = proxy.seen.length;
    proxy.seen.push(`${req.method} ${(req.url ?? '').split('?')[0]}`);
    proxy.bodyBytes.push(0);
    proxy.active++;
    proxy.maxActive = Math.max(proxy.maxActive, proxy.active);
    res.on('close', () => proxy.active--);
    req.on('data', (b: Buffer) => {
      proxy.bodyBytes[index]! += b.length;
    });
    const fault = proxy.fault?.(req, index);
    if (fault === 'reset') {
      req.socket.destroy();
      return;
    }
    if (fault === 'hang') return; // never answered (until close() drops the connection)
    if (fault !== undefined) {
      const answer = () => {
        res.writeHead(fault.status, { 'content-type': 'text/html', ...fault.headers });
        res.end(fault.body ?? `<html><body><h1>${fault.status}</h1></body></html>`);
      };
      // A client waiting for 100 (Continue) sends no body: answer now. Otherwise once the body is
      // read: a reply while the client still sends, then a close, reaches it as a reset or as the
      // reply depending on timing.
      if (expectsContinue) answer();
      else {
        req.resume();
        req.on('end', answer);
      }
      return;
    }
    const upstream = http.request(
      { host: to.hostname, port: to.port, method: req.method, path: req.url, headers: req.headers },
      (up) => {
        res.writeHead(up.statusCode ?? 502, up.headers);
        up.pipe(res);
      },
    );
    upstream.on('error', () => res.destroy());
    req.on('error', () => upstream.destroy());
    res.on('close', () => {
      if (!res.writableFinished || !upstream.writableFinished) upstream.destroy();
    });
    // 100-continue is passed through: the body follows only once the server behind agreed.
    if (expectsContinue)
      upstream.on('continue', () => {
        res.writeContinue();
        req.pipe(upstream);
      });
    else req.pipe(upstream);
  };
  const server = http.createServer((req, res) => handle(req, res, false));
  server.on('checkContinue', (req, res) => handle(req, res, true));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  proxy.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  proxy.close = () =>
    new Promise((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    });
  return proxy;
}
