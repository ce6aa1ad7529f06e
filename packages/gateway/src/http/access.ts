import { ChuteError } from '@chute/errors';
import { hasRole, type Principal } from '../auth/principal.ts';
import type { Upload } from '../db/types.ts';
import { isUploadId } from '../domain/ids.ts';
import type { Services } from '../services.ts';

/**
 * The upload, if this caller may see it: its owner, or an admin (or, with `reviewers`, a
 * reviewer). Anyone else gets not_found — the same answer as for an id that does not exist, so
 * ids cannot be probed for existence.
 */
export async function visibleUpload(
  services: Services,
  principal: Principal,
  id: string,
  options: { reviewers?: boolean } = {},
): Promise<Upload> {
  if (!isUploadId(id)) throw new ChuteError('not_found');
  const upload = await services.repo.uploads.get(id);
  const allowed =
    upload !== undefined &&
    (upload.userId === principal.userId || hasRole(principal, options.reviewers ? 'reviewer' : 'admin'));
  if (!allowed) throw new ChuteError('not_found');
  return upload;
}
