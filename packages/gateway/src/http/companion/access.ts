import { ChuteError } from '@chute/errors';
import { unauthenticated } from '../../auth/errors.ts';
import type { Principal } from '../../auth/principal.ts';
import type { Actor } from '../../db/audit.ts';
import type { Upload } from '../../db/types.ts';
import { isUploadId } from '../../domain/ids.ts';
import type { Services } from '../../services.ts';
import type { Ctx } from '../context.ts';
import { readCompanionLink } from './link.ts';

/** Who a Companion call acts for, and the one route its link allows. */
export interface Caller {
  principal: Principal;
  route: string;
  by: Actor;
}

/** The Companion endpoints exist only with `companion.secret`; otherwise they are not there. */
export function companionSecret(services: Services): string {
  const secret = services.config.companion.secret;
  if (secret === undefined) {
    throw new ChuteError('not_found', { message: 'Companion endpoints are not enabled (companion.secret).' });
  }
  return secret;
}

/**
 * The link in the path, checked: signature first (nothing of a forged link is read), then its
 * deadline. A bad link is 401 like a bad token: it is the credential of these calls.
 */
export function companionCaller(c: Ctx, services: Services): Caller {
  const secret = companionSecret(services);
  const claims = readCompanionLink(secret, c.req.param('link') ?? '');
  if (claims === undefined) throw unauthenticated('invalid_token', 'Invalid Companion link');
  if (services.clock() > claims.exp) {
    throw unauthenticated('invalid_token', 'The Companion link has expired; ask the gateway for a new one');
  }
  const principal: Principal = { userId: claims.userId, role: claims.role, via: 'companion-link' };
  c.set('principal', principal);
  return {
    principal,
    route: claims.route,
    by: { id: claims.userId, role: claims.role, requestId: c.get('requestId') },
  };
}

/**
 * The upload named by Uppy's `uploadId` (our upload id) and `?key=`: the caller's own, of the
 * link's route, a multipart upload. Someone else's (or another route's) is not_found, exactly as
 * an id that does not exist, so ids cannot be probed; a key that is not the upload's is refused.
 */
export async function companionUpload(services: Services, c: Ctx, caller: Caller): Promise<Upload> {
  const id = c.req.param('uploadId') ?? '';
  if (!isUploadId(id)) throw new ChuteError('not_found');
  const upload = await services.repo.uploads.get(id);
  if (upload === undefined || upload.userId !== caller.principal.userId || upload.route !== caller.route) {
    throw new ChuteError('not_found');
  }
  const key = c.req.query('key');
  if (key !== upload.incomingKey) {
    throw new ChuteError('invalid_request', {
      message: 'key: not this upload\u2019s key (send the key the multipart call answered).',
      details: { field: 'key' },
    });
  }
  if (upload.multipartId === null || upload.partSize === null) {
    throw new ChuteError('conflict', {
      message: 'This upload is not a multipart upload.',
      details: { state: upload.state },
    });
  }
  return upload;
}

/** Parts can be listed and signed only while the upload is still being uploaded. */
export function assertOpen(services: Services, upload: Upload): void {
  if (upload.state !== 'granted') {
    throw new ChuteError('conflict', {
      message: `The upload is ${upload.state}; its parts are closed.`,
      details: { state: upload.state },
    });
  }
  if (services.clock() > upload.expiresAt) throw new ChuteError('grant_expired');
}

/** Where browsers reach the gateway: `companion.publicUrl`, else the request's own origin. */
export function gatewayBase(services: Services, requestUrl: string): string {
  return (services.config.companion.publicUrl ?? new URL(requestUrl).origin).replace(/\/+$/, '');
}
