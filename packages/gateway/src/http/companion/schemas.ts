import { z } from 'zod';
import { UploadView } from '../schemas.ts';

/**
 * What the Companion endpoints read and answer: @uppy/aws-s3's Companion client (6.x,
 * `src/s3-client/CompanionS3.ts`) and Companion's own `s3` controller (the reference for field
 * names). Requests are loose objects: Uppy's client may add fields, and a Companion client is not
 * ours to break.
 */

export const LINK_TTL_DEFAULT_SEC = 3600;
/** A link is a credential in a URL: a day at most, then the app asks for a new one. */
export const LINK_TTL_MAX_SEC = 86_400;

export const LinkRequest = z
  .strictObject({
    route: z.string().min(1).max(64).describe('The route Uppy uploads to (it must allow multipart).'),
    ttl: z
      .number()
      .int()
      .min(60)
      .max(LINK_TTL_MAX_SEC)
      .optional()
      .describe(`Seconds the link is accepted (default ${LINK_TTL_DEFAULT_SEC}).`),
  })
  .meta({ id: 'CompanionLinkRequest' });

export const CompanionLink = z
  .object({
    companionEndpoint: z
      .string()
      .describe('Give this to @uppy/aws-s3 as `companionEndpoint` (with `shouldUseMultipart: true`).'),
    route: z.string(),
    expiresAt: z.iso.datetime(),
  })
  .meta({ id: 'CompanionLink' });

/** Uppy sends the file's meta as `metadata` (all fields: allowedMetaFields defaults to true). */
export const CreateMultipartRequest = z
  .looseObject({
    filename: z.string().describe('Uppy sends the file\u2019s name (display only; never part of a key).'),
    type: z.string().describe('The file\u2019s media type, as declared.'),
    metadata: z
      .looseObject({
        size: z
          .union([z.number(), z.string().regex(/^\d{1,16}$/)])
          .optional()
          .describe('The file\u2019s size in bytes (docs/uppy.md: Uppy does not send it unless told).'),
      })
      .optional(),
  })
  .meta({ id: 'CompanionCreateMultipart' });

export const CreateMultipartAnswer = z
  .object({
    uploadId: z.string().describe('The upload\u2019s id (up_…): Uppy sends it back on every later call.'),
    key: z.string().describe('The storage key the parts go to.'),
  })
  .meta({ id: 'CompanionMultipart' });

export const SignedPartAnswer = z
  .object({
    url: z
      .string()
      .describe('A presigned UploadPart URL; its Content-Length (the part\u2019s exact size) is signed.'),
    expires: z.number().int().describe('Seconds the URL is valid.'),
  })
  .meta({ id: 'CompanionSignedPart' });

export const StoredPartsAnswer = z
  .array(
    z.object({
      PartNumber: z.number().int(),
      Size: z.number().int(),
      ETag: z.string(),
    }),
  )
  .meta({ id: 'CompanionParts' });

export const CompleteMultipartRequest = z
  .looseObject({
    parts: z
      .array(
        z.looseObject({ PartNumber: z.number().int().min(1).max(10_000), ETag: z.string().min(1).max(256) }),
      )
      .max(10_000),
  })
  .meta({ id: 'CompanionComplete' });

export const CompleteMultipartAnswer = z
  .object({
    location: z.string().describe('The upload in the API: GET it (authenticated) for its state.'),
    key: z.string().describe('The key Uppy was given at the start (the upload is frozen under another).'),
    upload: UploadView,
  })
  .meta({ id: 'CompanionCompleted' });
