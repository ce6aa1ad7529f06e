import { REJECTION_REASONS } from '@chute/errors';
import { z } from 'zod';
import { AUDIT_ACTIONS } from '../db/audit.ts';
import { UPLOAD_STATES } from '../db/types.ts';

/**
 * The API's request and response shapes. Requests are validated with these; the OpenAPI document
 * is generated from the same schemas (openapi.ts), so the two cannot disagree.
 */

const sha256 = z
  .string()
  .regex(/^([0-9a-fA-F]{64}|[A-Za-z0-9+/]{43}=)$/, 'a SHA-256 as 64 hex digits or 44 base64 characters');

export const GrantRequest = z
  .strictObject({
    route: z.string().min(1).max(64).describe('The route\u2019s name, e.g. "logo".'),
    filename: z
      .string()
      .min(1)
      .max(255)
      .describe('The file\u2019s name, for display only; never part of a key.'),
    contentType: z
      .string()
      .min(3)
      .max(255)
      .describe('The declared media type; signed, so it must be sent verbatim.'),
    size: z.number().int().min(0).describe('The exact size in bytes; storage refuses any other.'),
    checksum: sha256.optional().describe('SHA-256 of the file; PUT grants sign it as x-amz-checksum-sha256.'),
    method: z
      .enum(['post', 'put', 'multipart'])
      .optional()
      .describe(
        'Transport; defaults to the route\u2019s (multipart above its threshold, where it allows it).',
      ),
  })
  .meta({ id: 'GrantRequest' });

export const SignedPart = z
  .object({
    number: z.number().int(),
    size: z.number().int().describe('The exact Content-Length this part must have (signed).'),
    url: z.string().describe('A presigned UploadPart URL.'),
  })
  .meta({ id: 'SignedPart' });

export const Grant = z
  .object({
    id: z.string().describe('The upload id (up_…).'),
    method: z.enum(['post', 'put', 'multipart']),
    url: z
      .string()
      .describe(
        'Where to send the bytes (a form POST, or a PUT); multipart: the object (each part has its own URL).',
      ),
    fields: z
      .record(z.string(), z.string())
      .optional()
      .describe('POST: form fields to send, in this order, before the `file` field (which must be last).'),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe('PUT: headers to send verbatim (browsers set content-length themselves).'),
    key: z.string().describe('The storage key the bytes go to.'),
    uploadId: z
      .string()
      .optional()
      .describe('Multipart: storage\u2019s upload id (for the record; every part URL carries it).'),
    partSize: z.number().int().optional().describe('Multipart: every part is this size but the last.'),
    partCount: z.number().int().optional(),
    parts: z
      .array(SignedPart)
      .optional()
      .describe(
        'Multipart: the first part URLs (PUT each part\u2019s bytes, exactly `size` of them); more from POST /v1/uploads/{id}/parts.',
      ),
    partsExpireAt: z.iso
      .datetime()
      .optional()
      .describe('When these part URLs expire (sign again with POST …/parts).'),
    expiresAt: z.iso.datetime(),
    serverTime: z.iso.datetime().describe('The gateway\u2019s clock, to judge skew against expiresAt.'),
  })
  .meta({ id: 'Grant' });

export const UploadView = z
  .object({
    id: z.string(),
    userId: z.string(),
    route: z.string(),
    state: z.enum(UPLOAD_STATES),
    method: z.enum(['post', 'put', 'multipart']),
    filename: z.string(),
    contentType: z.string().describe('As declared.'),
    size: z.number().int().describe('As declared.'),
    createdAt: z.iso.datetime(),
    expiresAt: z.iso.datetime(),
    completedAt: z.iso.datetime().optional(),
    reason: z
      .enum(Object.keys(REJECTION_REASONS) as [keyof typeof REJECTION_REASONS])
      .optional()
      .describe('Why it was rejected.'),
    file: z
      .object({
        type: z.string().describe('Read from the bytes.'),
        size: z.number().int(),
        width: z.number().int().optional(),
        height: z.number().int().optional(),
        download: z.string().describe('GET this (authenticated) for a short-lived link.'),
      })
      .optional()
      .describe('Present once verified (and until a rejected or withdrawn file is purged).'),
    review: z
      .object({
        decision: z.enum(['approve', 'reject']),
        reviewer: z.string(),
        at: z.iso.datetime(),
        reason: z.string().optional().describe('The route\u2019s reason code, for a rejection.'),
        note: z.string().optional(),
      })
      .optional()
      .describe('The reviewer\u2019s decision, once made.'),
    published: z
      .object({
        key: z.string().describe('Where the app finds the published file in the bucket.'),
        at: z.iso.datetime(),
        download: z
          .string()
          .describe('GET this (authenticated) for a short-lived link to the published copy.'),
      })
      .optional()
      .describe('Present while the file is published (approved, or verified on a route that publishes).'),
    retiredAt: z.iso
      .datetime()
      .optional()
      .describe('When a newer file of the same user and route replaced it.'),
  })
  .meta({ id: 'Upload' });

export const UploadList = z
  .object({
    items: z.array(UploadView),
    nextCursor: z.string().optional().describe('Pass as `cursor` for the next page.'),
  })
  .meta({ id: 'UploadList' });

export const ListQuery = z.strictObject({
  state: z
    .string()
    .optional()
    .transform((s, ctx) => {
      if (s === undefined || s === '') return undefined;
      const states = s.split(',');
      for (const st of states) {
        if (!(UPLOAD_STATES as readonly string[]).includes(st)) {
          ctx.addIssue({ code: 'custom', message: `unknown state "${st}"` });
          return z.NEVER;
        }
      }
      return states as (typeof UPLOAD_STATES)[number][];
    }),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
});

export const DownloadLink = z
  .object({
    url: z.string().describe('A signed GET of the file, served as an attachment.'),
    expiresIn: z.number().int().describe('Seconds the URL stays valid.'),
  })
  .meta({ id: 'DownloadLink' });

export const ErrorBody = z
  .object({
    error: z.object({
      code: z.string(),
      message: z.string(),
      requestId: z.string(),
      details: z.record(z.string(), z.unknown()).optional(),
    }),
  })
  .meta({ id: 'Error' });

export const DecisionRequest = z
  .strictObject({
    decision: z.enum(['approve', 'reject']),
    reason: z
      .string()
      .min(1)
      .max(32)
      .optional()
      .describe('Required to reject: one of the route\u2019s reason codes. Not allowed to approve.'),
    note: z.string().min(1).max(1000).optional().describe('Free text for the owner and the audit trail.'),
  })
  .meta({ id: 'DecisionRequest' });

export const ReviewItem = z
  .object({
    id: z.string(),
    owner: z.string().describe('The uploader\u2019s user id.'),
    route: z.string(),
    filename: z.string(),
    declaredType: z.string(),
    detectedType: z.string().describe('Read from the bytes.'),
    size: z.number().int(),
    width: z.number().int().optional(),
    height: z.number().int().optional(),
    state: z.enum(UPLOAD_STATES),
    createdAt: z.iso.datetime(),
    verifiedAt: z.iso.datetime(),
    reasons: z.array(z.string()).describe('The reason codes a rejection of this upload may use.'),
    preview: z
      .object({
        url: z.string().describe('A signed GET of the frozen file.'),
        expiresIn: z.number().int(),
        disposition: z
          .enum(['inline', 'attachment'])
          .describe('inline only for image types that cannot carry script (PNG, JPEG, GIF, WebP, AVIF).'),
      })
      .optional()
      .describe('Absent once the file was purged.'),
  })
  .meta({ id: 'ReviewItem' });

export const ReviewList = z
  .object({
    items: z.array(ReviewItem),
    nextCursor: z.string().optional().describe('Pass as `cursor` for the next page.'),
  })
  .meta({ id: 'ReviewList' });

export const ReviewQuery = z.strictObject({
  state: z.enum(['pending', 'approved', 'rejected']).default('pending'),
  cursor: z.string().max(512).optional(),
  limit: z.coerce.number().int().min(1).max(100).optional(),
});

export const HistoryEntry = z
  .object({
    at: z.iso.datetime(),
    action: z.enum(AUDIT_ACTIONS),
    actor: z.string().describe('A user id, or "system".'),
    actorRole: z.enum(['uploader', 'reviewer', 'admin', 'system']),
    from: z.enum(UPLOAD_STATES).optional(),
    to: z.enum(UPLOAD_STATES),
    requestId: z.string().optional(),
    detail: z.record(z.string(), z.unknown()).optional(),
  })
  .meta({ id: 'HistoryEntry' });

export const History = z.object({ items: z.array(HistoryEntry) }).meta({ id: 'History' });

export const PartsQuery = z.strictObject({
  from: z.coerce.number().int().min(1).max(10_000).default(1),
  count: z.coerce.number().int().min(1).max(1000).optional(),
});

export const PartUrls = z
  .object({ parts: z.array(SignedPart), expiresAt: z.iso.datetime(), serverTime: z.iso.datetime() })
  .meta({ id: 'PartUrls' });

export const StoredParts = z
  .object({
    partSize: z.number().int(),
    partCount: z.number().int(),
    parts: z
      .array(z.object({ number: z.number().int(), size: z.number().int(), etag: z.string() }))
      .describe('The parts storage holds now (ListParts), by number.'),
  })
  .meta({ id: 'StoredParts' });

export const CompleteRequest = z
  .strictObject({
    parts: z
      .array(
        z.strictObject({ number: z.number().int().min(1).max(10_000), etag: z.string().min(1).max(200) }),
      )
      .max(10_000)
      .optional()
      .describe(
        'Multipart: the parts as the client sent them; checked against what storage lists, never trusted.',
      ),
  })
  .meta({ id: 'CompleteRequest' });
