import { ChuteError } from '@chute/errors';
import type { Services } from '../../services.ts';
import type { Ctx } from '../context.ts';
import { createGrant } from '../grants.ts';
import { parseBody } from '../validate.ts';
import { companionCaller } from './access.ts';
import { uppyPartSize } from './part-size.ts';
import { CreateMultipartRequest } from './schemas.ts';

/**
 * POST /v1/companion/{link}/s3/multipart — Uppy starts a multipart upload: a multipart grant on
 * the link's route, exactly as POST /v1/grants makes one (rule, quota, record, CreateMultipartUpload
 * on storage), but cut into the parts Uppy will send. Answers Companion's `{key, uploadId}`; the
 * uploadId is the gateway's upload id, so every later call names a grant, not a raw storage upload.
 */
export function postCompanionMultipart(services: Services) {
  return async (c: Ctx) => {
    const caller = companionCaller(c, services);
    const body = await parseBody(c, CreateMultipartRequest);
    const size = body.metadata?.size;
    if (size === undefined) {
      // Uppy's Companion client sends the file's name, type and meta, not its size; the grant needs
      // it (quota, the route's limits, each part's signed length).
      throw new ChuteError('invalid_request', {
        message:
          "metadata.size: Uppy did not send the file's size. Add to new Uppy({...}): onBeforeFileAdded: (file) => ({ ...file, meta: { ...file.meta, size: file.size } }) (docs/uppy.md).",
        details: { field: 'metadata.size' },
      });
    }
    const grant = await createGrant(
      services,
      caller.principal,
      caller.by,
      {
        route: caller.route,
        filename: body.filename,
        contentType: body.type,
        size: Number(size),
        method: 'multipart',
      },
      { partSize: uppyPartSize },
    );
    c.header('cache-control', 'no-store');
    return c.json({ uploadId: grant.id, key: grant.key });
  };
}
