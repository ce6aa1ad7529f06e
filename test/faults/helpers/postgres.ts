// A private PostgreSQL server for one test file: its own data directory and port, so the test may
// crash it (`pg_ctl stop -m immediate`), cut its connections or make it read-only without
// touching the machine's shared server. initdb refuses to run as root: as root every command runs
// as the `postgres` user (runuser), which owns the temporary directory.
import { execFile } from 'node:child_process';
import { chownSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import pg from 'pg';
import { freePort } from './procs.ts';

const run = promisify(execFile);

/** The newest /usr/lib/postgresql/N/bin (Debian's layout), or CHUTE_PG_BIN. */
export function postgresBin(): string | undefined {
  const fromEnv = process.env.CHUTE_PG_BIN;
  if (fromEnv !== undefined) return fromEnv;
  const base = '/usr/lib/postgresql';
  if (!existsSync(base)) return undefined;
  const versions = readdirSync(base)
    .filter((v) => existsSync(path.join(base, v, 'bin', 'initdb')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] === undefined ? undefined : path.join(base, versions[0], 'bin');
}

export class PrivatePostgres {
  readonly dir: string;
  readonly port: number;
  readonly #bin: string;
  readonly #asPostgres: boolean;

  private constructor(dir: string, port: number, bin: string, asPostgres: boolean) {
    this.dir = dir;
    this.port = port;
    this.#bin = bin;
    this.#asPostgres = asPostgres;
  }

  /** initdb in a fresh temporary directory and start the server on a free port. */
  static async create(label: string): Promise<PrivatePostgres> {
    const bin = postgresBin();
    if (bin === undefined) throw new Error('PostgreSQL server binaries not found (Debian: postgresql-15)');
    const dir = mkdtempSync(path.join(tmpdir(), `chute-faults-pg-${label}-`));
    const asPostgres = process.getuid?.() === 0;
    if (asPostgres) {
      const { stdout } = await run('id', ['-u', 'postgres']);
      const uid = Number(stdout.trim());
      chownSync(dir, uid, uid);
    }
    const server = new PrivatePostgres(dir, await freePort(), bin, asPostgres);
    await server.#pg('initdb', ['-D', server.#data, '-A', 'trust', '-U', 'postgres', '--no-sync']);
    await server.start();
    return server;
  }

  get #data(): string {
    return path.join(this.dir, 'data');
  }

  async #pg(tool: string, args: string[]): Promise<void> {
    const cmd = path.join(this.#bin, tool);
    const [file, argv] = this.#asPostgres ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args];
    try {
      await run(file, argv, { cwd: this.dir, timeout: 60_000 });
    } catch (e) {
      const log = path.join(this.dir, 'server.log');
      const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-10).join('\n') : '';
      throw new Error(`${tool} failed: ${(e as Error).message}\n${tail}`);
    }
  }

  url(db = 'postgres'): string {
    return `postgres://postgres@127.0.0.1:${this.port}/${db}`;
  }

  /** Starts the server and waits until it takes connections (recovery after a crash included). */
  async start(): Promise<void> {
    const options = `-p ${this.port} -k ${this.dir} -c listen_addresses=127.0.0.1 -c max_connections=60`;
    await this.#pg('pg_ctl', [
      '-D',
      this.#data,
      '-o',
      options,
      '-l',
      path.join(this.dir, 'server.log'),
      '-w',
      '-t',
      '60',
      'start',
    ]);
  }

  /**
   * A crash: "Immediate mode will abort all server processes immediately, without a clean
   * shutdown. This choice will lead to a crash-recovery cycle during the next startup" (pg_ctl).
   */
  async crash(): Promise<void> {
    await this.#pg('pg_ctl', ['-D', this.#data, '-m', 'immediate', 'stop']);
  }

  /** One statement on a connection of its own (closed after). */
  async sql<T = Record<string, unknown>>(
    text: string,
    params: unknown[] = [],
    db = 'postgres',
  ): Promise<T[]> {
    const client = new pg.Client({ connectionString: this.url(db), connectionTimeoutMillis: 5000 });
    await client.connect();
    try {
      return (await client.query(text, params)).rows as T[];
    } finally {
      await client.end();
    }
  }

  /** pg_terminate_backend on every other connection to `db`; returns how many were ended. */
  async terminateBackends(db = 'postgres'): Promise<number> {
    const rows = await this.sql<{ n: string }>(
      'SELECT count(*) FILTER (WHERE pg_terminate_backend(pid)) AS n FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
      [db],
    );
    return Number(rows[0]?.n ?? 0);
  }

  /** Stops the server (fast) and deletes its directory. */
  async destroy(): Promise<void> {
    await this.#pg('pg_ctl', ['-D', this.#data, '-m', 'fast', 'stop']).catch(() => {});
    rmSync(this.dir, { recursive: true, force: true });
  }
}
