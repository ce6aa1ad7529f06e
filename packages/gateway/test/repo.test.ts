import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ChuteError } from '@chute/errors';
import {
  type Driver,
  MIGRATIONS,
  migrate,
  type NewGrant,
  openDriver,
  type QuotaLimits,
  Repo,
} from '../src/db/index.ts';
import { randomBase62 } from '../src/domain/ids.ts';
import { type Engine, postgresEngine, sqliteEngine } from './helpers/engines.ts';
import { newGrant } from './helpers/grants.ts';

const engines: Engine[] = [sqliteEngine(), await postgresEngine()];

const T0 = Date.UTC(2026, 10, 21, 12, 0, 0);
const LOOSE: QuotaLimits = { pendingGrants: 1000, bytesPerDay: 1e12, grantsPerMinute: 1000 };

/** A fresh user per test, so tests share one database without seeing each other's rows. */
const newUser = () => `u${randomBase62(8)}`;

const grant = (userId: string, patch: Partial<NewGrant> = {}, now = T0) => newGrant(userId, patch, now);

/**
 * Runs the migrations once more on a fresh connection and checks every one is recorded exactly
 * once; returns what that extra run applied (nothing, when the database is up to date).
 */
async function assertMigratedOnce(engine: Engine): Promise<number[]> {
  const driver = await openDriver(engine.url, engine.options);
  try {
    const applied = await migrate(driver);
    const rows = await driver.all<{ version: number }>('SELECT version FROM schema_migrations');
    assert.deepEqual(
      rows.map((r) => Number(r.version)).sort(),
      MIGRATIONS.map((m) => m.version),
    );
    return applied;
  } finally {
    await driver.close();
  }
}

const quotaError = (quota: string) => (e: unknown) =>
  e instanceof ChuteError && e.code === 'quota_exceeded' && e.details?.quota === quota;

for (const engine of engines) {
  describe(`repo on ${engine.name}`, { skip: engine.skip }, () => {
    let now = T0;
    let repo: Repo;
    const open = () => Repo.open(engine.url, { ...engine.options, clock: () => now });

    before(async () => {
      repo = await open();
    });
    after(async () => {
      await repo?.close();
      await engine.cleanup();
    });

    test('migrations are recorded once; re-running applies nothing', async () => {
      assert.deepEqual(await assertMigratedOnce(engine), []);
      const again = await open(); // a second instance starting on the same database
      await again.close();
    });

    test('a failing migration rolls back the ones before it in the same run', async () => {
      const driver = await openDriver(engine.url, engine.options);
      try {
        const ok = { version: 100, name: 'ok', sql: 'CREATE TABLE t_ok (a INTEGER)' };
        const bad = { version: 101, name: 'bad', sql: 'CREATE TABLE t_bad (a INTEGR NOT NULL GARBAGE' };
        await assert.rejects(migrate(driver, [ok, bad]));
        const rows = await driver.all('SELECT version FROM schema_migrations WHERE version >= 100');
        assert.deepEqual(rows, []);
        await assert.rejects(driver.all('SELECT * FROM t_ok'), 'table of the rolled-back migration exists');
      } finally {
        await driver.close();
      }
    });

    test('a schema newer than this gateway (version 99 recorded) is refused', async () => {
      const driver = await openDriver(engine.url, engine.options);
      try {
        await driver.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (99, ?, 0)', [
          'future',
        ]);
        await assert.rejects(migrate(driver), /version 99/);
        await driver.run('DELETE FROM schema_migrations WHERE version = 99');
      } finally {
        await driver.close();
      }
    });

    test('insertGrant stores the grant as granted; getUpload reads it back', async () => {
      const user = newUser();
      const g = grant(user, { checksum: '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=' });
      const u = await repo.grants.insert(g, LOOSE);
      assert.deepEqual(u, {
        id: g.id,
        userId: user,
        route: 'logo',
        ruleHash: g.ruleHash,
        state: 'granted',
        method: 'post',
        incomingKey: g.incomingKey,
        fileKey: null,
        filename: 'logo.png',
        declaredType: 'image/png',
        declaredSize: 1000,
        checksum: g.checksum,
        detectedType: null,
        size: null,
        width: null,
        height: null,
        reason: null,
        createdAt: T0,
        expiresAt: T0 + 600_000,
        completedAt: null,
        updatedAt: T0,
        previousState: null,
        reviewedBy: null,
        reviewedAt: null,
        reviewReason: null,
        reviewNote: null,
        publishedKey: null,
        publishedAt: null,
        retiredAt: null,
        purgeAt: null,
        purgedAt: null,
        multipartId: null,
        partSize: null,
      });
      assert.deepEqual(await repo.uploads.get(g.id), u);
      assert.equal(await repo.uploads.get('up_doesnotexist000000000'), undefined);
    });

    test('a 5 GiB declared size survives the round trip as a number', async () => {
      const u = await repo.grants.insert(grant(newUser(), { declaredSize: 5 * 2 ** 30 }), LOOSE);
      assert.equal(u.declaredSize, 5 * 2 ** 30);
      assert.equal((await repo.uploads.get(u.id))?.declaredSize, 5 * 2 ** 30);
    });

    test('the same upload id twice is refused by the primary key', async () => {
      const g = grant(newUser());
      await repo.grants.insert(g, LOOSE);
      await assert.rejects(repo.grants.insert(g, LOOSE));
    });

    test('pendingGrants 2: the third grant → quota_exceeded; released by rejection and by expiry', async () => {
      const user = newUser();
      const limits = { ...LOOSE, pendingGrants: 2 };
      const first = await repo.grants.insert(grant(user), limits);
      await repo.grants.insert(grant(user, { expiresAt: T0 + 120_000 }), limits);
      await assert.rejects(repo.grants.insert(grant(user), limits), (e: unknown) => {
        assert.ok(quotaError('pendingGrants')(e));
        assert.equal((e as ChuteError).retryAfter, 120, 'retry when the first pending grant expires');
        return true;
      });
      assert.ok(
        await repo.uploads.transition(first.id, ['granted'], 'rejected', {
          fields: { reason: 'type_mismatch' },
        }),
      );
      const third = await repo.grants.insert(grant(user), limits);
      await assert.rejects(repo.grants.insert(grant(user), limits), quotaError('pendingGrants'));
      // Past the 2-minute grant's deadline it no longer counts, swept or not.
      now = T0 + 121_000;
      try {
        await repo.grants.insert(grant(user, {}, now), limits);
      } finally {
        now = T0;
      }
      assert.equal((await repo.uploads.get(third.id))?.state, 'granted');
    });

    test('bytesPerDay 1000: 600 + 500 refused; released when the 600 is rejected; window is 24 h', async () => {
      const user = newUser();
      const limits = { ...LOOSE, bytesPerDay: 1000 };
      const big = await repo.grants.insert(grant(user, { declaredSize: 600 }), limits);
      await assert.rejects(repo.grants.insert(grant(user, { declaredSize: 500 }), limits), (e: unknown) => {
        assert.ok(quotaError('bytesPerDay')(e));
        assert.equal((e as ChuteError).retryAfter, 86_400);
        return true;
      });
      await repo.grants.insert(grant(user, { declaredSize: 400 }), limits); // exactly 1000: allowed
      await repo.uploads.transition(big.id, ['granted'], 'expired');
      await repo.grants.insert(grant(user, { declaredSize: 500 }), limits);
      await assert.rejects(
        repo.grants.insert(grant(user, { declaredSize: 200 }), limits),
        quotaError('bytesPerDay'),
      );
      now = T0 + 86_400_001;
      try {
        await repo.grants.insert(grant(user, { declaredSize: 1000 }, now), limits);
      } finally {
        now = T0;
      }
    });

    test('grantsPerMinute 3: the fourth → quota_exceeded with Retry-After ≤ 60; allowed a minute later', async () => {
      const user = newUser();
      const limits = { ...LOOSE, grantsPerMinute: 3 };
      for (let i = 0; i < 3; i++) {
        now = T0 + i * 10_000;
        await repo.grants.insert(grant(user, {}, now), limits);
      }
      await assert.rejects(repo.grants.insert(grant(user, {}, now), limits), (e: unknown) => {
        assert.ok(quotaError('grantsPerMinute')(e));
        assert.equal((e as ChuteError).retryAfter, 40, 'the oldest of the three leaves the window in 40 s');
        return true;
      });
      now = T0 + 60_001;
      await repo.grants.insert(grant(user, {}, now), limits);
      now = T0;
    });

    test('a refused grant leaves no row behind', async () => {
      const user = newUser();
      const g = grant(user, { declaredSize: 2000 });
      await assert.rejects(repo.grants.insert(g, { ...LOOSE, bytesPerDay: 1000 }), quotaError('bytesPerDay'));
      assert.equal(await repo.uploads.get(g.id), undefined);
    });

    test('30 concurrent grants from two instances against pendingGrants 5 admit exactly 5', async () => {
      const user = newUser();
      const other = await open();
      try {
        const limits = { ...LOOSE, pendingGrants: 5 };
        const results = await Promise.allSettled(
          Array.from({ length: 30 }, (_, i) => (i % 2 ? repo : other).grants.insert(grant(user), limits)),
        );
        const admitted = results.filter((r) => r.status === 'fulfilled');
        const refused = results.filter((r) => r.status === 'rejected');
        assert.equal(admitted.length, 5);
        for (const r of refused) assert.ok(quotaError('pendingGrants')(r.reason), String(r.reason));
        const page = await repo.uploads.list({ userId: user });
        assert.equal(page.items.length, 5);
      } finally {
        await other.close();
      }
    });

    // One batch holds several grants of one user: each is checked against the ones admitted before
    // it in the same batch (bytes and the per-minute rate as well as pending).
    for (const [quota, limits, admits] of [
      ['bytesPerDay', { ...LOOSE, bytesPerDay: 3500 }, 3],
      ['grantsPerMinute', { ...LOOSE, grantsPerMinute: 4 }, 4],
    ] as const) {
      test(`20 concurrent grants of one user against ${quota} admit exactly ${admits}`, async () => {
        const user = newUser();
        const results = await Promise.allSettled(
          Array.from({ length: 20 }, () => repo.grants.insert(grant(user), limits)),
        );
        assert.equal(results.filter((r) => r.status === 'fulfilled').length, admits);
        for (const r of results)
          if (r.status === 'rejected') assert.ok(quotaError(quota)(r.reason), String(r.reason));
        assert.equal((await repo.uploads.list({ userId: user })).items.length, admits);
      });
    }

    test('a batch of grants for many users, some refused, admits the others', async () => {
      const users = Array.from({ length: 12 }, newUser);
      const results = await Promise.allSettled(
        users.map((u, i) =>
          repo.grants.insert(grant(u, { declaredSize: i % 3 === 0 ? 5000 : 10 }), {
            ...LOOSE,
            bytesPerDay: 1000,
          }),
        ),
      );
      results.forEach((r, i) => {
        if (i % 3 === 0)
          assert.ok(r.status === 'rejected' && quotaError('bytesPerDay')(r.reason), `user ${i}`);
        else assert.equal(r.status, 'fulfilled', `user ${i}`);
      });
    });

    test('transition is a compare-and-set: a second complete from granted does nothing', async () => {
      const u = await repo.grants.insert(grant(newUser()), LOOSE);
      now = T0 + 5000;
      const moved = await repo.uploads.transition(u.id, ['granted'], 'uploaded', {
        fields: {
          size: 1000,
          completedAt: now,
        },
      });
      assert.equal(moved?.state, 'uploaded');
      assert.equal(moved?.size, 1000);
      assert.equal(moved?.completedAt, T0 + 5000);
      assert.equal(moved?.updatedAt, T0 + 5000);
      assert.equal(await repo.uploads.transition(u.id, ['granted'], 'uploaded'), undefined);
      assert.equal(
        await repo.uploads.transition('up_nosuchupload000000000', ['granted'], 'uploaded'),
        undefined,
      );
      now = T0;
    });

    test('of 10 concurrent transitions from granted, exactly one happens and writes its event', async () => {
      const u = await repo.grants.insert(grant(newUser()), LOOSE);
      const results = await Promise.all(
        Array.from({ length: 10 }, (_, i) =>
          repo.uploads.transition(u.id, ['granted', 'uploaded'], 'verified', {
            fields: { detectedType: `image/png`, width: i },
            event: {
              type: 'upload.verified',
              uploadId: u.id,
              payload: { id: u.id, attempt: i },
            },
          }),
        ),
      );
      const winners = results.filter((r) => r !== undefined);
      assert.equal(winners.length, 1);
      const due = await repo.outbox.forUpload(u.id);
      assert.equal(due.length, 1, 'the losers wrote no event');
      assert.equal((due[0]?.payload as { attempt?: number } | undefined)?.attempt, winners[0]?.width);
    });

    test('transition refuses a field outside the allow-list ("constructor", "userId")', async () => {
      const u = await repo.grants.insert(grant(newUser()), LOOSE);
      await assert.rejects(
        repo.uploads.transition(u.id, ['granted'], 'verified', { fields: { constructor: 'x' } as never }),
        TypeError,
      );
      await assert.rejects(
        repo.uploads.transition(u.id, ['granted'], 'verified', { fields: { userId: 'mallory' } as never }),
        TypeError,
      );
      assert.equal((await repo.uploads.get(u.id))?.state, 'granted');
    });

    test('listUploads: own only, newest first, state filter, pages across equal created_at', async () => {
      const alice = newUser();
      const bob = newUser();
      const ids: string[] = [];
      for (let i = 0; i < 7; i++) {
        now = T0 + Math.floor(i / 2) * 1000; // pairs share a timestamp: the id breaks the tie
        ids.push((await repo.grants.insert(grant(alice, {}, now), LOOSE)).id);
      }
      await repo.grants.insert(grant(bob), LOOSE);
      now = T0;
      await repo.uploads.transition(ids[0]!, ['granted'], 'rejected', { fields: { reason: 'too_large' } });

      const seen: string[] = [];
      let cursor: string | undefined;
      let pages = 0;
      do {
        const page = await repo.uploads.list({ userId: alice, limit: 3, cursor });
        seen.push(...page.items.map((u) => u.id));
        cursor = page.nextCursor;
        pages++;
      } while (cursor !== undefined);
      assert.equal(pages, 3);
      assert.equal(new Set(seen).size, 7, 'no upload twice, none missed');
      assert.deepEqual(new Set(seen), new Set(ids));
      const created = await Promise.all(seen.map(async (id) => (await repo.uploads.get(id))!.createdAt));
      assert.deepEqual(
        created,
        [...created].sort((a, b) => b - a),
        'newest first',
      );

      const rejected = await repo.uploads.list({ userId: alice, states: ['rejected'] });
      assert.deepEqual(
        rejected.items.map((u) => u.id),
        [ids[0]],
      );
      const all = await repo.uploads.list({ limit: 100 });
      assert.ok(all.items.some((u) => u.userId === bob) && all.items.some((u) => u.userId === alice));
    });

    test('listUploads refuses a forged cursor and limit 0 or 101', async () => {
      const bad = (e: unknown) => e instanceof ChuteError && e.code === 'invalid_request';
      await assert.rejects(repo.uploads.list({ cursor: 'not-a-cursor' }), bad);
      await assert.rejects(repo.uploads.list({ cursor: Buffer.from('[1,2]').toString('base64url') }), bad);
      await assert.rejects(repo.uploads.list({ limit: 0 }), bad);
      await assert.rejects(repo.uploads.list({ limit: 101 }), bad);
    });

    test('findExpired returns only granted uploads past the deadline, oldest first', async () => {
      const user = newUser();
      const far = T0 + 10 * 86_400_000; // later than every other test's grants
      const a = await repo.grants.insert(grant(user, { expiresAt: far + 2000 }), LOOSE);
      const b = await repo.grants.insert(grant(user, { expiresAt: far + 1000 }), LOOSE);
      const c = await repo.grants.insert(grant(user, { expiresAt: far + 1500 }), LOOSE);
      await repo.grants.insert(grant(user, { expiresAt: far + 60_000 }), LOOSE);
      await repo.uploads.transition(c.id, ['granted'], 'uploaded');
      const expired = (await repo.uploads.findExpired(far + 3000, 1000)).filter((u) => u.userId === user);
      assert.deepEqual(
        expired.map((u) => u.id),
        [b.id, a.id],
      );
      assert.ok(await repo.uploads.transition(b.id, ['granted'], 'expired'));
      assert.equal(
        await repo.uploads.transition(b.id, ['granted'], 'expired'),
        undefined,
        'sweeping twice is a no-op',
      );
    });

    test('events: appended, read back per upload in the order they were written', async () => {
      const uploadId = `up_${randomBase62(22)}`;
      const ids: string[] = [];
      for (let n = 0; n < 5; n++) {
        ids.push(await repo.outbox.append({ type: 'test.ping', uploadId, payload: { n, s: 'é' } }));
      }
      const events = await repo.outbox.forUpload(uploadId);
      assert.deepEqual(
        events.map((e) => e.id),
        ids,
      );
      assert.deepEqual(events[0]?.payload, { n: 0, s: 'é' });
      assert.equal(events[0]?.createdAt, T0);
      assert.deepEqual(await repo.outbox.forUpload(`up_${randomBase62(22)}`), []);
    });
  });
}

test('sqlite: a transaction that throws is rolled back and the connection stays usable', async () => {
  const engine = sqliteEngine();
  let driver: Driver | undefined;
  try {
    driver = await openDriver(engine.url);
    await driver.exec('CREATE TABLE t (a INTEGER)');
    await assert.rejects(
      driver.transaction(async (tx) => {
        await tx.run('INSERT INTO t (a) VALUES (?)', [1]);
        throw new Error('boom');
      }),
      /boom/,
    );
    assert.deepEqual(await driver.all('SELECT * FROM t'), []);
    await driver.transaction((tx) => tx.run('INSERT INTO t (a) VALUES (?)', [2]));
    assert.deepEqual(
      (await driver.all<{ a: number }>('SELECT a FROM t')).map((r) => r.a),
      [2],
    );
  } finally {
    await driver?.close();
    await engine.cleanup();
  }
});

for (const make of [async () => sqliteEngine(), postgresEngine]) {
  const engine = await make();
  test(`${engine.name}: three instances starting at once on an empty database migrate it once`, {
    skip: engine.skip,
  }, async () => {
    const opened = await Promise.allSettled([1, 2, 3].map(() => Repo.open(engine.url, engine.options)));
    const repos = opened.flatMap((r) => (r.status === 'fulfilled' ? [r.value] : []));
    try {
      for (const r of opened) if (r.status === 'rejected') throw r.reason;
      assert.deepEqual(await assertMigratedOnce(engine), []);
    } finally {
      await Promise.all(repos.map((r) => r.close()));
      await engine.cleanup();
    }
  });
}
