// Issue 14, database faults, on SQLite (a real file, the real store over HTTP): the database full
// (`PRAGMA max_page_count` at the file's size: SQLITE_FULL, as on a full disk) and read-only
// (`PRAGMA query_only`: SQLITE_READONLY, as for a read-only mount), set on the gateway's own
// connection (one per file and process). Grants and completes answer 503 `unavailable` with a
// Retry-After (never a 500), nothing is half-written (tables checked), nothing stored is lost,
// and everything works again once the condition clears. PostgreSQL read-only: test/faults.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { setTimeout as sleep } from 'node:timers/promises';
import { HeadObjectCommand } from '@aws-sdk/client-s3';
import { SqliteDriver } from '../src/db/sqlite.ts';
import { route } from '../src/rules/builder.ts';
import type { Storage } from '../src/storage/types.ts';
import { halfWritten } from './helpers/consistency.ts';
import { type GrantJson, type Harness, startHarness, upload } from './helpers/e2e.ts';
import { type Engine, sqliteEngine } from './helpers/engines.ts';

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');

describe('database faults (SQLite): full, read-only', () => {
  let engine: Engine;
  let h: Harness;
  /** The gateway's own connection (SqliteDriver shares one per file in a process). */
  let side: SqliteDriver;
  let token: string;
  /** Runs once after the next freeze copy (the regression test's fault). */
  let afterCopy: (() => Promise<void>) | undefined;
  let n = 0;

  before(async () => {
    engine = sqliteEngine();
    h = await startHarness(engine, 'dbfaults', {
      routes: [route('doc').types('text/plain').maxSize('1MB').method('put')],
      sweeper: { claimTimeoutMs: 1000 },
      wrapStorage: (real) =>
        new Proxy(real, {
          get(target, p) {
            if (p === 'copy')
              return async (...args: Parameters<Storage['copy']>) => {
                await target.copy(...args);
                const hook = afterCopy;
                afterCopy = undefined;
                await hook?.();
              };
            const v = Reflect.get(target, p, target);
            return typeof v === 'function' ? v.bind(target) : v;
          },
        }),
    });
    side = await SqliteDriver.open(engine.url.slice('sqlite:'.length));
    token = await h.token('dbfaults-user');
  });

  after(async () => {
    await side.exec('PRAGMA query_only = OFF; PRAGMA max_page_count = 1073741823');
    await side.close();
    await h.close();
    await engine.cleanup();
  });

  const text = () => Buffer.from(`file ${n++} ${'x'.repeat(200 + n)}\n`);
  const grant = (bytes: Buffer) =>
    h.api('/v1/grants', {
      token,
      json: { route: 'doc', filename: `f${n}.txt`, contentType: 'text/plain', size: bytes.length },
    });
  const complete = (id: string) => h.api(`/v1/uploads/${id}/complete`, { method: 'POST', token });
  const count = async (table: string) =>
    Number((await side.all<{ n: number }>(`SELECT count(*) AS n FROM ${table}`))[0]!.n);

  async function stored(): Promise<{ id: string; bytes: Buffer }> {
    const bytes = text();
    const g = await grant(bytes);
    assert.equal(g.status, 201, await g.clone().text());
    const body = (await g.json()) as GrantJson;
    assert.equal((await upload(body, bytes)).status, 200);
    return { id: body.id, bytes };
  }

  async function verified(): Promise<{ id: string; bytes: Buffer }> {
    const s = await stored();
    const c = await complete(s.id);
    assert.equal(c.status, 200);
    assert.equal(((await c.json()) as { state: string }).state, 'verified');
    return s;
  }

  /** The file behind the download link has the bytes that were sent. */
  async function readable(f: { id: string; bytes: Buffer }): Promise<void> {
    const link = await h.api(`/v1/files/${f.id}/download`, {
      token,
      headers: { accept: 'application/json' },
    });
    assert.equal(link.status, 200);
    const { url } = (await link.json()) as { url: string };
    assert.equal(md5(new Uint8Array(await (await fetch(url)).arrayBuffer())), md5(f.bytes));
  }

  /** A 503 with the registry's code and a Retry-After in seconds. */
  async function assertUnavailable(res: Response, what: string): Promise<void> {
    assert.equal(res.status, 503, `${what}: ${res.status} ${await res.clone().text()}`);
    assert.equal(((await res.json()) as { error: { code: string } }).error.code, 'unavailable');
    assert.match(res.headers.get('retry-after') ?? '', /^\d+$/, `${what}: Retry-After`);
  }

  test('full (SQLITE_FULL): grants and completes answer 503 unavailable; nothing half-written or lost; it recovers', async (t) => {
    const kept = [await verified(), await verified()];
    const pending = await stored(); // uploaded, not completed, when the disk fills
    const pages = Number((await side.all<{ page_count: number }>('PRAGMA page_count'))[0]!.page_count);
    await side.exec(`PRAGMA max_page_count = ${pages}`);
    // Grants until the file has no room left (free space in its last pages takes a few).
    let admitted = 0;
    let refused: Response | undefined;
    for (let i = 0; i < 500 && refused === undefined; i++) {
      const res = await grant(text());
      if (res.status === 201) admitted++;
      else refused = res;
      await res.body?.cancel().catch(() => {});
    }
    assert.ok(refused !== undefined, 'the database never filled');
    await assertUnavailable(await grant(text()), 'grant while full');
    const rows = await count('uploads');
    // A complete while full: refused, or (its rows fitting in pages already there) done; never
    // a 500, and the bytes are never lost either way.
    const c = await complete(pending.id);
    if (c.status !== 200) await assertUnavailable(c, 'complete while full');
    for (const f of kept) await readable(f);
    assert.equal(await count('uploads'), rows, 'a refused grant left a row');
    assert.deepEqual(await halfWritten(side), []);

    await side.exec('PRAGMA max_page_count = 1073741823');
    assert.equal((await grant(text())).status, 201);
    // Should the complete have stopped between its claim and its record, the sweeper hands the
    // claim back after claimTimeoutMs and the retry verifies it.
    await sleep(1100);
    await h.gateway.sweeper.once();
    const again = await complete(pending.id);
    assert.equal(again.status, 200);
    assert.equal(((await again.json()) as { state: string }).state, 'verified');
    await readable(pending);
    assert.deepEqual(await halfWritten(side), []);
    t.diagnostic(`${admitted} grants fitted before SQLITE_FULL; first complete while full: ${c.status}`);
  });

  test('read-only (SQLITE_READONLY): writes answer 503 unavailable, reads still work; it recovers', async () => {
    const kept = await verified();
    const pending = await stored();
    const before = {
      uploads: await count('uploads'),
      audit: await count('audit'),
      events: await count('events'),
    };
    await side.exec('PRAGMA query_only = ON');
    try {
      await assertUnavailable(await grant(text()), 'grant while read-only');
      await assertUnavailable(await complete(pending.id), 'complete while read-only');
      const view = await h.api(`/v1/uploads/${kept.id}`, { token });
      assert.equal(view.status, 200);
      await readable(kept);
      const now = {
        uploads: await count('uploads'),
        audit: await count('audit'),
        events: await count('events'),
      };
      assert.deepEqual(now, before);
    } finally {
      await side.exec('PRAGMA query_only = OFF');
    }
    // The refused complete changed nothing: its bytes are still there and it completes now.
    const again = await complete(pending.id);
    assert.equal(again.status, 200);
    await readable(pending);
    assert.deepEqual(await halfWritten(side), []);
  });

  test('the database fails between the freeze and its record: a retried complete still verifies the file', async () => {
    // Regression (found by test/faults, a gateway killed mid-complete): the incoming object was
    // deleted before the state was recorded, so the retry after the claim's hand-back found
    // nothing (409) and the grant expired with its file frozen but never recorded.
    const f = await stored();
    afterCopy = () => side.exec('PRAGMA query_only = ON');
    try {
      await assertUnavailable(await complete(f.id), 'complete whose record failed');
    } finally {
      await side.exec('PRAGMA query_only = OFF');
    }
    const [row] = await side.all<{ state: string; incoming_key: string }>(
      'SELECT state, incoming_key FROM uploads WHERE id = ?',
      [f.id],
    );
    assert.equal(row?.state, 'uploaded', 'the claim could not be handed back either');
    await h.s3.send(new HeadObjectCommand({ Bucket: h.bucket, Key: row.incoming_key })); // still there
    await sleep(1100);
    assert.equal((await h.gateway.sweeper.once()).reclaimed, 1);
    const again = await complete(f.id);
    assert.equal(again.status, 200, await again.clone().text());
    assert.equal(((await again.json()) as { state: string }).state, 'verified');
    await readable(f);
    await assert.rejects(h.s3.send(new HeadObjectCommand({ Bucket: h.bucket, Key: row.incoming_key })));
    assert.deepEqual(await halfWritten(side), []);
  });
});
