import { createHash, timingSafeEqual } from 'node:crypto';
import { randomBase62 } from '../domain/ids.ts';
import type { Principal } from './principal.ts';
import type { ApiKeySettings } from './settings.ts';

export type ApiKeyConfig = ApiKeySettings;

/** What the config keeps of an API key: its SHA-256, lowercase hex. */
export function hashApiKey(key: string): string {
  return createHash('sha256').update(key).digest('hex');
}

export const API_KEY_PREFIX = 'ck_';

/**
 * API keys for server-to-server calls. Only SHA-256 hashes are kept (a leaked config or DB dump
 * does not leak usable keys; keys are ≥ 32 random characters, so a fast hash is enough). The
 * presented key's hash is compared with every configured hash in constant time, and the loop
 * does not stop at a match, so timing tells nothing about which key or how much of it matched.
 */
export function createApiKeyVerifier(keys: readonly ApiKeyConfig[]): (key: string) => Principal | undefined {
  const table = keys.map((k) => ({ ...k, hash: Buffer.from(k.secretHash, 'hex') }));
  return (presented) => {
    const hash = createHash('sha256').update(presented).digest();
    let found: (typeof table)[number] | undefined;
    for (const k of table) {
      if (timingSafeEqual(hash, k.hash) && found === undefined) found = k;
    }
    return found && { userId: found.user, role: found.role, via: 'api-key', keyId: found.id };
  };
}

/** A new API key (shown once) and the hash to put in the config (`secretHash`). */
export function newApiKey(): { key: string; secretHash: string } {
  const key = `${API_KEY_PREFIX}${randomBase62(40)}`;
  return { key, secretHash: hashApiKey(key) };
}
