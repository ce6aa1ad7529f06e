import { REJECTION_REASONS } from '@chute/errors';
import { z } from 'zod';
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
    method: z.enum(['post', 'put']).optional().describe('Transport; defaults to the route\u2019s.'),
  })
  .meta({ id: 'GrantRequest' });

export const Grant = z
  .object({
    id: z.string().describe('The upload id (up_…).'),
    method: z.enum(['post', 'put']),
    url: z.string().describe('Where to send the bytes (a form POST, or a PUT).'),
    fields: z
      .record(z.string(), z.string())
      .optional()
      .describe('POST: form fields to send, in this order, before the `file` field (which must be last).'),
    headers: z
      .record(z.string(), z.string())
      .optional()
      .describe('PUT: headers to send verbatim (browsers set content-length themselves).'),
    key: z.string().describe('The storage key the bytes go to.'),
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
      .describe('Present once verified.'),
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
