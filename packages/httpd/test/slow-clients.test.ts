// Slow clients are cut loose: headers or a body trickled, a socket left silent. A client that is
// slow but not too slow, and a server that is itself slow to read, are not.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import { connect, type Socket } from 'node:net';
import { test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { guardSlowClients, type SlowClientLimits, slowClientOptions } from '../src/slow-clients.ts';

// Small limits so each case takes well under a second of waiting.
const LIMITS: Partial<SlowClientLimits> = {
  headersMs: 400,
  idleMs: 800,
  minBytesPerSec: 100,
  rateWindowMs: 300,
  checkEveryMs: 50,
};

async function serve(handler: RequestListener, limits = LIMITS) {
  const server = createServer(slowClientOptions(limits), handler);
  guardSlowClients(server, limits);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const open = () => new Promise<number>((r, j) => server.getConnections((e, n) => (e ? j(e) : r(n))));
  return { port, open, close: () => new Promise<void>((r) => server.close(() => r())) };
}

const readAll = (req: IncomingMessage, res: ServerResponse) => {
  let n = 0;
  req.on('data', (c: Buffer) => {
    n += c.length;
  });
  req.on('end', () => res.end(`got ${n}`));
};

/** Connects, runs `drive`, and resolves with what the server sent and when the socket closed. */
async function client(port: number, drive: (s: Socket) => Promise<void>) {
  const s = connect(port, '127.0.0.1');
  await once(s, 'connect');
  let got = '';
  s.on('data', (d: Buffer) => {
    got += d.toString('latin1');
  });
  const started = performance.now();
  // Node's socket timers are unref'd: a referenced deadline keeps the test alive to see them fire.
  const deadline = new AbortController();
  const closed = Promise.race([
    // Not events.once: it rejects on the 'error' (ECONNRESET) that a cut socket may emit first.
    new Promise<number>((resolve) => s.once('close', () => resolve(performance.now() - started))),
    sleep(10_000, Number.POSITIVE_INFINITY, { signal: deadline.signal }),
  ]);
  s.on('error', () => {});
  await drive(s).catch(() => {});
  const ms = await closed;
  deadline.abort();
  s.destroy();
  return { ms, got: () => got, socket: s };
}

/** Writes `text` a byte at a time, every `everyMs`, until done or the socket closes. */
async function trickle(s: Socket, text: string, everyMs: number): Promise<void> {
  for (const ch of text) {
    if (s.destroyed) return;
    s.write(ch);
    await sleep(everyMs);
  }
}

test('headers trickled a byte at a time: the socket is freed at the header deadline', async () => {
  const srv = await serve(readAll);
  const c = await client(srv.port, (s) =>
    trickle(s, `GET / HTTP/1.1\r\nHost: x\r\nX-Pad: ${'a'.repeat(200)}\r\n\r\n`, 20),
  );
  assert.ok(c.ms < 2000, `closed after ${c.ms} ms`);
  assert.match(c.got(), /^(HTTP\/1\.1 408|)/);
  assert.equal(await srv.open(), 0);
  await srv.close();
});

test('a socket that never sends anything is freed', async () => {
  const srv = await serve(readAll);
  const c = await client(srv.port, async () => {});
  assert.ok(c.ms < 2000, `closed after ${c.ms} ms`);
  assert.equal(await srv.open(), 0);
  await srv.close();
});

test('a body trickled below the minimum rate is cut, though no single gap reaches the idle timeout', async () => {
  let reached = false;
  const srv = await serve((req, res) => {
    reached = true;
    readAll(req, res);
  });
  const c = await client(srv.port, async (s) => {
    s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 1000\r\n\r\n');
    // 10 bytes/s: under the 100 bytes/s minimum, and a byte every 100 ms keeps the socket busy.
    await trickle(s, 'b'.repeat(1000), 100);
  });
  assert.ok(reached, 'the handler ran');
  assert.ok(c.ms < 3000, `closed after ${c.ms} ms`);
  assert.doesNotMatch(c.got(), /got 1000/);
  assert.equal(await srv.open(), 0);
  await srv.close();
});

test('a body above the minimum rate, and a small body sent slowly, both complete', async () => {
  const srv = await serve(readAll);
  // 200 bytes/s for 1.5 s: above the minimum in every window.
  const fast = await client(srv.port, async (s) => {
    s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 300\r\nConnection: close\r\n\r\n');
    for (let i = 0; i < 30; i++) {
      s.write('c'.repeat(10));
      await sleep(50);
    }
  });
  assert.match(fast.got(), /got 300/);
  // 5 bytes within a window: far below 100 bytes/s, but a window asks only for what is left.
  const small = await client(srv.port, async (s) => {
    s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nConnection: close\r\n\r\n');
    await trickle(s, 'ddddd', 40);
  });
  assert.match(small.got(), /got 5/);
  await srv.close();
});

test('a server slow to start reading does not blame its client', async () => {
  // The handler waits four windows before it reads (as the store holds back 100 Continue, or a
  // gateway authenticates); the client, waiting for it, sends nothing meanwhile.
  const srv = await serve(
    (req, res) => {
      setTimeout(() => readAll(req, res), 1200);
    },
    { ...LIMITS, idleMs: 5000 },
  );
  const c = await client(srv.port, async (s) => {
    s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\nConnection: close\r\n\r\n');
    await sleep(1300);
    s.write('e'.repeat(100));
  });
  assert.match(c.got(), /got 100/);
  await srv.close();
});

test('a server that pauses the body (backpressure) does not blame its client', async () => {
  const srv = await serve(
    (req, res) => {
      let n = 0;
      let paused = false;
      req.on('data', (chunk: Buffer) => {
        n += chunk.length;
        if (paused) return;
        // The disk is behind: the body is paused for three windows after its first bytes.
        paused = true;
        req.pause();
        setTimeout(() => req.resume(), 1000);
      });
      req.on('end', () => res.end(`got ${n}`));
    },
    { ...LIMITS, idleMs: 5000 },
  );
  const c = await client(srv.port, async (s) => {
    s.write('POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\nConnection: close\r\n\r\ngg');
    // Waiting on the server, the client sends the rest only once it reads again.
    await sleep(1100);
    s.write('gg');
  });
  assert.match(c.got(), /got 4/);
  await srv.close();
});

test('a client that stops reading the response is freed at the idle timeout', async () => {
  const srv = await serve((_req, res) => {
    // Far more than the socket buffers hold: the writes stall once the client stops reading.
    const chunk = Buffer.alloc(1024 * 1024, 'h');
    let sent = 0;
    const more = () => {
      while (sent < 256 && !res.destroyed) {
        sent++;
        if (!res.write(chunk)) return void res.once('drain', more);
      }
      res.end();
    };
    more();
  });
  const s = connect(srv.port, '127.0.0.1');
  await once(s, 'connect');
  s.write('GET / HTTP/1.1\r\nHost: x\r\n\r\n');
  await sleep(100);
  // A paused socket never reads the server's close: watch the server's side instead.
  s.pause();
  const started = performance.now();
  while ((await srv.open()) > 0 && performance.now() - started < 5000) await sleep(50);
  const ms = performance.now() - started;
  assert.ok(ms < 3000, `the server still held the socket after ${ms} ms`);
  s.destroy();
  await srv.close();
});
