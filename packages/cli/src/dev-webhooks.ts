import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';

/** One webhook as `chute dev`'s receiver saw it (the page's webhook log shows these). */
export interface DevDelivery {
  /** When it arrived (ISO). */
  receivedAt: string;
  /** webhook-id: the event id, the same on every retry. */
  id: string;
  type: string;
  uploadId: string | null;
  /** Whether the Standard Webhooks signature (and timestamp) verified. */
  verified: boolean;
  /** The verified body; absent when the signature failed. */
  body?: unknown;
}

export interface DevReceiver {
  /** Where the gateway posts (configured as the webhook endpoint `dev`). */
  url: string;
  /** The generated `whsec_` secret the gateway signs with. */
  secret: string;
  /** The last 50 deliveries, newest first: what GET /dev/webhooks answers (`{items}`). */
  recent(): { items: DevDelivery[] };
  close(): Promise<void>;
}

const KEEP = 50;
/** Our events are small JSON documents; anything bigger is not ours. */
const MAX_BODY = 1 << 20;
export const DEV_WEBHOOK_PATH = '/dev/webhooks';

/**
 * `chute dev`'s webhook receiver, so a newcomer sees events arrive: a server on 127.0.0.1 (any
 * free port) that checks each delivery as an app should — with the `standardwebhooks` package —
 * logs one line per delivery and keeps the last 50 (GET on the same path, and on the gateway's
 * `/dev/webhooks`). A bad signature is answered 401, so the gateway retries as it would for an app.
 */
export async function startDevReceiver(options: {
  host: string;
  onDelivery?: (d: DevDelivery) => void;
}): Promise<DevReceiver> {
  const secret = `whsec_${randomBytes(32).toString('base64')}`;
  const verifier = new Webhook(secret);
  const recent: DevDelivery[] = [];
  const server: Server = createServer(async (req, res) => {
    if (req.url !== DEV_WEBHOOK_PATH) return void res.writeHead(404).end();
    if (req.method === 'GET') {
      return void res
        .writeHead(200, { 'content-type': 'application/json' })
        .end(JSON.stringify({ items: recent }));
    }
    if (req.method !== 'POST') return void res.writeHead(405, { allow: 'GET, POST' }).end();
    const body = await readBody(req);
    if (body === undefined) return void res.writeHead(413).end();
    const header = (name: string) => String(req.headers[name] ?? '');
    let verified: unknown;
    let ok = true;
    try {
      verified = verifier.verify(body, {
        'webhook-id': header('webhook-id'),
        'webhook-timestamp': header('webhook-timestamp'),
        'webhook-signature': header('webhook-signature'),
      });
    } catch {
      ok = false;
    }
    // What the log shows of an unverified body is only what it claims to be.
    const claimed = safeJson(body) as { type?: unknown; data?: { id?: unknown } } | undefined;
    const d: DevDelivery = {
      receivedAt: new Date().toISOString(),
      id: header('webhook-id'),
      type: typeof claimed?.type === 'string' ? claimed.type : '?',
      uploadId: typeof claimed?.data?.id === 'string' ? claimed.data.id : null,
      verified: ok,
      ...(ok && { body: verified }),
    };
    recent.unshift(d);
    recent.length = Math.min(recent.length, KEEP);
    options.onDelivery?.(d);
    res.writeHead(ok ? 204 : 401).end();
  });
  server.listen(0, options.host);
  await once(server, 'listening');
  const { address, port, family } = server.address() as AddressInfo;
  const host = family === 'IPv6' ? `[${address}]` : address;
  return {
    url: `http://${host}:${port}${DEV_WEBHOOK_PATH}`,
    secret,
    recent: () => ({ items: [...recent] }),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_BODY) return undefined;
    chunks.push(c as Buffer);
  }
  return Buffer.concat(chunks).toString('utf8');
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
