import { ChuteError } from '@chute/errors';
import type { Services } from '../../services.ts';
import type { Ctx } from '../context.ts';
import { companionCaller } from './access.ts';

/**
 * GET /v1/companion/{link}/s3/params — Uppy's simple (non-multipart) upload: a POST policy, after
 * which Uppy calls nothing, so the gateway would never learn the file arrived and could never
 * verify and freeze it. Refused, saying what to set instead (docs/uppy.md). `method_not_allowed`
 * as for a proxied upload on a route without proxy: this way of uploading is not one this takes.
 */
export function getCompanionParams(services: Services) {
  return (c: Ctx) => {
    companionCaller(c, services);
    throw new ChuteError('method_not_allowed', {
      message:
        'Chute takes Uppy uploads by multipart only: set shouldUseMultipart: true on @uppy/aws-s3. After a simple upload Uppy calls nothing, so the file could never be verified.',
      details: { set: { shouldUseMultipart: true } },
    });
  };
}
