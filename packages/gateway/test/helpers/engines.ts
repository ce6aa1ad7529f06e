import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { randomBase62 } from '../../src/domain/ids.ts';

/** A database for one test file: a URL, open options, and how to throw it away. */
export interface Engine {
  /** external: the database of a gateway running elsewhere (helpers/e2e.ts EXTERNAL), not ours to open. */
  name: 'sqlite' | 'postgres' | 'external';
  url: string;
  options: { schema?: string };
  /** Set when this engine cannot run here (only ever outside CI). */
  skip?: string;
  cleanup(): Promise<void>;
}

/** The test database; CHUTE_TEST_PG_URL points the tests elsewhere. */
export const PG_URL = process.env.CHUTE_TEST_PG_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

export function sqliteEngine(): Engine {
  const dir = mkdtempSync(join(tmpdir(), 'chute-db-'));
  return {
    name: 'sqlite',
    url: `sqlite:${join(dir, 'chute.db')}`,
    options: {},
    cleanup: async () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** For suites run against a gateway running elsewhere: there is no database of ours. */
export function externalEngine(): Engine {
  return { name: 'external', url: '', options: {}, cleanup: async () => {} };
}

/**
 * A fresh schema in the test database, dropped by cleanup, so parallel runs never share tables.
 * When PostgreSQL is unreachable: under CI this throws (the PG tests must fail, not vanish);
 * locally the engine is marked skipped with the reason.
 */
export async function postgresEngine(): Promise<Engine> {
  const schema = `chute_test_${randomBase62(10).toLowerCase()}`;
  const admin = new pg.Client({ connectionString: PG_URL, connectionTimeoutMillis: 3000 });
  try {
    await admin.connect();
    await admin.query(`CREATE SCHEMA ${schema}`);
  } catch (e) {
    await admin.end().catch(() => {});
    if (process.env.CI) throw new Error(`PostgreSQL at ${PG_URL} is required under CI`, { cause: e });
    const reason = `PostgreSQL unreachable at ${PG_URL} (${(e as Error).message}); set CI=1 to make this fail`;
    console.log(`# skipping postgres: ${reason}`);
    return { name: 'postgres', url: PG_URL, options: {}, skip: reason, cleanup: async () => {} };
  }
  return {
    name: 'postgres',
    url: PG_URL,
    options: { schema },
    cleanup: async () => {
      try {
        await admin.query(`DROP SCHEMA ${schema} CASCADE`);
      } finally {
        await admin.end();
      }
    },
  };
}
