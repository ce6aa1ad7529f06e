// chute doctor's database check, on SQLite and on PostgreSQL: reachable, migrated, never
// migrating anything itself.
import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { after, before, describe, test } from 'node:test';
import { migrate } from '../src/db/migrate.ts';
import { MIGRATIONS } from '../src/db/migrations.ts';
import { openDriver } from '../src/db/open.ts';
import { checkDatabase } from '../src/doctor/database.ts';
import type { DoctorContext } from '../src/doctor/types.ts';
import { closedPort, doctorInput, storageConfig } from './helpers/doctor.ts';
import { type Engine, postgresEngine, sqliteEngine } from './helpers/engines.ts';

const storage = storageConfig(
  { endpoint: 'http://127.0.0.1:9', region: 'us-east-1', accessKeyId: 'k', secretAccessKey: 's' },
  'unused',
);
const ctx = (database: DoctorContext['database']): DoctorContext => ({
  ...doctorInput(storage, { database }),
  now: Date.now,
  fetch,
  timeoutMs: 5_000,
});
const newest = Math.max(...MIGRATIONS.map((m) => m.version));

for (const make of [sqliteEngine, postgresEngine]) {
  describe(`database check on ${make === sqliteEngine ? 'sqlite' : 'postgres'}`, () => {
    let engine: Engine;
    before(async () => {
      engine = await make();
    });
    after(() => engine?.cleanup());
    const database = () => ({ url: engine.url, ...engine.options });

    test('no schema yet: warns, and creates nothing', async (t) => {
      if (engine.skip) return t.skip(engine.skip);
      const file = engine.url.startsWith('sqlite:') ? engine.url.slice('sqlite:'.length) : undefined;
      const missing = await checkDatabase(ctx(database()));
      assert.equal(missing.status, 'warn');
      if (file !== undefined) {
        assert.match(missing.detail, /no SQLite database at .* yet/);
        assert.equal(existsSync(file), false, 'the doctor created the SQLite file');
        // An empty file: reachable, no schema_migrations table.
        const d = await openDriver(engine.url);
        await d.close();
        assert.match((await checkDatabase(ctx(database()))).detail, /has no schema yet/);
      } else {
        assert.match(missing.detail, /reachable but has no schema yet/);
      }
    });

    test('pending migrations warn, all applied pass, a newer schema fails', async (t) => {
      if (engine.skip) return t.skip(engine.skip);
      const driver = await openDriver(engine.url, engine.options);
      try {
        await migrate(driver, MIGRATIONS.slice(0, 1));
        const pending = await checkDatabase(ctx(database()));
        assert.equal(pending.status, 'warn', pending.detail);
        assert.match(pending.detail, new RegExp(`${MIGRATIONS.length - 1} migration\\(s\\) pending: 2 \\(`));
        await migrate(driver);
        const ok = await checkDatabase(ctx(database()));
        assert.equal(ok.status, 'pass', ok.detail);
        assert.match(ok.detail, new RegExp(`migrated \\(schema version ${newest}\\)`));
        await driver.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
          newest + 1,
          'from the future',
          0,
        ]);
        const newer = await checkDatabase(ctx(database()));
        assert.equal(newer.status, 'fail');
        assert.match(
          newer.detail,
          new RegExp(`schema version ${newest + 1}; this gateway knows up to ${newest}`),
        );
        // Read only: the doctor applied nothing, removed nothing.
        const rows = await driver.all<{ version: number }>(
          'SELECT version FROM schema_migrations ORDER BY version',
        );
        assert.deepEqual(
          rows.map((r) => Number(r.version)),
          [...MIGRATIONS.map((m) => m.version), newest + 1],
        );
      } finally {
        await driver.close();
      }
    });
  });
}

test('an unreachable PostgreSQL fails with the reason, the password masked', async () => {
  const port = await closedPort();
  const r = await checkDatabase(ctx({ url: `postgres://chute:hunter2@127.0.0.1:${port}/chute` }));
  assert.equal(r.status, 'fail');
  assert.match(r.detail, /cannot open postgres:\/\/chute:\*\*\*@127\.0\.0\.1:\d+\/chute: .*ECONNREFUSED/);
  assert.doesNotMatch(r.detail, /hunter2/);
});
