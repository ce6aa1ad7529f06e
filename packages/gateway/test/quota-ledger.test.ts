import assert from 'node:assert/strict';
import { DatabaseSync } from 'node:sqlite';
import { after, test } from 'node:test';
import { ChuteError } from '@chute/errors';
import { openDriver, type QuotaLimits, Repo, type UploadState } from '../src/db/index.ts';
import { DAY, MINUTE, readUsage } from '../src/db/quota.ts';
import { QuotaLedger } from '../src/db/quota-ledger.ts';
import { sqliteEngine } from './helpers/engines.ts';
import { newGrant } from './helpers/grants.ts';
import { MOVES, rng } from './helpers/random-walk.ts';

/**
 * SQLite keeps quota usage in memory (quota-ledger.ts) instead of running the quota query; the
 * query stays the definition. These tests drive a real Repo through random grants, transitions
 * and clock jumps and compare the ledger with the query after every step, then check that a
 * write by another connection (another process on the same file) is never missed.
 */

const engine = sqliteEngine();
after(() => engine.cleanup());

const LOOSE: QuotaLimits = { pendingGrants: 1e9, bytesPerDay: 1e15, grantsPerMinute: 1e9 };

const grant = (userId: string, size: number, lifetimeMs: number, now: number) =>
  newGrant(userId, { declaredSize: size, expiresAt: now + lifetimeMs }, now);

test('the ledger agrees with the quota query through 1500 random grants, transitions and clock jumps', async () => {
  let now = Date.UTC(2026, 10, 21, 12);
  const repo = await Repo.open(engine.url, { clock: () => now });
  const driver = await openDriver(engine.url); // the same connection: it sees the Repo's ledger
  try {
    const ledger = driver.shared!('quota-ledger', () => new QuotaLedger());
    const random = rng(20261121);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const users = ['ana', 'bo', 'cy'];
    const uploads: { id: string; userId: string; state: UploadState }[] = [];
    let checks = 0;
    for (let step = 0; step < 1500; step++) {
      const r = random();
      if (r < 0.45) {
        const user = pick(users);
        const g = grant(user, 1 + Math.floor(random() * 5000), pick([60_000, 600_000, DAY]), now);
        await repo.grants.insert(g, LOOSE);
        uploads.push({ id: g.id, userId: user, state: 'granted' });
      } else if (r < 0.8 && uploads.length > 0) {
        const u = pick(uploads);
        const to = MOVES[u.state].length > 0 ? pick(MOVES[u.state]) : undefined;
        if (to !== undefined) {
          assert.ok(await repo.uploads.transition(u.id, [u.state], to), `${u.state} → ${to}`);
          u.state = to;
        }
      } else {
        // From a few ms to past a grant's lifetime or the whole day window.
        now += pick([1, 250, 5_000, 30_000, MINUTE, 10 * MINUTE, 3 * 3_600_000, DAY / 2]);
      }
      // Compare at the clock the next grant would read, and also a little later (windows move).
      for (const at of [now, now + 30_000]) {
        for (const user of users) {
          const fromRows = await readUsage(driver, user, at);
          const kept = ledger.get(user);
          if (kept === undefined) continue; // not loaded yet: the next grant loads it from the rows
          assert.deepEqual(kept.usage(at), fromRows, `step ${step}, user ${user}, at +${at - now} ms`);
          checks++;
        }
      }
    }
    assert.ok(checks > 6000, `compared ${checks} times`);
  } finally {
    await driver.close();
    await repo.close();
  }
});

test('a grant written by another connection on the same file is counted (PRAGMA data_version)', async () => {
  const now = Date.now();
  const repo = await Repo.open(engine.url);
  const path = engine.url.slice('sqlite:'.length);
  const other = new DatabaseSync(path, { timeout: 5000 }); // as another process would
  try {
    const limits: QuotaLimits = { ...LOOSE, pendingGrants: 2 };
    await repo.grants.insert(grant('dee', 10, 600_000, now), limits); // loads dee into the ledger
    const g = grant('dee', 10, 600_000, now);
    other
      .prepare(
        `INSERT INTO uploads (id, user_id, route, state, method, incoming_key, filename, declared_type,
           declared_size, created_at, expires_at, updated_at)
         VALUES (?, 'dee', 'logo', 'granted', 'post', ?, 'a.png', 'image/png', 10, ?, ?, ?)`,
      )
      .run(g.id, g.incomingKey, now, g.expiresAt, now);
    // Two pending now, one of them unknown to this process's ledger: the third must be refused.
    await assert.rejects(
      repo.grants.insert(grant('dee', 10, 600_000, now), limits),
      (e) => e instanceof ChuteError && e.code === 'quota_exceeded' && e.details?.quota === 'pendingGrants',
    );
    // And a release by the other connection is seen too.
    other.prepare(`UPDATE uploads SET state = 'rejected' WHERE id = ?`).run(g.id);
    await repo.grants.insert(grant('dee', 10, 600_000, now), limits);
  } finally {
    other.close();
    await repo.close();
  }
});

test('a transition whose transaction fails leaves the ledger as the rows are', async () => {
  const now = Date.now();
  const repo = await Repo.open(engine.url);
  const driver = await openDriver(engine.url);
  try {
    const ledger = driver.shared!('quota-ledger', () => new QuotaLedger());
    const g = grant('eve', 100, 600_000, now);
    await repo.grants.insert(g, LOOSE);
    // Bad input: an event payload JSON cannot encode fails insertEvent after the UPDATE ran.
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    await assert.rejects(
      repo.uploads.transition(g.id, ['granted'], 'rejected', {
        event: { type: 'upload.rejected', payload: cyclic },
      }),
    );
    const kept = ledger.get('eve');
    const rows = await readUsage(driver, 'eve', Date.now());
    if (kept !== undefined) assert.deepEqual(kept.usage(Date.now()), rows);
    assert.equal(rows.pending, 1, 'the rejection was rolled back');
  } finally {
    await driver.close();
    await repo.close();
  }
});
