import type { z } from 'zod';
import { COMPANION_ENDPOINTS } from './companion/endpoints.ts';
import {
  CompleteRequest,
  DecisionRequest,
  DownloadLink,
  ErrorBody,
  FormLink,
  FormRequest,
  Grant,
  GrantRequest,
  History,
  PartUrls,
  ReviewList,
  StoredParts,
  UploadList,
  UploadView,
} from './schemas.ts';

/**
 * Every endpoint of the API, as data: app.ts mounts exactly these, and openapi.ts documents exactly
 * these (a test walks the app's routes against the document), so none can go undocumented.
 */
export type Method = 'get' | 'post' | 'put' | 'delete';

export interface Endpoint {
  method: Method;
  /** OpenAPI style: `/v1/uploads/{id}`; hono's `:id` is derived. */
  path: string;
  operationId: string;
  summary: string;
  auth: boolean;
  request?: z.ZodType;
  /** The body may be left out (complete: multipart clients may send their part list). */
  requestOptional?: boolean;
  /** The body is the file's bytes, not JSON (proxy mode). */
  rawBody?: string;
  query?: Record<string, { description: string; schema: Record<string, unknown> }>;
  /** Path parameters other than `{id}` (which every `{id}` path shares: idParam). */
  params?: Record<string, { description: string; schema: Record<string, unknown> }>;
  responses: Record<string, { description: string; schema?: z.ZodType; headers?: Record<string, string> }>;
}

export const idParam = {
  name: 'id',
  in: 'path',
  required: true,
  schema: { type: 'string', pattern: '^up_[0-9A-Za-z]{22}$' },
};

export const ENDPOINTS: readonly Endpoint[] = [
  {
    method: 'post',
    path: '/v1/grants',
    operationId: 'createGrant',
    summary: 'Ask for a short-lived grant to upload one file straight to storage.',
    auth: true,
    request: GrantRequest,
    responses: {
      '201': { description: 'The grant.', schema: Grant },
      '400': { description: 'invalid_request, too_small', schema: ErrorBody },
      '404': { description: 'route_not_found', schema: ErrorBody },
      '413': { description: 'too_large', schema: ErrorBody },
      '415': { description: 'type_not_allowed', schema: ErrorBody },
      '429': { description: 'quota_exceeded', schema: ErrorBody, headers: { 'Retry-After': 'seconds' } },
    },
  },
  {
    method: 'post',
    path: '/v1/uploads/{id}/complete',
    operationId: 'completeUpload',
    summary:
      'Verify the uploaded object and freeze it (multipart: assemble the parts storage holds first). Idempotent.',
    auth: true,
    request: CompleteRequest,
    requestOptional: true,
    responses: {
      '200': {
        description: 'The outcome: verified, pending_review, or rejected with a reason.',
        schema: UploadView,
      },
      '404': { description: 'not_found (also for someone else\u2019s upload)', schema: ErrorBody },
      '400': { description: 'invalid_request: a part list that disagrees with storage', schema: ErrorBody },
      '409': {
        description:
          'conflict: nothing uploaded yet, or parts missing / of the wrong size (details); the grant stays usable',
        schema: ErrorBody,
      },
      '410': { description: 'grant_expired', schema: ErrorBody },
      '503': { description: 'unavailable (storage); retry', schema: ErrorBody },
    },
  },
  {
    method: 'post',
    path: '/v1/forms',
    operationId: 'createForm',
    summary:
      'For the app\u2019s backend: a signed link to a script-free upload form for this user and route (and the <form> to embed).',
    auth: true,
    request: FormRequest,
    responses: {
      '201': { description: 'The form link.', schema: FormLink },
      '400': { description: 'invalid_request: returnUrl not configured', schema: ErrorBody },
      '404': { description: 'route_not_found; not_found when forms are not enabled', schema: ErrorBody },
      '429': { description: 'quota_exceeded', schema: ErrorBody, headers: { 'Retry-After': 'seconds' } },
    },
  },
  {
    method: 'put',
    path: '/v1/uploads/{id}/content',
    operationId: 'putUploadContent',
    summary:
      'Proxy mode (routes with proxy): send the file through the gateway to storage, then complete. Body: exactly the declared bytes.',
    auth: true,
    rawBody: 'The file, exactly the declared size; its first bytes must be the declared type.',
    responses: {
      '200': { description: 'The outcome, as complete answers.', schema: UploadView },
      '400': {
        description: 'invalid_request: fewer bytes than declared, checksum differs',
        schema: ErrorBody,
      },
      '404': { description: 'not_found (also for someone else\u2019s upload)', schema: ErrorBody },
      '405': {
        description: 'method_not_allowed: the route does not take proxied uploads',
        schema: ErrorBody,
      },
      '409': { description: 'conflict: already sent (details.state)', schema: ErrorBody },
      '410': { description: 'grant_expired', schema: ErrorBody },
      '413': { description: 'too_large: more bytes than declared; nothing stored', schema: ErrorBody },
      '415': {
        description: 'type_not_allowed: the first bytes are another type; nothing stored',
        schema: ErrorBody,
      },
      '503': {
        description: 'unavailable: the instance carries its limit of proxied bytes, or storage is down',
        schema: ErrorBody,
        headers: { 'Retry-After': 'seconds' },
      },
    },
  },
  {
    method: 'get',
    path: '/v1/uploads/{id}',
    operationId: 'getUpload',
    summary: 'One upload (own; any for an admin).',
    auth: true,
    responses: {
      '200': { description: 'The upload.', schema: UploadView },
      '404': { description: 'not_found', schema: ErrorBody },
    },
  },
  {
    method: 'get',
    path: '/v1/uploads',
    operationId: 'listUploads',
    summary: 'Uploads, newest first (own; everyone\u2019s for an admin).',
    auth: true,
    query: {
      state: { description: 'Comma-separated states.', schema: { type: 'string' } },
      cursor: { description: 'nextCursor of the previous page.', schema: { type: 'string' } },
      limit: { description: '1–100, default 50.', schema: { type: 'integer', minimum: 1, maximum: 100 } },
    },
    responses: {
      '200': { description: 'A page.', schema: UploadList },
      '400': { description: 'invalid_request', schema: ErrorBody },
    },
  },
  {
    method: 'get',
    path: '/v1/files/{id}/download',
    operationId: 'downloadFile',
    summary: 'Redirect to a short-lived signed GET of the frozen file (owner, reviewer, admin).',
    auth: true,
    responses: {
      '200': {
        description: 'With `Accept: application/json`: the signed URL as JSON (for pages using fetch).',
        schema: DownloadLink,
      },
      '302': {
        description: 'Location: the signed URL (valid 60 s).',
        headers: { Location: 'the signed URL' },
      },
      '404': { description: 'not_found', schema: ErrorBody },
    },
  },
  {
    method: 'post',
    path: '/v1/uploads/{id}/parts',
    operationId: 'signParts',
    summary: 'Multipart: presigned URLs for parts from…from+count-1 (each with its Content-Length signed).',
    auth: true,
    query: {
      from: { description: 'First part number (default 1).', schema: { type: 'integer', minimum: 1 } },
      count: {
        description: '1–1000 (default: the rest, up to 1000).',
        schema: { type: 'integer', minimum: 1, maximum: 1000 },
      },
    },
    responses: {
      '200': { description: 'Part URLs.', schema: PartUrls },
      '400': { description: 'invalid_request', schema: ErrorBody },
      '404': { description: 'not_found (also someone else\u2019s upload)', schema: ErrorBody },
      '409': { description: 'conflict: not multipart, or no longer being uploaded', schema: ErrorBody },
      '410': { description: 'grant_expired', schema: ErrorBody },
    },
  },
  {
    method: 'get',
    path: '/v1/uploads/{id}/parts',
    operationId: 'listStoredParts',
    summary: 'Multipart: the parts storage already holds (to resume after a crash or reload).',
    auth: true,
    responses: {
      '200': { description: 'The plan and the parts uploaded so far.', schema: StoredParts },
      '404': { description: 'not_found', schema: ErrorBody },
      '409': { description: 'conflict: not multipart, or no longer being uploaded', schema: ErrorBody },
    },
  },
  {
    method: 'delete',
    path: '/v1/uploads/{id}',
    operationId: 'cancelUpload',
    summary: 'Cancel an upload not yet completed: multipart aborted on storage, the grant withdrawn.',
    auth: true,
    responses: {
      '200': { description: 'The upload, withdrawn.', schema: UploadView },
      '403': { description: 'forbidden: not the owner', schema: ErrorBody },
      '404': { description: 'not_found', schema: ErrorBody },
      '409': { description: 'conflict: already completed; details.state', schema: ErrorBody },
    },
  },
  {
    method: 'get',
    path: '/v1/reviews',
    operationId: 'listReviews',
    summary: 'The review queue (reviewers, admins): oldest verified first, with preview links.',
    auth: true,
    query: {
      state: {
        description: 'pending (default), approved or rejected.',
        schema: { type: 'string', enum: ['pending', 'approved', 'rejected'] },
      },
      cursor: { description: 'nextCursor of the previous page.', schema: { type: 'string' } },
      limit: { description: '1–100, default 50.', schema: { type: 'integer', minimum: 1, maximum: 100 } },
    },
    responses: {
      '200': { description: 'A page of the queue.', schema: ReviewList },
      '400': { description: 'invalid_request', schema: ErrorBody },
      '403': { description: 'forbidden: needs the reviewer role', schema: ErrorBody },
    },
  },
  {
    method: 'post',
    path: '/v1/uploads/{id}/decision',
    operationId: 'decideUpload',
    summary: 'Approve (publish) or reject, with a reason from the route\u2019s list. Once per upload.',
    auth: true,
    request: DecisionRequest,
    responses: {
      '200': {
        description: 'The upload, decided (approved: published, or publication pending).',
        schema: UploadView,
      },
      '400': {
        description: 'invalid_request: no or unknown reason to reject, a reason to approve',
        schema: ErrorBody,
      },
      '403': {
        description: 'forbidden: needs the reviewer role; a reviewer\u2019s own upload',
        schema: ErrorBody,
      },
      '404': { description: 'not_found', schema: ErrorBody },
      '409': {
        description: 'conflict: already decided or not pending; details.state is the current state',
        schema: ErrorBody,
      },
    },
  },
  {
    method: 'post',
    path: '/v1/uploads/{id}/withdraw',
    operationId: 'withdrawUpload',
    summary: 'The owner withdraws an upload waiting for review; its file is deleted.',
    auth: true,
    responses: {
      '200': { description: 'The upload, withdrawn.', schema: UploadView },
      '403': { description: 'forbidden: not the owner', schema: ErrorBody },
      '404': { description: 'not_found', schema: ErrorBody },
      '409': {
        description: 'conflict: not pending review; details.state is the current state',
        schema: ErrorBody,
      },
    },
  },
  {
    method: 'get',
    path: '/v1/uploads/{id}/history',
    operationId: 'getUploadHistory',
    summary: 'Every state change of the upload, oldest first, with actor and request id.',
    auth: true,
    responses: {
      '200': { description: 'The audit trail.', schema: History },
      '404': { description: 'not_found', schema: ErrorBody },
    },
  },
  {
    method: 'get',
    path: '/v1/openapi.json',
    operationId: 'openapi',
    summary: 'This document.',
    auth: false,
    responses: { '200': { description: 'OpenAPI 3.1.' } },
  },
  ...COMPANION_ENDPOINTS,
];
