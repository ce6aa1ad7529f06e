import { ChuteError } from '@chute/errors';

/**
 * Keyset pagination: a page ends at (createdAt, id); the next one starts strictly after it in
 * (created_at DESC, id DESC) order. Stable under inserts, unlike OFFSET. Opaque to clients.
 */
export function encodeCursor(createdAt: number, id: string): string {
  return Buffer.from(JSON.stringify([createdAt, id])).toString('base64url');
}

export function decodeCursor(cursor: string): { createdAt: number; id: string } {
  try {
    const v: unknown = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
    if (Array.isArray(v) && v.length === 2 && Number.isSafeInteger(v[0]) && typeof v[1] === 'string') {
      return { createdAt: v[0], id: v[1] };
    }
  } catch {
    // fall through
  }
  throw new ChuteError('invalid_request', { message: 'cursor is not one this API returned.' });
}
