import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import pg from 'pg';
import { randomBase62 } from '../../src/domain/ids.ts';
import { CLUSTER, type Cluster } from './cluster.ts';

/** A database for one test file: a URL, open options, and how to throw it away. */
export interface Engine {
  /** cluster: the database of the cluster the suites run against (helpers/cluster.ts). */
  name: 'sqlite' | 'postgres' | 'cluster';
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

/**
 * The cluster's database (helpers/cluster.ts): its harness empties it for each suite (the
 * instances hold its connections, so it is emptied while they are stopped, not here).
 */
function clusterEngine(cluster: Cluster): Engine {
  return { name: 'cluster', url: cluster.site.database.url, options: {}, cleanup: async () => {} };
}

/**
 * What a gateway suite runs on, each in a describe of its own: SQLite and PostgreSQL; or, with
 * CHUTE_E2E_CLUSTER, the cluster's database, once.
 */
export const SUITE_ENGINES: readonly { name: string; open: () => Engine | Promise<Engine> }[] =
  CLUSTER === undefined
    ? [
        { name: 'sqlite', open: sqliteEngine },
        { name: 'postgres', open: postgresEngine },
      ]
    : [{ name: `cluster: ${CLUSTER.url}`, open: () => clusterEngine(CLUSTER!) }];

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
