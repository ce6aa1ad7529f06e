import { toChuteError } from '@chute/errors';
import type { Hono } from 'hono';
import type { Actor } from '../db/audit.ts';
import type { Upload } from '../db/types.ts';
import type { Ctx, Env } from '../http/context.ts';
import { ruleOf } from '../lifecycle/rule-of.ts';
import { essence, typeAllowed } from '../rules/mime.ts';
import type { Services } from '../services.ts';
import { esc, formPage, messagePage, outcomeText } from './html.ts';
import { doneTarget, linkValid } from './links.ts';
import { formPageCsp, publicBase, renderForm } from './render.ts';

/**
 * The no-JS form's two pages: GET /form/{id} (the form, from a signed link the app handed out)
 * and GET /form/done/… (where storage's 303 brings the browser back after the upload). Both answer
 * HTML, errors included: a person reads them, without script.
 *
 * Done: signature (upload, deadline, return URL) → deadline → the upload → bucket and key equal
 * the grant's → not already completed (a replay is shown the recorded outcome, never run again)
 * → storage's HEAD: there, with the ETag given → the declared type and size taken from storage
 * (the type only when the route allows it) → complete (verify → freeze) → 303 to the return URL
 * with the outcome, or the result page.
 */
export function mountForms(app: Hono<Env>, services: Services): void {
  const { config, repo, storage, clock } = services;
  const secret = config.form.secret;
  if (secret === undefined) return;
  const csp = formPageCsp(services);
  const html = (c: Ctx, status: number, body: string) =>
    c.body(body, status as 200, {
      'content-type': 'text/html; charset=utf-8',
      'content-security-policy': csp,
      'x-content-type-options': 'nosniff',
      'x-frame-options': 'DENY',
      'referrer-policy': 'no-referrer',
      'cache-control': 'no-store',
    });
  const returnAllowed = (to: string) => to === '' || config.form.returnUrls.includes(to);
  /** A person reads these pages: an error (storage down: 503) is a page too, not JSON. */
  const asPage =
    (handler: (c: Ctx) => Promise<Response>) =>
    async (c: Ctx): Promise<Response> => {
      try {
        return await handler(c);
      } catch (e) {
        const err = toChuteError(e);
        if (err.status >= 500)
          services.logger.error({ err: e, requestId: c.get('requestId') }, 'form page failed');
        const retry = err.retryAfter !== undefined ? ' Try again in a moment.' : '';
        return html(
          c,
          err.status,
          messagePage(
            'Something went wrong',
            `${err.status < 500 ? err.message : 'The upload could not be checked.'}${retry}`,
          ),
        );
      }
    };

  app.get(
    '/form/done/:id/:exp/:to/:sig',
    asPage(async (c) => {
      const q = (k: string) => c.req.query(k) ?? '';
      const id = c.req.param('id') ?? '';
      const exp = Number(c.req.param('exp') ?? '');
      const to = doneTarget(c.req.param('to') ?? '');
      if (
        to === undefined ||
        !Number.isSafeInteger(exp) ||
        !linkValid(secret, 'done', id, exp, to, c.req.param('sig') ?? '') ||
        !returnAllowed(to)
      ) {
        return html(
          c,
          403,
          messagePage('Link not valid', 'This upload link is not valid. Start the upload again.'),
        );
      }
      if (clock() > exp) {
        return html(
          c,
          410,
          messagePage('Link expired', 'This upload link has expired. Start the upload again.'),
        );
      }
      const upload = await repo.uploads.get(id);
      if (upload === undefined) return html(c, 404, messagePage('Not found', 'No such upload.'));
      // Storage appended these; a browser can edit them before following the redirect.
      if (q('bucket') !== storage.bucket || q('key') !== upload.incomingKey) {
        return html(
          c,
          400,
          messagePage('Link not valid', 'The upload named in this link is not this form’s.'),
        );
      }
      if (upload.state !== 'granted') return replayed(c, upload);
      const head = await storage.head(upload.incomingKey);
      if (head === undefined) {
        return html(c, 409, messagePage('Nothing uploaded', 'No file has arrived for this form yet.'));
      }
      if (q('etag') !== head.etag) {
        return html(
          c,
          400,
          messagePage('Link not valid', 'The file named in this link is not the one stored.'),
        );
      }
      const stored = head.contentType === undefined ? undefined : essence(head.contentType);
      const rule = await ruleOf(services, upload);
      // The form's Content-Type came from the user's pick; only an allowed one becomes the declared
      // type (otherwise the placeholder stays and verify refuses the mismatch).
      const declaredType =
        stored !== undefined && typeAllowed(stored, rule.types) ? head.contentType : undefined;
      const by: Actor = { id: upload.userId, role: 'uploader', requestId: c.get('requestId') };
      const seen = await repo.uploads.transition(upload.id, ['granted'], 'granted', {
        fields: { declaredSize: head.size, ...(declaredType !== undefined && { declaredType }) },
        by,
        action: 'upload_seen',
        detail: { via: 'form', size: head.size, type: head.contentType ?? null },
      });
      if (seen === undefined) return replayed(c, (await repo.uploads.get(id)) ?? upload);
      const done = await services.completer.complete(seen, by);
      if (to !== '') {
        const target = new URL(to);
        target.searchParams.set('upload', done.id);
        target.searchParams.set('state', done.state);
        if (done.reason !== null) target.searchParams.set('reason', done.reason);
        return c.redirect(target.toString(), 303);
      }
      const text = outcomeText(done.state, done.reason);
      return html(
        c,
        200,
        messagePage(text.title, text.message, `<p>Upload <code>${esc(done.id)}</code>.</p>`),
      );
    }),
  );

  /** A second use of a done link: refused (409), showing what the first one recorded. */
  function replayed(c: Ctx, upload: Upload) {
    const text = outcomeText(upload.state, upload.reason);
    return html(c, 409, messagePage('Already used', `This upload link was already used. ${text.message}`));
  }

  app.get(
    '/form/:id{up_[0-9A-Za-z]{22}}',
    asPage(async (c) => {
      const id = c.req.param('id') ?? '';
      const exp = Number(c.req.query('exp') ?? '');
      const to = c.req.query('to') ?? '';
      if (
        !Number.isSafeInteger(exp) ||
        !linkValid(secret, 'page', id, exp, to, c.req.query('sig') ?? '') ||
        !returnAllowed(to)
      ) {
        return html(
          c,
          403,
          messagePage('Link not valid', 'This form link is not valid. Ask the app for a new one.'),
        );
      }
      const upload = await repo.uploads.get(id);
      if (upload === undefined) return html(c, 404, messagePage('Not found', 'No such form.'));
      if (clock() > exp || upload.state === 'expired') {
        return html(c, 410, messagePage('Link expired', 'This form has expired. Ask the app for a new one.'));
      }
      if (upload.state !== 'granted') return replayed(c, upload);
      const rule = await ruleOf(services, upload);
      const base = publicBase(services, c.req.url);
      return html(c, 200, formPage(renderForm(services, upload, rule, base, to === '' ? undefined : to)));
    }),
  );
}
