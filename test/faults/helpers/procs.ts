// Real processes for the fault tests: `chute serve` / `chute s3` (and HAProxy) as children of the
// test, each with its own log file, killed with SIGKILL when a test says so.
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { closeSync, openSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

export const ROOT = path.resolve(import.meta.dirname, '../../..');
const CHUTE = path.join(ROOT, 'packages/cli/bin/chute.js');

/** A port free right now on 127.0.0.1 (the kernel's pick; a restart reuses it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const { port } = server.address() as { port: number };
  server.close();
  await once(server, 'close');
  return port;
}

/** Resolves true once `url` answers with one of `ok` (any status when empty) within `ms`. */
export async function answers(url: string, ok: number[], ms: number): Promise<boolean> {
  const deadline = performance.now() + ms;
  while (performance.now() < deadline) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(1000) });
      await res.body?.cancel();
      if (ok.length === 0 || ok.includes(res.status)) return true;
    } catch {
      // not listening yet
    }
    await sleep(50);
  }
  return false;
}

/**
 * One long-running process, restartable with the same command line. `ready` is a URL answering
 * when it has started (with a status in `readyStatus`, or any status when that is empty).
 */
export class Service {
  readonly name: string;
  readonly #command: string;
  readonly #args: string[];
  readonly #log: string;
  readonly #ready: string;
  readonly #readyStatus: number[];
  #child: ChildProcess | undefined;
  #exited: Promise<unknown> = Promise.resolve();

  constructor(
    name: string,
    spec: { command?: string; args: string[]; log: string; ready: string; readyStatus?: number[] },
  ) {
    this.name = name;
    this.#command = spec.command ?? process.execPath;
    this.#args = spec.command === undefined ? [CHUTE, ...spec.args] : spec.args;
    this.#log = spec.log;
    this.#ready = spec.ready;
    this.#readyStatus = spec.readyStatus ?? [];
  }

  /** `chute …args` (Node 24: the test's own runtime). */
  static chute(name: string, args: string[], log: string, ready: string, readyStatus?: number[]): Service {
    return new Service(name, { args, log, ready, ...(readyStatus !== undefined && { readyStatus }) });
  }

  get pid(): number | undefined {
    return this.#child?.pid;
  }

  get running(): boolean {
    return this.#child !== undefined && this.#child.exitCode === null && this.#child.signalCode === null;
  }

  async start(): Promise<void> {
    if (this.running) throw new Error(`${this.name} is already running`);
    const fd = openSync(this.#log, 'a');
    const child = spawn(this.#command, this.#args, { stdio: ['ignore', fd, fd], cwd: ROOT });
    closeSync(fd);
    this.#child = child;
    this.#exited = once(child, 'exit').catch(() => {});
    const exited = this.#exited.then(() => false);
    const ready = await Promise.race([answers(this.#ready, this.#readyStatus, 30_000), exited]);
    if (!ready) {
      const tail = readFileSync(this.#log, 'utf8').split('\n').slice(-15).join('\n');
      await this.stop();
      throw new Error(`${this.name} did not start (${this.#ready}); its log ends:\n${tail}`);
    }
  }

  /** SIGKILL: no shutdown hook runs, open requests and connections are cut mid-way. */
  async kill9(): Promise<void> {
    if (!this.running) return;
    this.#child!.kill('SIGKILL');
    await this.#exited;
  }

  /** SIGTERM (a graceful stop), SIGKILL after 10 s. */
  async stop(): Promise<void> {
    if (!this.running) return;
    this.#child!.kill('SIGTERM');
    const done = await Promise.race([this.#exited.then(() => true), sleep(10_000).then(() => false)]);
    if (!done) await this.kill9();
  }
}
