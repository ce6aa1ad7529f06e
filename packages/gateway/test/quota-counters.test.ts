import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { type BatchGrant, commitGrantBatch } from '../src/db/grant-batch.ts';
import type { Executor, SqlValue } from '../src/db/index.ts';
import {
  type Driver,
  MIGRATIONS,
  migrate,
  type NewGrant,
  openDriver,
  type QuotaLimits,
  Repo,
  type UploadState,
} from '../src/db/index.ts';
import { toPgPlaceholders } from '../src/db/placeholders.ts';
import { chargeUsage, DAY, enforceQuota, MINUTE, readUsages } from '../src/db/quota.ts';
import { usageSource } from '../src/db/usage.ts';
import { type Engine, postgresEngine } from './helpers/engines.ts';
import { newGrant } from './helpers/grants.ts';
import { MOVES, rng } from './helpers/random-walk.ts';

/**
 * PostgreSQL keeps quota usage in counter rows (quota-counters.sql.ts) that triggers keep up to
 * date and a grant batch moves to its clock; the quota query (quota.ts readUsages) stays the
 * definition. These tests compare the two: after every step of a random walk of grants,
 * transitions (size changes among them) and clock jumps; after concurrent grants and
 * transitions from two instances; after upgrading a database that had rows before the counters
 * existed (the backfill). Bad inputs tried: the clock stepping back (the windows do not move
 * back), rows changed behind the gateway's back (a direct UPDATE of user_id, created_at and
 * expires_at, a DELETE, a TRUNCATE).
 *
 * Migration 7 (the grant batch, the review queue's index): a test runs a batch on an empty
 * `uploads` (the session caches its plans), grows the table by 20,000 other users' grants behind
 * the planner's back (no ANALYZE) and checks with auto_explain that every window is still read
 * through the user's own rows; another checks with EXPLAIN that the review queue still has its
 * (now partial) index.
 */

const engine: Engine = await postgresEngine();
const LOOSE: QuotaLimits = { pendingGrants: 1e9, bytesPerDay: 1e15, grantsPerMinute: 1e9 };

/** The counters' figures at `now` (moving the windows there), as a grant batch reads them. */
async function counted(driver: Driver, users: string[], now: number) {
  return driver.transaction((tx) => usageSource(driver).read(tx, users, now));
}

/** Grants as Grants hands them to commitGrantBatch, made at `now`. */
function batchOf(
  grants: readonly { user: string; limits: QuotaLimits; patch?: Partial<NewGrant> }[],
  now: number,
): BatchGrant[] {
  return grants.map(({ user, limits, patch }) => {
    const g = newGrant(user, patch, now);
    return {
      upload: { ...g, createdAt: now, updatedAt: now } as never,
      limits,
      audit: {
        uploadId: g.id,
        by: { id: user, role: 'uploader' },
        action: 'granted',
        fromState: null,
        toState: 'granted',
      },
    };
  });
}

async function assertAgree(driver: Driver, users: string[], now: number, where: string) {
  const [fromCounters, fromRows] = [await counted(driver, users, now), await readUsages(driver, users, now)];
  for (const u of users) assert.deepEqual(fromCounters.get(u), fromRows.get(u), `${where}, user ${u}`);
}

describe('quota counters on postgres', { skip: engine.skip }, () => {
  let driver: Driver;
  before(async () => {
    driver = await openDriver(engine.url, engine.options);
  });
  after(async () => {
    await driver?.close();
    await engine.cleanup();
  });

  /** `fn` on a driver of a schema of its own (made empty, dropped after), beside the suite's. */
  async function inSchema(suffix: string, fn: (db: Driver, schema: string) => Promise<void>): Promise<void> {
    const schema = `${engine.options.schema}_${suffix}`;
    await driver.exec(`CREATE SCHEMA ${schema}`);
    const db = await openDriver(engine.url, { schema });
    try {
      await fn(db, schema);
    } finally {
      await db.close();
      await driver.exec(`DROP SCHEMA ${schema} CASCADE`);
    }
  }

  test('the counters agree with the quota query through 400 random grants, transitions and clock jumps', async () => {
    let now = Date.UTC(2026, 10, 21, 12);
    const repo = await Repo.open(engine.url, { ...engine.options, clock: () => now });
    try {
      const random = rng(20261203);
      const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
      const users = ['walk-ana', 'walk-bo', 'walk-cy'];
      const uploads: { id: string; state: UploadState }[] = [];
      for (let step = 0; step < 400; step++) {
        const r = random();
        if (r < 0.45) {
          const user = pick(users);
          const g = newGrant(
            user,
            {
              declaredSize: 1 + Math.floor(random() * 5000),
              expiresAt: now + pick([60_000, 600_000, DAY]),
            },
            now,
          );
          await repo.grants.insert(g, LOOSE);
          uploads.push({ id: g.id, state: 'granted' });
        } else if (r < 0.8 && uploads.length > 0) {
          const u = pick(uploads);
          const to = MOVES[u.state].length > 0 ? pick(MOVES[u.state]) : undefined;
          if (to !== undefined) {
            // Now and then the size is corrected on the way (as a multipart completion does).
            const fields = random() < 0.2 ? { declaredSize: 1 + Math.floor(random() * 5000) } : undefined;
            assert.ok(
              await repo.uploads.transition(u.id, [u.state], to, fields && { fields }),
              `${u.state} → ${to}`,
            );
            u.state = to;
          }
        } else {
          now += pick([1, 250, 5_000, 30_000, MINUTE, 10 * MINUTE, 3 * 3_600_000, DAY / 2]);
        }
        await assertAgree(driver, users, now, `step ${step}`);
      }
    } finally {
      await repo.close();
    }
  });

  test('a grant batch admits exactly what enforceQuota admits in order, refusals or not (300 random batches)', async () => {
    // Tight limits, varying per grant as routes' do, so that some batches fit whole (migration
    // 8's one-statement admission) and others refuse some grants (the per-grant loop). Bad
    // inputs tried: a grant already past its deadline (never pending), a batch whose first grant
    // is refused and a later smaller one fits, limits of 1e9 beside tight ones in one batch.
    await migrate(driver);
    let now = Date.UTC(2026, 11, 3, 9);
    const random = rng(20261204);
    const pick = <T>(xs: readonly T[]) => xs[Math.floor(random() * xs.length)]!;
    const users = ['adm-ana', 'adm-bo', 'adm-cy'];
    const seen = { whole: 0, partly: 0 };
    for (let step = 0; step < 300; step++) {
      const grants = Array.from({ length: 1 + Math.floor(random() * 12) }, () => ({
        user: pick(users),
        limits: {
          grantsPerMinute: pick([4, 20, 1e9]),
          pendingGrants: pick([3, 12, 1e9]),
          bytesPerDay: pick([20_000, 200_000, 1e15]),
        },
        patch: {
          declaredSize: 1 + Math.floor(random() * 4000),
          expiresAt: now + pick([-1, 0, 30_000, 600_000]),
        },
      }));
      const { usage, admitted } = await commitGrantBatch(driver, batchOf(grants, now), now);
      const expected = grants.map(({ user, limits, patch }) => {
        const used = usage.get(user)!;
        try {
          enforceQuota(used, limits, patch.declaredSize, now);
        } catch {
          return false;
        }
        chargeUsage(used, patch.declaredSize, patch.expiresAt, now);
        return true;
      });
      assert.deepEqual(admitted, expected, `step ${step}`);
      seen[expected.every(Boolean) ? 'whole' : 'partly']++;
      await assertAgree(driver, users, now, `step ${step}`);
      now += pick([0, 1, 2_000, 20_000, MINUTE, 10 * MINUTE, DAY / 2]);
    }
    assert.ok(seen.whole >= 30 && seen.partly >= 30, `both kinds of batch ran: ${JSON.stringify(seen)}`);
  });

  test('concurrent grants and transitions from two instances leave the counters exact', async () => {
    const now = Date.now();
    const [a, b] = await Promise.all([
      Repo.open(engine.url, engine.options),
      Repo.open(engine.url, engine.options),
    ]);
    try {
      const users = ['conc-1', 'conc-2', 'conc-3'];
      const first = await Promise.all(
        Array.from({ length: 60 }, (_, i) =>
          (i % 2 ? a : b).grants.insert(newGrant(users[i % 3]!, { declaredSize: 100 + i }, now), LOOSE),
        ),
      );
      // Grants of the same users race transitions of their earlier grants, on both instances.
      await Promise.all([
        ...first.map((u, i) =>
          (i % 2 ? b : a).uploads.transition(u.id, ['granted'], i % 3 === 0 ? 'rejected' : 'uploaded'),
        ),
        ...Array.from({ length: 60 }, (_, i) =>
          (i % 2 ? a : b).grants.insert(newGrant(users[i % 3]!, { declaredSize: 7 }, now), LOOSE),
        ),
      ]);
      await assertAgree(driver, users, Date.now(), 'after the race');
      const usage = await readUsages(driver, users, Date.now());
      assert.equal(
        users.reduce((s, u) => s + usage.get(u)!.pending, 0),
        60,
        'the 60 later grants are pending',
      );
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });

  test('the clock stepping back does not move the windows back: usage stays as of the latest clock', async () => {
    let now = Date.UTC(2026, 10, 22, 12);
    const repo = await Repo.open(engine.url, { ...engine.options, clock: () => now });
    try {
      const user = 'clock-back';
      for (let i = 0; i < 3; i++) await repo.grants.insert(newGrant(user, {}, now), LOOSE);
      const latest = now + 2 * MINUTE;
      assert.equal((await counted(driver, [user], latest)).get(user)!.recent, 0);
      now += 30_000; // the definition would count the 3 grants again here; the counters do not
      const back = (await counted(driver, [user], now)).get(user)!;
      assert.deepEqual(back, (await readUsages(driver, [user], latest)).get(user));
      // A grant made at the earlier clock still counts where the latest clock's windows reach.
      await repo.grants.insert(newGrant(user, { expiresAt: now + 10 * MINUTE }, now), LOOSE);
      await assertAgree(driver, [user], latest, 'after a grant at the earlier clock');
    } finally {
      await repo.close();
    }
  });

  test('rows changed behind the gateway: UPDATE of user, times, state; DELETE', async () => {
    const now = Date.now();
    const repo = await Repo.open(engine.url, engine.options);
    try {
      const users = ['raw-a', 'raw-b'];
      const made = [];
      for (let i = 0; i < 7; i++)
        made.push(
          await repo.grants.insert(newGrant(users[i % 2]!, { declaredSize: 10 * (i + 1) }, now), LOOSE),
        );
      await driver.run('UPDATE uploads SET user_id = ? WHERE id = ?', ['raw-b', made[0]!.id]);
      await driver.run('UPDATE uploads SET created_at = ? WHERE id = ?', [now - 2 * MINUTE, made[1]!.id]);
      // Out of the day altogether (a grant lives at most a day, so its deadline goes back too).
      await driver.run('UPDATE uploads SET created_at = ?, expires_at = ? WHERE id = ?', [
        now - DAY - 1,
        now - DAY + 1000,
        made[6]!.id,
      ]);
      await driver.run('UPDATE uploads SET expires_at = ? WHERE id = ?', [now - 1, made[2]!.id]);
      await driver.run("UPDATE uploads SET state = 'rejected' WHERE id = ?", [made[3]!.id]);
      await driver.run('DELETE FROM uploads WHERE id = ?', [made[4]!.id]);
      await assertAgree(driver, users, now, 'after the direct writes');
      // A user the direct writes introduced (no counter row yet): made on the UPDATE.
      await driver.run('UPDATE uploads SET user_id = ? WHERE id = ?', ['raw-new', made[5]!.id]);
      await assertAgree(driver, [...users, 'raw-new'], now, 'after moving a row to a new user');
    } finally {
      await repo.close();
    }
  });

  test('upgrading a database with uploads: migration 6 backfills each user from their rows', () =>
    inSchema('up', async (old, schema) => {
      await migrate(
        old,
        MIGRATIONS.filter((m) => m.version <= 5),
      );
      const t = Date.now();
      // Rows an older gateway wrote: inside and outside each window, in every state that matters.
      const rows: [string, UploadState, number, number, number][] = [
        ['old-a', 'granted', t - 10_000, t + 600_000, 100], // recent, pending, bytes
        ['old-a', 'granted', t - 2 * MINUTE, t - 1, 200], // expired unswept: bytes only
        ['old-a', 'rejected', t - 5 * MINUTE, t + 600_000, 400], // released, out of the minute: counts nowhere
        ['old-a', 'verified', t - DAY - 5, t - DAY + 1000, 800], // out of the day
        ['old-b', 'verified', t - 3 * 3_600_000, t, 1600],
        ['old-b', 'granted', t - 1000, t + DAY - 1000, 3200],
      ];
      let n = 0;
      for (const [user, state, created, expires, size] of rows) {
        await old.run(
          `INSERT INTO uploads (id, user_id, route, state, method, incoming_key, filename, declared_type,
             declared_size, created_at, expires_at, updated_at) VALUES (?, ?, 'logo', ?, 'post', ?, 'a.png', 'image/png', ?, ?, ?, ?)`,
          [
            `up_upgrade${String(n++).padStart(12, '0')}`,
            user,
            state,
            `incoming/${user}/${n}`,
            size,
            created,
            expires,
            created,
          ],
        );
      }
      await old.run("INSERT INTO quota_locks (user_id, touched_at) VALUES ('old-a', 1)");
      assert.deepEqual(await migrate(old), [6, 7, 8]);
      const tables = await old.all<{ name: string }>(
        "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = ? AND table_name LIKE 'quota%'",
        [schema],
      );
      assert.deepEqual(
        tables.map((r) => r.name),
        ['quota_usage'],
        'quota_locks is gone',
      );
      const now = Date.now();
      await assertAgree(old, ['old-a', 'old-b'], now, 'after the upgrade');
      const a = (await readUsages(old, ['old-a'], now)).get('old-a')!;
      assert.deepEqual([a.recent, a.pending, a.bytes], [1, 1, 300]);
    }));

  test('TRUNCATE of uploads empties the counters with it', async () => {
    const now = Date.now();
    const repo = await Repo.open(engine.url, engine.options);
    try {
      await repo.grants.insert(newGrant('trunc', {}, now), LOOSE);
      await driver.exec('TRUNCATE uploads CASCADE');
      await assertAgree(driver, ['trunc'], now, 'after TRUNCATE');
      assert.equal((await counted(driver, ['trunc'], now)).get('trunc')!.pending, 0);
    } finally {
      await repo.close();
    }
  });

  test("the grant batch, first run on an empty table, reads only the user's rows after it grew", () =>
    inSchema('plans', async (fresh, schema) => {
      // One session, so the plans cached by the first call are the ones the second uses.
      const client = new pg.Client({ connectionString: engine.url, options: `-c search_path=${schema}` });
      const plans: string[] = [];
      try {
        await migrate(fresh);
        await client.connect();
        client.on('notice', (n) => plans.push(n.message ?? ''));
        const tx: Executor = {
          all: async <T>(sql: string, params?: readonly SqlValue[]) =>
            (await client.query(toPgPlaceholders(sql), params as SqlValue[])).rows as T[],
          run: async (sql: string, params?: readonly SqlValue[]) =>
            (await client.query(toPgPlaceholders(sql), params as SqlValue[])).rowCount ?? 0,
          exec: async (sql: string) => void (await client.query(sql)),
        };
        const batch = (user: string, now: number) =>
          commitGrantBatch(
            tx,
            batchOf(
              [0, 1, 2].map(() => ({ user, limits: LOOSE })),
              now,
            ),
            now,
          );
        const t = Date.now();
        // chute_grant_batch forces generic plans (migration 8): made at this first call, on an empty table.
        await batch('plan-ana', t); // plans made and cached while uploads is empty
        // 20,000 granted rows of 100 other users, inside every window, straight into the table.
        await client.query(
          `INSERT INTO uploads (id, user_id, route, state, method, incoming_key, filename, declared_type,
           declared_size, created_at, expires_at, updated_at)
         SELECT 'up_crowd' || lpad(i::text, 12, '0'), 'crowd-' || (i % 100), 'logo', 'granted', 'post',
                'incoming/crowd/' || i, 'a.png', 'image/png', 10, $1::bigint - i, $1::bigint + 600000, $1::bigint
         FROM generate_series(1, 20000) i`,
          [t],
        );
        await client.query("LOAD 'auto_explain'");
        await client.query('SET auto_explain.log_min_duration = 0');
        await client.query('SET auto_explain.log_nested_statements = on');
        await client.query('SET client_min_messages = log');
        // A minute on: the recent window's edge moves past plan-ana's first rows (and the crowd's).
        const { admitted } = await batch('plan-ana', t + MINUTE + 1);
        await client.query('SET client_min_messages = notice');
        assert.deepEqual(admitted, [true, true, true]);
        const read = plans.find((p) => p.includes('jsonb_object_agg'));
        if (process.env.SHOWPLAN) console.log(plans.join('\n----\n'));
        assert.ok(read, 'the usage read was explained');
        for (const index of ['uploads_user_quota', 'uploads_user_pending'])
          assert.match(read, new RegExp(index));
        for (const plan of plans) {
          assert.doesNotMatch(
            plan,
            /Seq Scan on uploads|uploads_state_completed|uploads_state_created|uploads_created |uploads_state_expires/,
            plan,
          );
        }
        await assertAgree(fresh, ['plan-ana', 'crowd-7'], t + MINUTE + 1, 'after the crowd');
      } finally {
        await client.end();
      }
    }));

  test('the review queue keeps its index, which no longer holds granted rows', async () => {
    const explain = (sql: string, params: SqlValue[]) =>
      driver.transaction(async (tx) => {
        await tx.exec('SET LOCAL enable_seqscan = off');
        const rows = await tx.all<{ 'QUERY PLAN': string }>(`EXPLAIN ${sql}`, params);
        return rows.map((r) => r['QUERY PLAN']).join('\n');
      });
    // The queries of Uploads.queue (first page, next page) for each state the reviews list asks for.
    for (const state of ['pending_review', 'approved', 'rejected']) {
      const first = await explain(
        'SELECT * FROM uploads WHERE state IN (?) ORDER BY completed_at, id LIMIT ?',
        [state, 51],
      );
      assert.match(first, /Index Scan using uploads_state_completed/, first);
      const next = await explain(
        'SELECT * FROM uploads WHERE state IN (?) AND (completed_at > ? OR (completed_at = ? AND id > ?)) ORDER BY completed_at, id LIMIT ?',
        [state, 5, 5, 'up_x', 51],
      );
      assert.match(next, /Index Scan using uploads_state_completed/, next);
    }
    // Granted rows are not in it (each grant spares an index insert, and no plan can count them through it).
    const [index] = await driver.all<{ def: string }>(
      "SELECT indexdef AS def FROM pg_indexes WHERE schemaname = current_schema() AND indexname = 'uploads_state_completed'",
    );
    assert.match(index!.def, /WHERE \(state <> 'granted'::text\)$/, index!.def);
  });
});
