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

/** Node's "address in use" as a message that says what to do. */
export function listenError(e: unknown, flag: string, port: number): unknown {
  if ((e as NodeJS.ErrnoException)?.code === 'EADDRINUSE')
    return new UsageError(`port ${port} is already in use (choose another with ${flag} P, or ${flag} 0)`);
  return e;
}
