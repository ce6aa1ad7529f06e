import { ChuteError } from '@chute/errors';
import type { Upload } from '../db/types.ts';
import type { RouteRule } from '../rules/rule.ts';
import type { BaseServices } from '../services.ts';

/**
 * The rule the upload's grant was signed under, not the config's rule of the moment: a config
 * changed between grant and complete (or review) must not change what this upload is held to.
 * Rows from before rules were recorded fall back to the config.
 */
export async function ruleOf(services: BaseServices, upload: Upload): Promise<RouteRule> {
  const rule =
    upload.ruleHash !== null
      ? await services.repo.rules.get(upload.ruleHash)
      : services.config.routes.get(upload.route);
  if (rule === undefined) {
    throw new ChuteError('route_not_found', {
      message: `The rule of route "${upload.route}" this upload was granted under is not known.`,
    });
  }
  return rule;
}
