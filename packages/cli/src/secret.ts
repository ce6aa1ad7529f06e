import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ConfigFileError } from './errors.ts';

/** Where `chute dev` keeps its JWT secret, so tokens minted by `chute token` survive restarts. */
export const DEV_SECRET_FILE = 'dev-secret';

/** The dev secret of a data dir, created (0600, 256 random bits) the first time. */
export async function loadOrCreateDevSecret(dataDir: string): Promise<string> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const file = join(dataDir, DEV_SECRET_FILE);
  const secret = randomBytes(32).toString('base64url');
  try {
    // 'wx': two `chute dev` starting at once must not each write their own.
    await writeFile(file, `${secret}\n`, { flag: 'wx', mode: 0o600 });
    return secret;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    return readDevSecret(dataDir);
  }
}

export async function readDevSecret(dataDir: string): Promise<string> {
  const file = join(dataDir, DEV_SECRET_FILE);
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT')
      throw new ConfigFileError(
        `no dev secret at ${file}: start \`chute dev\` once (it creates one), or pass --secret or --config`,
      );
    throw e;
  }
  const secret = text.trim();
  if (secret.length < 32) throw new ConfigFileError(`${file}: the dev secret must be at least 32 characters`);
  return secret;
}
