import { once } from 'node:events';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** What the receiver does with one request: answer this status, or never answer. */
export type Behaviour =
  | number
  | 'hang'
  | { status: number; headers?: Record<string, string>; delayMs?: number };

export interface Received {
  headers: Record<string, string>;
  body: string;
  /** The standardwebhooks package's verdict on the signature (and timestamp). */
  verified: boolean;
  error?: string;
  /** The parsed body. */
  json: { type: string; timestamp: string; data: Record<string, unknown> };
  answered: number | 'hang';
}

export interface Receiver {
  url: string;
  received: Received[];
  /** Requests answered with a 2xx. */
  delivered(): Received[];
  /** Decides each answer; `n` counts requests from 0. Settable at any time. */
  behave: (r: Received, n: number) => Behaviour;
  /** Requests at once, at most, so far. */
  maxConcurrent: number;
  /** Resolves once `n` requests have arrived (rejects after `ms`). */
  waitFor(n: number, ms?: number): Promise<void>;
  close(): Promise<void>;
}

/**
 * A webhook receiver on 127.0.0.1, as an app would write one: it verifies every request with the
 * `standardwebhooks` package against `secret` and records it, then answers as `behave` says.
 */
export async function startReceiver(
  secret: string,
  behave: Receiver['behave'] = () => 204,
): Promise<Receiver> {
  const verifier = new Webhook(secret);
  const waiters: { n: number; resolve: () => void }[] = [];
  let concurrent = 0;
  const server = createServer(async (req: IncomingMessage, res) => {
    concurrent++;
    receiver.maxConcurrent = Math.max(receiver.maxConcurrent, concurrent);
    res.on('close', () => concurrent--);
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const body = Buffer.concat(chunks).toString('utf8');
    const headers = Object.fromEntries(
      Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(', ') : (v ?? '')]),
    );
    const r: Received = { headers, body, verified: false, json: JSON.parse(body), answered: 'hang' };
    try {
      verifier.verify(body, headers);
      r.verified = true;
    } catch (e) {
      r.error = (e as Error).message;
    }
    const n = receiver.received.length;
    receiver.received.push(r);
    for (const w of waiters.filter((w) => receiver.received.length >= w.n)) w.resolve();
    const b = receiver.behave(r, n);
    if (b === 'hang') return; // never answers; close() drops the socket
    const { status, headers: answer = {}, delayMs = 0 } = typeof b === 'number' ? { status: b } : b;
    r.answered = status;
    if (delayMs > 0) await new Promise((resolve) => setTimeout(resolve, delayMs));
    res.writeHead(status, answer).end();
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as AddressInfo;
  const receiver: Receiver = {
    url: `http://127.0.0.1:${port}/hooks`,
    received: [],
    delivered: () => receiver.received.filter((r) => typeof r.answered === 'number' && r.answered < 300),
    behave,
    maxConcurrent: 0,
    waitFor(n, ms = 5000) {
      if (receiver.received.length >= n) return Promise.resolve();
      return new Promise((resolve, reject) => {
        const timer = setTimeout(
          () => reject(new Error(`receiver got ${receiver.received.length} of ${n}`)),
          ms,
        );
        waiters.push({
          n,
          resolve: () => {
            clearTimeout(timer);
            resolve();
          },
        });
      });
    },
    async close() {
      server.closeAllConnections();
      server.close();
      await once(server, 'close').catch(() => {});
    },
  };
  return receiver;
}

/** A fresh Standard Webhooks secret: whsec_ + base64 of 32 random bytes. */
export function newSecret(): string {
  return `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`;
}
