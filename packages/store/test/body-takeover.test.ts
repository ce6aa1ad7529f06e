/**
 * body/takeover.ts on a bare node:http server: large bodies read from the socket into reused
 * memory, everything else left to node:http. Bad inputs tried: a body cut off by the client, a
 * body sent to a handler that refuses it, two Content-Length headers, Content-Length with
 * Transfer-Encoding, a trickled body, a pipelined request glued to the end of a large body at
 * every split point, and a handler whose sink stalls (the socket must stop being read).
 */
import assert from 'node:assert/strict';
import { createHash, randomBytes } from 'node:crypto';
import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import net, { type AddressInfo } from 'node:net';
import { after, before, test } from 'node:test';
import type { SocketBody } from '../src/body/socket-body.ts';
import { enableBodyTakeover, takeBody } from '../src/body/takeover.ts';

const MIN = 1000;
type Handler = (req: IncomingMessage, res: ServerResponse, body: SocketBody | undefined) => void;
let handler: Handler;
let server: http.Server;
let port: number;
const sockets = new Set<net.Socket>();

/** Answers `taken <md5>` (a taken body) or `plain <md5>` (node:http's). */
const echoMd5: Handler = (req, res, body) => {
  const h = createHash('md5');
  if (!body) {
    req.on('data', (c: Buffer) => h.update(c));
    req.on('end', () => res.end(`plain ${h.digest('hex')}`));
    return;
  }
  body
    .consume((c) => {
      h.update(c);
      // A writer that is sometimes behind: the chunk must stay intact until this settles.
      if (Math.random() < 0.3) return new Promise((r) => setTimeout(r, 1));
      return undefined;
    })
    .then(
      () => res.end(`taken ${h.digest('hex')}`),
      (e: Error) => res.end(`error ${e.message}`),
    );
};

before(async () => {
  server = http.createServer((req, res) => handler(req, res, takeBody(req, res)));
  server.on('checkContinue', (req, res) => handler(req, res, takeBody(req, res)));
  server.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  enableBodyTakeover(server, { minBytes: MIN, rate: { minBytesPerSec: 2000, rateWindowMs: 300 } });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});
after(async () => {
  for (const s of sockets) s.destroy();
  await new Promise((r) => server.close(r));
});

const md5 = (b: Buffer | string) => createHash('md5').update(b).digest('hex');
/** How a body's consume() ended, as text: 'resolved', or the error's message. */
const settled = (body: SocketBody) =>
  body
    .consume(() => undefined)
    .then(
      () => 'resolved',
      (e: Error) => e.message,
    );
const head = (method: string, path: string, headers: Record<string, string | number>) =>
  `${method} ${path} HTTP/1.1\r\nHost: x\r\n${Object.entries(headers)
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}\r\n`;

/** Sends `pieces` on one connection, each after the last was flushed; resolves with all it read. */
function converse(
  pieces: (Buffer | string)[],
  opts: { until: (text: string) => boolean; gapMs?: number },
): Promise<string> {
  return new Promise((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let text = '';
    c.on('data', (d) => {
      text += d.toString('latin1');
      if (opts.until(text)) {
        c.destroy();
        resolve(text);
      }
    });
    c.on('error', reject);
    c.on('close', () => resolve(text));
    (async () => {
      for (const p of pieces) {
        await new Promise<void>((r) => c.write(p, () => r()));
        if (opts.gapMs) await new Promise((r) => setTimeout(r, opts.gapMs));
      }
    })().catch(reject);
  });
}

const count = (text: string, s: string) => text.split(s).length - 1;

test('a large body, then pipelined requests on the same connection, at every split of the bytes', async () => {
  handler = echoMd5;
  const body = randomBytes(3 * 64 * 1024 + 777);
  const wire = Buffer.concat([
    Buffer.from(head('PUT', '/a', { 'content-length': body.length })),
    body,
    Buffer.from(head('PUT', '/b', { 'content-length': 5 })),
    Buffer.from('hello'),
    Buffer.from(head('GET', '/c', {})),
  ]);
  const want = [`taken ${md5(body)}`, `plain ${md5('hello')}`, `plain ${md5('')}`];
  // Splits inside the head, at its end, inside the body, at its end, inside the next head.
  const headLen = wire.indexOf('\r\n\r\n') + 4;
  for (const at of [
    10,
    headLen - 1,
    headLen,
    headLen + 1,
    headLen + body.length - 1,
    headLen + body.length,
    headLen + body.length + 3,
  ]) {
    const text = await converse([wire.subarray(0, at), wire.subarray(at)], {
      until: (t) => count(t, 'HTTP/1.1 200') === 3 && want.every((w) => t.includes(w)),
      gapMs: 5,
    });
    for (const w of want) assert.ok(text.includes(w), `split at ${at}: ${w} in ${text}`);
    // In order: node:http still answers pipelined requests one after another.
    assert.ok(
      text.indexOf(want[0]!) < text.indexOf(want[1]!) && text.indexOf(want[1]!) < text.indexOf(want[2]!),
    );
  }
});

test('two large bodies back to back on one connection (keep-alive), all in one write', async () => {
  handler = echoMd5;
  const a = randomBytes(200_000);
  const b = randomBytes(5000);
  const wire = Buffer.concat([
    Buffer.from(head('PUT', '/a', { 'content-length': a.length })),
    a,
    Buffer.from(head('POST', '/b', { 'content-length': b.length })),
    b,
  ]);
  const text = await converse([wire], {
    until: (t) => t.includes(`taken ${md5(b)}`),
  });
  assert.ok(text.includes(`taken ${md5(a)}`), text);
  assert.ok(text.includes(`taken ${md5(b)}`), text);
});

test('not taken: small, two Content-Length headers, Transfer-Encoding — node:http keeps them', async () => {
  handler = echoMd5;
  const small = await converse([head('PUT', '/s', { 'content-length': 10 }), '0123456789'], {
    until: (t) => t.includes('plain'),
  });
  assert.ok(small.includes(`plain ${md5('0123456789')}`), small);
  // Two lengths: node:http's parser refuses the request (400), as without the takeover.
  const twice = await converse(
    [`PUT /d HTTP/1.1\r\nHost: x\r\nContent-Length: 2000\r\nContent-Length: 2001\r\n\r\n`],
    {
      until: (t) => t.includes('\r\n\r\n'),
    },
  );
  assert.match(twice, /^HTTP\/1.1 400/);
  const chunked = randomBytes(3000);
  const te = await converse(
    [
      head('PUT', '/t', { 'transfer-encoding': 'chunked' }),
      `${chunked.length.toString(16)}\r\n`,
      chunked,
      '\r\n0\r\n\r\n',
    ],
    { until: (t) => t.includes('plain') },
  );
  assert.ok(te.includes(`plain ${md5(chunked)}`), te);
});

test('a stalled sink stops the socket: nothing more is read until it settles (backpressure)', async () => {
  let release!: () => void;
  let serverSocket!: net.Socket;
  const stalled = new Promise<void>((r) => {
    release = r;
  });
  let first = true;
  const h = createHash('md5');
  handler = (_req, res, body) => {
    serverSocket = res.socket as net.Socket;
    body!
      .consume((c) => {
        h.update(c);
        if (!first) return undefined;
        first = false;
        return stalled;
      })
      .then(() => res.end(`taken ${h.digest('hex')}`));
  };
  const body = randomBytes(32 * 1024 * 1024);
  const done = converse([head('PUT', '/slow', { 'content-length': body.length }), body], {
    until: (t) => t.includes('taken'),
  });
  await new Promise((r) => setTimeout(r, 300));
  // One read (64 KiB at most) after the head, then nothing: the kernel's buffers take the rest.
  const read = serverSocket.bytesRead;
  await new Promise((r) => setTimeout(r, 200));
  assert.equal(serverSocket.bytesRead, read);
  assert.ok(read < 256 * 1024, `read ${read} bytes while the sink stalled`);
  release();
  assert.ok((await done).includes(`taken ${md5(body)}`));
});

test('a client that goes away mid-body: consume rejects, nothing is left waiting', async () => {
  let rejected: Promise<string> | undefined;
  handler = (_req, _res, body) => {
    rejected = settled(body!);
  };
  const c = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => c.once('connect', r));
  c.write(head('PUT', '/gone', { 'content-length': 100_000 }));
  c.write(randomBytes(40_000));
  await new Promise((r) => setTimeout(r, 100));
  c.destroy();
  for (let i = 0; i < 50 && !rejected; i++) await new Promise((r) => setTimeout(r, 10));
  assert.equal(await rejected, 'request closed before its body ended');
});

test('Expect: 100-continue — "100 Continue" when the handler reads; a refusal sends none', async () => {
  handler = echoMd5;
  const body = randomBytes(4000);
  const ok = await new Promise<string>((resolve, reject) => {
    const c = net.connect(port, '127.0.0.1');
    let text = '';
    c.on('data', (d) => {
      text += d;
      if (text.startsWith('HTTP/1.1 100 Continue\r\n\r\n') && !text.includes('taken')) c.write(body);
      if (text.includes('taken')) {
        c.destroy();
        resolve(text);
      }
    });
    c.on('error', reject);
    c.write(head('PUT', '/e', { 'content-length': body.length, expect: '100-continue' }));
  });
  assert.match(ok, /^HTTP\/1.1 100 Continue\r\n\r\nHTTP\/1.1 200/);
  assert.ok(ok.includes(`taken ${md5(body)}`));

  handler = (_req, res, body) => {
    res.writeHead(403, { connection: 'close' }).end('no');
    body!.discard();
  };
  const refused = await converse(
    [head('PUT', '/e', { 'content-length': body.length, expect: '100-continue' })],
    {
      until: (t) => t.endsWith('no'),
    },
  );
  assert.match(refused, /^HTTP\/1.1 403/);
  assert.ok(!refused.includes('100 Continue'));
});

test('a refused body that is sent anyway is read and dropped; the connection carries on', async () => {
  handler = (req, res, body) => {
    if (body) {
      res.end('refused');
      body.discard();
    } else echoMd5(req, res, body);
  };
  const big = randomBytes(150_000);
  const text = await converse(
    [
      head('PUT', '/r', { 'content-length': big.length }),
      big,
      head('PUT', '/n', { 'content-length': 3 }),
      'abc',
    ],
    { until: (t) => t.includes('plain') },
  );
  assert.ok(text.includes('refused'), text);
  assert.ok(text.includes(`plain ${md5('abc')}`), text);
});

test('a body trickled below the minimum rate is cut off', async () => {
  let outcome: Promise<string> | undefined;
  handler = (_req, _res, body) => {
    outcome = settled(body!);
  };
  const c = net.connect(port, '127.0.0.1');
  await new Promise<void>((r) => c.once('connect', r));
  c.write(head('PUT', '/trickle', { 'content-length': 50_000 }));
  const closed = new Promise<void>((r) => c.once('close', () => r()));
  c.on('error', () => {});
  // 10 bytes every 100 ms: 100 B/s, under the 2000 B/s asked for over 300 ms windows.
  const t = setInterval(() => c.write('0123456789'), 100);
  await closed;
  clearInterval(t);
  assert.equal(await outcome, 'request closed before its body ended');
});

test('a sink that fails mid-body: the handler answers, the rest is dropped, the connection carries on', async () => {
  handler = (req, res, body) => {
    if (!body) return echoMd5(req, res, body);
    let seen = 0;
    body
      .consume((c) => {
        seen += c.length;
        if (seen > 70_000) throw new Error('disk full');
        return seen > 10_000 ? new Promise((r) => setTimeout(r, 1)) : undefined;
      })
      .catch((e: Error) => {
        res.end(`failed ${e.message}`);
        body.discard();
      });
  };
  const big = randomBytes(300_000);
  const text = await converse(
    [
      head('PUT', '/f', { 'content-length': big.length }),
      big,
      head('PUT', '/n', { 'content-length': 3 }),
      'xyz',
    ],
    { until: (t) => t.includes('plain') },
  );
  assert.ok(text.includes('failed disk full'), text);
  assert.ok(text.includes(`plain ${md5('xyz')}`), text);
});
