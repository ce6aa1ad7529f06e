import type { IncomingMessage } from 'node:http';
import { ChuteError } from '@chute/errors';
import { ruleOf } from '../lifecycle/rule-of.ts';
import { ProxyBudget } from '../proxy/budget.ts';
import { meterBody } from '../proxy/meter.ts';
import { typeAllowed } from '../rules/mime.ts';
import { putSignedHeaders } from '../rules/put-headers.ts';
import type { Services } from '../services.ts';
import { canonicalType, SNIFF_BYTES, sniff } from '../verify/sniff.ts';
import { visibleUpload } from './access.ts';
import { actorOf, authenticate, type Ctx } from './context.ts';
import { toView } from './view.ts';

/**
 * PUT /v1/uploads/{id}/content — proxy mode, for clients that cannot reach storage: the body
 * streams through the gateway to the grant's incoming key under the same rule, then the same
 * complete (verify → freeze) runs. Outline: auth → owner's upload → route allows proxy → state
 * and deadline → declared length → in-flight budget → sniff the first bytes → stream (counted,
 * hashed, last chunk held back) → MD5 against storage's ETag → complete.
 * Nothing is written to storage before the type is known, and nothing lands that is not exactly
 * the declared bytes; a refused or broken body leaves the grant usable.
 */
export function putContent(services: Services) {
  const { storage, clock, metrics, config } = services;
  const budget = new ProxyBudget(config.proxy.maxInFlight, metrics);
  return async (c: Ctx) => {
    const principal = await authenticate(c, services);
    const upload = await visibleUpload(services, principal, c.req.param('id') ?? '');
    // An admin may see the upload, but the bytes must come from its owner (the object names them).
    if (upload.userId !== principal.userId) throw new ChuteError('not_found');
    const rule = await ruleOf(services, upload);
    if (rule.proxy !== true) {
      throw new ChuteError('method_not_allowed', {
        message: `Route "${rule.name}" does not take uploads through the gateway; use the grant's URL.`,
      });
    }
    if (upload.multipartId !== null) {
      throw new ChuteError('invalid_request', { message: 'A multipart grant cannot be proxied.' });
    }
    if (upload.state !== 'granted') {
      throw new ChuteError('conflict', {
        message: 'This upload has already been sent.',
        details: { state: upload.state },
      });
    }
    if (clock() > upload.expiresAt) throw new ChuteError('grant_expired');

    const size = upload.declaredSize;
    const length = c.req.header('content-length');
    if (length !== undefined) {
      // Refused before a byte is read: the client already said it would send something else.
      const n = Number(length);
      if (n > size) throw new ChuteError('too_large', { message: `Content-Length ${n} > declared ${size}.` });
      if (n !== size) {
        throw new ChuteError('invalid_request', {
          message: `Content-Length ${length} is not the declared size ${size}.`,
          details: { field: 'size' },
        });
      }
    }

    const release = budget.take(size);
    try {
      // The node request itself where there is one (@hono/node-server): its async iterator pulls
      // with real backpressure, while Readable.toWeb() behind c.req.raw.body queued up to 90 MiB
      // ahead of a slow storage (measured against RGW). app.request() in tests has only the web body.
      const incoming = (c.env as { incoming?: IncomingMessage } | undefined)?.incoming;
      const metered = await meterBody(incoming ?? c.req.raw.body, {
        size,
        sampleBytes: SNIFF_BYTES,
        checksum: upload.checksum ?? undefined,
      });
      // The same judgement complete makes, before the first byte goes to storage; complete
      // checks the stored object again.
      const declared = canonicalType(upload.declaredType);
      const sniffed = await sniff(metered.sample, declared);
      if (
        (sniffed.kind === 'detected' && canonicalType(sniffed.type) !== declared) ||
        sniffed.kind === 'unknown'
      ) {
        const found = sniffed.kind === 'detected' ? sniffed.type : 'of no known type';
        throw new ChuteError('type_not_allowed', {
          message: `The bytes are ${found}, declared ${upload.declaredType}.`,
          details: { detectedType: found, allowed: typeAllowed(found, rule.types) },
        });
      }
      const headers = putSignedHeaders(rule, {
        uploadId: upload.id,
        userId: upload.userId,
        contentType: upload.declaredType,
        size,
        checksum: upload.checksum ?? undefined,
      });
      const { etag } = await storage.putStream({ key: upload.incomingKey, headers, body: metered.body });
      // For a single PUT, S3 (and RGW, MinIO, the embedded store) report the MD5 as the ETag: a
      // different one means the bytes changed between us and storage.
      const md5 = metered.digests().md5;
      if (/^"[0-9a-f]{32}"$/.test(etag) && etag !== `"${md5}"`) {
        await storage.delete(upload.incomingKey).catch(() => {});
        throw new ChuteError('unavailable', { message: 'Storage stored other bytes than were sent; retry.' });
      }
      metrics.proxiedBytes.inc({ route: upload.route }, size);
    } finally {
      release();
    }
    const done = await services.completer.complete(upload, actorOf(c, principal));
    return c.json(toView(done), 200);
  };
}
