import type { Driver } from './driver.ts';
import { MIGRATIONS, type Migration } from './migrations.ts';

/**
 * Applies the migrations not yet recorded in schema_migrations, all in one transaction: either
 * the schema reaches the newest version or nothing changes. Safe to run on every start and from
 * several instances at once (PostgreSQL: an advisory lock makes the second wait, then it finds
 * nothing to do; SQLite: BEGIN IMMEDIATE does the same). Returns the versions it applied.
 */
export async function migrate(
  driver: Driver,
  migrations: readonly Migration[] = MIGRATIONS,
  now: number = Date.now(),
): Promise<number[]> {
  return driver.transaction(async (tx) => {
    // Two instances starting together would both CREATE … IF NOT EXISTS and one would fail on
    // PostgreSQL's catalog; the lock makes the second wait instead.
    await driver.lock(tx, 'migrate');
    await tx.exec(
      'CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at BIGINT NOT NULL)',
    );
    const rows = await tx.all<{ version: number }>('SELECT version FROM schema_migrations');
    const done = new Set(rows.map((r) => Number(r.version)));
    const newest = Math.max(0, ...done);
    const known = Math.max(0, ...migrations.map((m) => m.version));
    if (newest > known) {
      // An older gateway must not run against a schema a newer one changed.
      throw new Error(`database schema is version ${newest}; this gateway knows up to ${known}`);
    }
    const applied: number[] = [];
    for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
      if (done.has(m.version)) continue;
      await tx.exec(typeof m.sql === 'string' ? m.sql : m.sql[driver.dialect]);
      await tx.run('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)', [
        m.version,
        m.name,
        now,
      ]);
      applied.push(m.version);
    }
    return applied;
  });
}
