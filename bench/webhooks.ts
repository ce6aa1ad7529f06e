/**
 * Webhook delivery throughput: the dispatcher draining BENCH_EVENTS events (default 2000, each
 * its own upload) to a receiver on 127.0.0.1, next to the same number of signed POSTs sent by a
 * bare loop with the same concurrency and no database (the peer: what the HTTP and HMAC work
 * alone cost). The ratio is what the outbox costs per delivery: fan-out, the due list, and one
 * recorded outcome per request. SQLite always; PostgreSQL too when BENCH_PG_URL is set.
 * Run: npx node bench/webhooks.ts
 */

import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  createGateway,
  newEventId,
  newUploadId,
  parseConfig,
  secretKey,
  sign,
  silentLogger,
} from '@chute/gateway';
import pg from 'pg';
import { printTable } from './lib/table.ts';

const EVENTS = Number(process.env['BENCH_EVENTS'] ?? 2000);
const CONCURRENCY = 8;
const secret = `whsec_${randomBytes(32).toString('base64')}`;

let received = 0;
const server = http.createServer((req, res) => {
  req.resume();
  req.on('end', () => {
    received++;
    res.writeHead(204).end();
  });
});
server.listen(0, '127.0.0.1');
await new Promise((resolve) => server.once('listening', resolve));
const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/hooks`;

/** The peer: signed Standard Webhooks POSTs, CONCURRENCY at a time, nothing stored. */
async function barePosts(): Promise<number> {
  const key = secretKey(secret);
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: CONCURRENCY }, async () => {
      while (next < EVENTS) {
        next++;
        const id = newEventId();
        const body = `{"type":"upload.verified","timestamp":"${new Date().toISOString()}","data":{"id":"${newUploadId()}"}}`;
        const ts = Math.floor(Date.now() / 1000);
        const res = await fetch(url, {
          method: 'POST',
          body,
          redirect: 'manual',
          headers: {
            'content-type': 'application/json',
            'webhook-id': id,
            'webhook-timestamp': String(ts),
            'webhook-signature': sign(key, id, ts, body),
          },
        });
        await res.body?.cancel();
      }
    }),
  );
  return EVENTS / ((performance.now() - started) / 1000);
}

/** The dispatcher: EVENTS appended first (not timed), then rounds until every one is delivered. */
async function dispatcher(databaseUrl: string, schema?: string): Promise<number> {
  const config = parseConfig({
    storage: { endpoint: 'http://127.0.0.1:9', bucket: 'unused', accessKeyId: 'k', secretAccessKey: 's' },
    database: { url: databaseUrl },
    auth: { jwt: { secret: 'bench-secret-bench-secret-bench-secret-00' } },
    routes: [{ name: 'doc', types: ['text/plain'], maxSize: '1MB' }],
    webhooks: { endpoints: [{ id: 'bench', url, secret }], concurrency: CONCURRENCY },
  });
  const gateway = await createGateway(config, {
    logger: silentLogger(),
    sweep: false,
    dispatch: false,
    page: false,
    processMetrics: false,
    ...(schema !== undefined && { database: { schema } }),
  });
  try {
    for (let i = 0; i < EVENTS; i++) {
      const id = newUploadId();
      await gateway.services.repo.outbox.append({ type: 'upload.verified', uploadId: id, payload: { id } });
    }
    const before = received;
    const started = performance.now();
    let delivered = 0;
    while (delivered < EVENTS) delivered += (await gateway.dispatcher.once()).delivered;
    const rate = EVENTS / ((performance.now() - started) / 1000);
    if (received - before !== EVENTS) throw new Error(`receiver got ${received - before} of ${EVENTS}`);
    return rate;
  } finally {
    await gateway.close();
  }
}

const rows: string[][] = [['', 'deliveries/s', 'vs bare POSTs']];
const bare = await barePosts();
rows.push(['bare signed POSTs (peer)', bare.toFixed(0), '1.00']);
const dir = mkdtempSync(join(tmpdir(), 'chute-bench-webhooks-'));
try {
  const sqlite = await dispatcher(`sqlite:${join(dir, 'chute.db')}`);
  rows.push(['dispatcher, SQLite', sqlite.toFixed(0), (sqlite / bare).toFixed(2)]);
} finally {
  rmSync(dir, { recursive: true, force: true });
}
const pgUrl = process.env['BENCH_PG_URL'];
if (pgUrl !== undefined) {
  const schema = `chute_bench_${Date.now()}`;
  const admin = new pg.Client({ connectionString: pgUrl });
  await admin.connect();
  await admin.query(`CREATE SCHEMA ${schema}`);
  try {
    const rate = await dispatcher(pgUrl, schema);
    rows.push(['dispatcher, PostgreSQL', rate.toFixed(0), (rate / bare).toFixed(2)]);
  } finally {
    await admin.query(`DROP SCHEMA ${schema} CASCADE`);
    await admin.end();
  }
}
server.close();
console.log(`\n${EVENTS} webhooks, ${CONCURRENCY} at a time, to a receiver on 127.0.0.1\n`);
printTable(rows);
