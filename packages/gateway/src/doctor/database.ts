import { existsSync } from 'node:fs';
import type { Driver } from '../db/driver.ts';
import { MIGRATIONS } from '../db/migrations.ts';
import { openDriver } from '../db/open.ts';
import { type CheckResult, type DoctorContext, fail, pass, warn } from './types.ts';

const NAME = 'database';
const OPEN_TIMEOUT_MS = 10_000;

/**
 * The database is reachable and migrated, read only: it opens the gateway's own driver and reads
 * schema_migrations, and never migrates (the gateway does that on start). A schema newer than
 * this code fails (the gateway refuses to start on it); pending migrations only warn, since the
 * next start applies them. A SQLite file that does not exist yet is not created.
 */
export async function checkDatabase(ctx: DoctorContext): Promise<CheckResult> {
  const { url } = ctx.database;
  const known = Math.max(...MIGRATIONS.map((m) => m.version));
  if (url.startsWith('sqlite:')) {
    const file = url.slice('sqlite:'.length);
    if (file !== ':memory:' && !existsSync(file))
      return warn(
        NAME,
        `no SQLite database at ${file} yet`,
        'start the gateway once: it creates and migrates it',
      );
  }
  const shown = url.startsWith('sqlite:') ? url : redact(url);
  let driver: Driver;
  try {
    driver = await openWithTimeout(url, ctx.database.schema);
  } catch (e) {
    return fail(
      NAME,
      `cannot open ${shown}: ${(e as Error).message || String(e)}`,
      'check database.url (host, port, user, password, database) and that the server runs',
    );
  }
  try {
    let applied: number[];
    try {
      const rows = await driver.all<{ version: number }>('SELECT version FROM schema_migrations');
      applied = rows.map((r) => Number(r.version));
    } catch {
      return warn(
        NAME,
        `${shown} is reachable but has no schema yet (no schema_migrations table)`,
        'start the gateway once: it migrates on start',
      );
    }
    const newest = Math.max(0, ...applied);
    if (newest > known)
      return fail(
        NAME,
        `${shown} is at schema version ${newest}; this gateway knows up to ${known} and will not start on it`,
        'run the newer chute that migrated it, or restore a backup made before',
      );
    const pending = MIGRATIONS.filter((m) => !applied.includes(m.version));
    if (pending.length > 0)
      return warn(
        NAME,
        `${shown} is reachable; ${pending.length} migration(s) pending: ${pending.map((m) => `${m.version} (${m.name})`).join(', ')}`,
        'start the gateway: it applies them on start, in one transaction',
      );
    return pass(NAME, `${shown} is reachable (${driver.dialect}) and migrated (schema version ${known})`);
  } finally {
    await driver.close().catch(() => {});
  }
}

/** openDriver, given up after OPEN_TIMEOUT_MS (a firewalled host never answers); a late one is closed. */
function openWithTimeout(url: string, schema: string | undefined): Promise<Driver> {
  let timer: NodeJS.Timeout | undefined;
  let late = false;
  const opening = openDriver(url, schema ? { schema } : {});
  void opening.then(
    async (d) => {
      if (late) await d.close();
    },
    () => {},
  );
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      late = true;
      reject(new Error(`no answer in ${OPEN_TIMEOUT_MS / 1000} s`));
    }, OPEN_TIMEOUT_MS);
  });
  return Promise.race([opening, timeout]).finally(() => clearTimeout(timer));
}

function redact(url: string): string {
  try {
    const u = new URL(url);
    if (u.password) u.password = '***';
    return u.toString();
  } catch {
    return 'the database url';
  }
}
