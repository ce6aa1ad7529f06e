import type { Driver } from './driver.ts';
import { PostgresDriver } from './postgres.ts';
import { SqliteDriver } from './sqlite.ts';

export interface OpenOptions {
  /** PostgreSQL only: the schema to use (it must exist). */
  schema?: string;
}

/** `sqlite:PATH` (`sqlite::memory:` for a throwaway one) or `postgres://…` / `postgresql://…`. */
export async function openDriver(url: string, options: OpenOptions = {}): Promise<Driver> {
  if (url.startsWith('sqlite:')) return SqliteDriver.open(url.slice('sqlite:'.length));
  if (/^postgres(ql)?:\/\//.test(url)) return PostgresDriver.open(url, options);
  throw new TypeError('database url must be sqlite:PATH or postgres://…');
}
