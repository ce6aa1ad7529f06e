// Closing the gateway's server: a socket that never sent a request (a browser's preconnect) must
// not hold shutdown; a request in flight still gets its response.
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request } from 'node:http';
import { connect } from 'node:net';
import { test } from 'node:test';
import { drainOnClose } from '../src/drain.ts';

async function listen(handler: Parameters<typeof createServer>[1]) {
  const server = createServer(handler);
  const drain = drainOnClose(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  return { drain, port };
}

test('a connected socket that never sent a request does not hold close()', async () => {
  const { drain, port } = await listen((_req, res) => res.end('ok'));
  const idle = connect(port, '127.0.0.1');
  await once(idle, 'connect');
  // And a keep-alive connection that has finished a request.
  const agent = new (await import('node:http')).Agent({ keepAlive: true });
  const res = await new Promise<import('node:http').IncomingMessage>((resolve) =>
    request({ port, host: '127.0.0.1', agent }, resolve).end(),
  );
  res.resume();
  await once(res, 'end');
  const started = performance.now();
  await drain.close();
  assert.ok(performance.now() - started < 1000, `close took ${performance.now() - started} ms`);
  idle.destroy();
  agent.destroy();
});

test('a request in flight when close() is called still gets its response', async () => {
  let arrived!: () => void;
  const inHandler = new Promise<void>((r) => {
    arrived = r;
  });
  const { drain, port } = await listen((_req, res) => {
    arrived();
    setTimeout(() => res.end('late but whole'), 200);
  });
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request({ port, host: '127.0.0.1' }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => {
        body += c.toString();
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
  await inHandler;
  const closed = drain.close();
  assert.deepEqual(await response, { status: 200, body: 'late but whole' });
  await closed;
});

test('a request with Expect: 100-continue in flight when close() is called still gets its response', async () => {
  // With a 'checkContinue' listener (the store has one), node emits that instead of 'request'.
  let arrived!: () => void;
  const inHandler = new Promise<void>((r) => {
    arrived = r;
  });
  const server = createServer();
  const handler = (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => {
    arrived();
    res.writeContinue();
    req.resume();
    req.on('end', () => setTimeout(() => res.end('whole'), 200));
  };
  server.on('request', handler);
  server.on('checkContinue', handler);
  const drain = drainOnClose(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  const response = new Promise<{ status: number; body: string }>((resolve, reject) => {
    const req = request(
      { port, host: '127.0.0.1', method: 'PUT', headers: { expect: '100-continue', 'content-length': 4 } },
      (res) => {
        let body = '';
        res.on('data', (c: Buffer) => {
          body += c.toString();
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      },
    );
    req.on('continue', () => req.end('body'));
    req.on('error', reject);
  });
  await inHandler;
  const closed = drain.close();
  assert.deepEqual(await response, { status: 200, body: 'whole' });
  await closed;
});
