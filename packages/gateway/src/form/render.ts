import type { Upload } from '../db/types.ts';
import { storageOrigins } from '../page/mount.ts';
import { formConditions, formTypes } from '../rules/form-conditions.ts';
import { postFields } from '../rules/post-conditions.ts';
import type { RouteRule } from '../rules/rule.ts';
import type { Services } from '../services.ts';
import { formatSize } from '../units/size.ts';
import { type FormView, formCsp } from './html.ts';
import { doneLink } from './links.ts';

/** The gateway's origin as browsers reach it: the config's, else the request's. */
export function publicBase(services: Services, requestUrl: string): string {
  return (services.config.form.publicUrl ?? new URL(requestUrl).origin).replace(/\/+$/, '');
}

/**
 * The form for one form grant, signed now for the rest of the grant's lifetime. Rendering again
 * (a reload) signs the same key, type list and redirect: it adds no way in.
 */
export function renderForm(
  services: Services,
  upload: Upload,
  rule: RouteRule,
  base: string,
  returnUrl: string | undefined,
): FormView {
  const { storage, config, clock } = services;
  const secret = config.form.secret!;
  const types = formTypes(rule);
  const redirect = doneLink(base, secret, {
    id: upload.id,
    exp: upload.expiresAt + config.sweeper.graceMs,
    to: returnUrl,
  });
  const conditions = formConditions(rule, {
    bucket: storage.bucket,
    key: upload.incomingKey,
    uploadId: upload.id,
    userId: upload.userId,
    redirect,
    contentType: types.length === 1 ? types[0] : undefined,
  });
  const expiresIn = Math.max(1, Math.floor((upload.expiresAt - clock()) / 1000));
  const form = storage.postForm({
    key: upload.incomingKey,
    conditions,
    fields: postFields(conditions),
    expiresIn,
  });
  const image = rule.image;
  const pixels =
    image === undefined ? '' : `, at most ${image.maxWidth ?? 'any'}×${image.maxHeight ?? 'any'} pixels`;
  return {
    action: form.url,
    fields: form.fields,
    types: types.length === 1 ? [] : types,
    limits: `${types.join(', ')}; up to ${formatSize(rule.maxSize)}${pixels}`,
  };
}

export function formPageCsp(services: Services): string {
  const returns = services.config.form.returnUrls.map((u) => new URL(u).origin);
  return formCsp(storageOrigins(services.config.storage), returns);
}
