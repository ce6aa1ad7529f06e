import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import { ConfigError, type GatewayConfig, parseConfig } from '@chute/gateway';
import { ConfigFileError } from './errors.ts';

const MODULE = /\.(ts|mts|js|mjs)$/;

/**
 * Reads a gateway config file: JSON, or a module (`.ts` by Node's type stripping, `.js`) whose
 * default export (or `config` export) is the config object, a promise of it, or a function
 * returning either. `overrides` (flags) replace top-level sections before parsing. Parsed once,
 * with parseConfig; every problem is reported as a ConfigFileError naming the file.
 */
export async function loadConfigFile(
  file: string,
  overrides: (input: Record<string, unknown>) => Record<string, unknown> = (i) => i,
): Promise<GatewayConfig> {
  const abs = path.resolve(file);
  let input: unknown;
  if (MODULE.test(abs)) {
    let mod: Record<string, unknown>;
    try {
      mod = (await import(pathToFileURL(abs).href)) as Record<string, unknown>;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ERR_MODULE_NOT_FOUND' && (e as Error).message.includes(abs))
        throw new ConfigFileError(`${file}: no such file`);
      throw new ConfigFileError(`${file}: could not load: ${(e as Error).message}`);
    }
    let value = mod['default'] ?? mod['config'];
    if (typeof value === 'function') value = (value as () => unknown)();
    input = await value;
    if (input === undefined)
      throw new ConfigFileError(`${file}: export the config as default (or as "config")`);
  } else {
    let text: string;
    try {
      text = await readFile(abs, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') throw new ConfigFileError(`${file}: no such file`);
      throw e;
    }
    try {
      input = JSON.parse(text);
    } catch (e) {
      throw new ConfigFileError(`${file}: not valid JSON: ${(e as Error).message}`);
    }
  }
  if (typeof input !== 'object' || input === null || Array.isArray(input))
    throw new ConfigFileError(`${file}: the config must be an object`);
  try {
    return parseConfig(overrides(input as Record<string, unknown>));
  } catch (e) {
    if (e instanceof ConfigError) throw new ConfigFileError(`${file}: ${e.message}`);
    throw e;
  }
}
