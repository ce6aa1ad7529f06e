// Watching requests must not change how node announces them: a server that does not handle
// 'checkContinue' itself (the gateway) must still get `Expect: 100-continue` requests as
// 'request', with node's own "100 Continue" sent — curl -T and the AWS SDK send that header on
// larger bodies and wait for the 100. (drainOnClose and guardSlowClients once listened on
// 'checkContinue' for every server, and the gateway then never answered such a request.)
import assert from 'node:assert/strict';
import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import { test } from 'node:test';
import { drainOnClose } from '../src/drain.ts';
import { guardSlowClients, slowClientOptions } from '../src/slow-clients.ts';

async function put(
  server: Server,
  body: string,
): Promise<{ status: number; text: string; continued: boolean }> {
  const { port } = server.address() as { port: number };
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = request({
      host: '127.0.0.1',
      port,
      method: 'PUT',
      path: '/x',
      headers: { expect: '100-continue', 'content-length': Buffer.byteLength(body) },
      timeout: 3000,
    });
    req.on('continue', () => {
      continued = true;
      req.end(body);
    });
    req.on('response', (res) => {
      let text = '';
      res.on('data', (d: Buffer) => {
        text += d;
      });
      res.on('end', () => resolve({ status: res.statusCode ?? 0, text, continued }));
    });
    req.on('timeout', () => req.destroy(new Error('no answer: the 100 never came')));
    req.on('error', reject);
  });
}

const echo = (server: Server) =>
  server.on('request', (req, res) => {
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
    });
    req.on('end', () => res.end(`got ${n}`));
  });

test('a server without a checkContinue listener: node sends the 100, the request arrives as request', async () => {
  const server = createServer(slowClientOptions());
  guardSlowClients(server);
  const drain = drainOnClose(server);
  echo(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    assert.deepEqual(await put(server, 'hello'), { status: 200, text: 'got 5', continued: true });
  } finally {
    await drain.close();
  }
});

test('a server that handles checkContinue itself still gets it, and the request is watched (drained)', async () => {
  const server = createServer(slowClientOptions());
  const drain = drainOnClose(server);
  guardSlowClients(server);
  let checked = 0;
  server.on('checkContinue', (req, res) => {
    checked++;
    res.writeContinue();
    let n = 0;
    req.on('data', (c: Buffer) => {
      n += c.length;
    });
    req.on('end', () => res.end(`checked ${n}`));
  });
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  try {
    assert.deepEqual(await put(server, 'hi'), { status: 200, text: 'checked 2', continued: true });
    assert.equal(checked, 1);
  } finally {
    await drain.close();
  }
});
