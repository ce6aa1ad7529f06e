import { type ParseArgsConfig, parseArgs } from 'node:util';

/** A mistake on the command line: printed with the usage text, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

/**
 * A config (file or flags) that does not parse: printed as is, without the usage text, exit
 * code 2. The message names the file and every problem.
 */
export class ConfigFileError extends Error {
  override name = 'ConfigFileError';
}

/** Ports: 0..65535, 0 meaning any free port. */
export function parsePort(flag: string, value: string | undefined, fallback: number): number {
  if (value === undefined) return fallback;
  const port = Number(value);
  if (!/^\d+$/.test(value) || port > 65535) throw new UsageError(`${flag} must be 0..65535, got ${value}`);
  return port;
}

/** Node's "address in use" as a message that says what to do. */
export function listenError(e: unknown, flag: string, port: number): unknown {
  if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE')
    return new UsageError(`port ${port} is already in use (choose another with ${flag} P, or ${flag} 0)`);
  return e;
}

/** node:util parseArgs, its errors (unknown option, missing value) as usage errors. */
export function parseFlags<T extends ParseArgsConfig>(config: T): ReturnType<typeof parseArgs<T>> {
  try {
    return parseArgs(config);
  } catch (e) {
    throw new UsageError((e as Error).message);
  }
}
