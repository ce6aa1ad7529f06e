// The sweeper's bookkeeping that needs no storage traffic to show: one instance sweeps at a time
// (PostgreSQL advisory lock), dead claims are handed back. Deleting objects is covered end to end.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Repo } from '../src/db/repo.ts';
import { incomingKey, newUploadId } from '../src/domain/ids.ts';
import { type Engine, postgresEngine, sqliteEngine } from './helpers/engines.ts';
import { LOGO_RULE_HASH } from './helpers/grants.ts';

const LIMITS = { pendingGrants: 100, bytesPerDay: 1e12, grantsPerMinute: 1000 };

for (const makeEngine of [sqliteEngine, postgresEngine]) {
  describe(`Repo.exclusive and stale claims (${makeEngine === sqliteEngine ? 'sqlite' : 'postgres'})`, () => {
    let engine: Engine;
    let repo: Repo;
    let other: Repo;
    const clock = { now: Date.now() };
    before(async () => {
      engine = await makeEngine();
      if (engine.skip) return;
      repo = await Repo.open(engine.url, { ...engine.options, clock: () => clock.now });
      other = await Repo.open(engine.url, { ...engine.options, clock: () => clock.now });
    });
    after(async () => {
      await repo?.close();
      await other?.close();
      await engine?.cleanup();
    });

    test('while one instance sweeps, another instance’s sweep does not run (PostgreSQL advisory lock)', async (t) => {
      if (engine.skip) return t.skip(engine.skip);
      let release!: () => void;
      const held = new Promise<void>((r) => {
        release = r;
      });
      let entered!: () => void;
      const inside = new Promise<void>((r) => {
        entered = r;
      });
      const first = repo.locks.exclusive('sweeper', async () => {
        entered();
        await held;
      });
      await inside;
      const second = await other.locks.exclusive('sweeper', async () => {});
      release();
      assert.equal(await first, true);
      // SQLite is one process's file: there is no other instance to exclude, so both run.
      assert.equal(second, engine.name === 'sqlite');
      assert.equal(
        await other.locks.exclusive('sweeper', async () => {}),
        true,
        'free again after the first finished',
      );
    });

    test('findStale finds an `uploaded` claim older than the cutoff; the CAS hands it back once', async (t) => {
      if (engine.skip) return t.skip(engine.skip);
      const id = newUploadId();
      await repo.grants.insert(
        {
          id,
          userId: 'u1',
          route: 'logo',
          ruleHash: LOGO_RULE_HASH,
          method: 'put',
          incomingKey: incomingKey('u1', id),
          filename: 'a.png',
          declaredType: 'image/png',
          declaredSize: 5,
          expiresAt: clock.now + 600_000,
        },
        LIMITS,
      );
      await repo.uploads.transition(id, ['granted'], 'uploaded');
      assert.deepEqual(await repo.uploads.findStale('uploaded', clock.now - 1000), []);
      clock.now += 3_600_000;
      const stale = await repo.uploads.findStale('uploaded', clock.now - 1000);
      assert.deepEqual(
        stale.map((u) => u.id),
        [id],
      );
      assert.equal((await repo.uploads.transition(id, ['uploaded'], 'granted'))?.state, 'granted');
      assert.equal(await repo.uploads.transition(id, ['uploaded'], 'granted'), undefined);
      assert.deepEqual(
        (await repo.uploads.getMany([id, 'up_0000000000000000000000'])).map((u) => u.id),
        [id],
      );
    });

    test('concurrent grants of one user never exceed pendingGrants (SQLite: in one group commit)', async (t) => {
      if (engine.skip) return t.skip(engine.skip);
      const user = `burst-${engine.name}`;
      const results = await Promise.allSettled(
        Array.from({ length: 10 }, () => {
          const id = newUploadId();
          return repo.grants.insert(
            {
              id,
              userId: user,
              route: 'logo',
              ruleHash: LOGO_RULE_HASH,
              method: 'post',
              incomingKey: incomingKey(user, id),
              filename: 'a.png',
              declaredType: 'image/png',
              declaredSize: 5,
              expiresAt: clock.now + 600_000,
            },
            { ...LIMITS, pendingGrants: 3 },
          );
        }),
      );
      assert.equal(results.filter((r) => r.status === 'fulfilled').length, 3);
      for (const r of results) {
        if (r.status === 'rejected') assert.equal((r.reason as { code?: string }).code, 'quota_exceeded');
      }
    });
  });
}
