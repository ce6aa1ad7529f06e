import { fork, type Serializable } from 'node:child_process';
import { createHmac } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { type DevServer, startDev } from '../../packages/cli/src/dev.ts';
import { apiFetch } from '../../packages/gateway/test/helpers/api.ts';
import type { StoreOptions } from '../../packages/store/src/index.ts';

/**
 * `chute dev` in-process (the CLI's own startDev: the embedded store and the gateway on
 * 127.0.0.1, SQLite, the demo route and users), on ports chosen by the OS, over a temp dir.
 */
export interface Stack {
  dev: DevServer;
  gateway: string;
  store: string;
  /** The dev JWT secret, for minting and for forging near-misses. */
  secret: string;
  token(user: string, claims?: Record<string, unknown>): string;
  api(
    p: string,
    init?: { method?: string; token?: string; json?: unknown; headers?: Record<string, string> },
  ): Promise<Response>;
  close(): Promise<void>;
}

export async function startStack(
  opts: { storeSlowClients?: StoreOptions['slowClients'] } = {},
): Promise<Stack> {
  const dir = await mkdtemp(path.join(tmpdir(), 'chute-adversarial-'));
  const dev = await startDev({ dataDir: dir, host: '127.0.0.1', port: 0, s3Port: 0, ...opts });
  const secret = (await readFile(path.join(dir, 'dev-secret'), 'utf8')).trim();
  return {
    dev,
    gateway: dev.gatewayUrl,
    store: dev.storeUrl,
    secret,
    token: (user, claims = {}) =>
      jwt(
        { alg: 'HS256', typ: 'JWT' },
        { sub: user, exp: Math.floor(Date.now() / 1000) + 600, ...claims },
        secret,
      ),
    api: apiFetch(() => dev.gatewayUrl),
    async close() {
      try {
        await dev.close();
      } finally {
        await rm(dir, { recursive: true, force: true });
      }
    },
  };
}

const b64url = (v: unknown) =>
  Buffer.from(typeof v === 'string' ? v : JSON.stringify(v)).toString('base64url');

/** A JWT built by hand (so a test can forge what a library would refuse to make). */
export function jwt(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  secret?: string,
): string {
  const head = `${b64url(header)}.${b64url(payload)}`;
  const sig = secret === undefined ? '' : createHmac('sha256', secret).update(head).digest('base64url');
  return `${head}.${sig}`;
}

export interface GrantJson {
  id: string;
  method: 'post' | 'put';
  url: string;
  fields?: Record<string, string>;
  headers?: Record<string, string>;
  key: string;
}

export async function grant(stack: Stack, token: string, body: Record<string, unknown>): Promise<GrantJson> {
  const res = await stack.api('/v1/grants', { token, json: body });
  if (res.status !== 201) throw new Error(`grant: ${res.status} ${await res.text()}`);
  return (await res.json()) as GrantJson;
}

/** The browser's form upload: the grant's fields in order, `file` last. */
export function postForm(
  g: GrantJson,
  bytes: Buffer,
  override: Record<string, string> = {},
  filename = 'upload.bin',
): Promise<Response> {
  const form = new FormData();
  for (const [k, v] of Object.entries({ ...g.fields, ...override })) form.append(k, v);
  form.append('file', new Blob([new Uint8Array(bytes)]), filename);
  return fetch(g.url, { method: 'POST', body: form });
}

/** A raw TCP exchange: writes `text`, reads until the server closes or `ms` pass. */
export async function rawExchange(
  url: string,
  text: string,
  ms = 2000,
): Promise<{ reply: string; closed: boolean }> {
  const { hostname, port } = new URL(url);
  const s = connect(Number(port), hostname);
  s.on('error', () => {});
  let reply = '';
  s.on('data', (d: Buffer) => {
    reply += d.toString('latin1');
  });
  const closed = new Promise<boolean>((resolve) => s.once('close', () => resolve(true)));
  s.write(text);
  const result = await Promise.race([closed, sleep(ms, false)]);
  s.destroy();
  return { reply, closed: result };
}

/** Idle connections held by a child process (idle-client.ts); the server's ends are ours. */
export interface IdleConnections {
  readonly length: number;
  /** How many of them the server has closed. */
  closed(): Promise<number>;
  /** Closes what is left and ends the child. */
  destroy(): Promise<void>;
}

/**
 * Opens `n` connections to `url` that send nothing, from a child process: this process then
 * holds only the server's end of each (the descriptor limit is per process).
 */
export async function openIdle(url: string, n: number): Promise<IdleConnections> {
  const { hostname, port } = new URL(url);
  const child = fork(new URL('./idle-client.ts', import.meta.url), {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
  });
  const ask = <T>(m: unknown) =>
    new Promise<T>((resolve, reject) => {
      const onExit = (code: number | null) => reject(new Error(`idle client exited (${code})`));
      child.once('exit', onExit);
      child.once('message', (r) => {
        child.off('exit', onExit);
        resolve(r as T);
      });
      child.send(m as Serializable);
    });
  const r = await ask<{ opened?: number; error?: string }>({
    cmd: 'open',
    host: hostname,
    port: Number(port),
    n,
  });
  if (r.error !== undefined || r.opened !== n) {
    child.kill();
    throw new Error(`idle client opened ${r.opened ?? 0} of ${n}: ${r.error ?? ''}`);
  }
  return {
    length: n,
    closed: async () => (await ask<{ closed: number }>({ cmd: 'count' })).closed,
    destroy: async () => {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.send({ cmd: 'destroy' });
      await exited;
    },
  };
}

/**
 * How many idle connections a test may open: `wanted`, or fewer when this process may not hold
 * that many descriptors (the server's end of every connection lives here, with the servers'
 * own files; a stock Debian login gets 1,024).
 */
export function idleBudget(wanted: number): number {
  let limit = Number.POSITIVE_INFINITY;
  try {
    const m = /^Max open files\s+(\d+)/m.exec(readFileSync('/proc/self/limits', 'utf8'));
    if (m) limit = Number(m[1]);
  } catch {
    // Not Linux: trust the wanted number.
  }
  return Math.max(100, Math.min(wanted, limit - 1000));
}
