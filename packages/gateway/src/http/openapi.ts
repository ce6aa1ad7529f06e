import { GATEWAY_CODES } from '@chute/errors';
import { z } from 'zod';
import { EVENT_SUMMARIES, EVENT_TYPES, WEBHOOK_HEADERS, webhookBody } from '../webhooks/schemas.ts';
import type { Ctx } from './context.ts';
import { ENDPOINTS, idParam } from './endpoints.ts';
import { ErrorBody } from './schemas.ts';

/**
 * The OpenAPI 3.1 document, built from the same zod schemas the handlers validate with (JSON
 * Schema 2020-12, which OpenAPI 3.1 uses as is). `ENDPOINTS` is also what app.ts mounts, and a
 * test walks the app's routes against the document, so an endpoint cannot go undocumented.
 */

/** `/v1/uploads/{id}` → `/v1/uploads/:id` */
export function honoPath(path: string): string {
  return path.replace(/\{(\w+)\}/g, ':$1');
}

function schemaRef(schema: z.ZodType, io: 'input' | 'output', components: Record<string, unknown>) {
  const json = z.toJSONSchema(schema, { io, target: 'draft-2020-12', unrepresentable: 'any' }) as Record<
    string,
    unknown
  >;
  const id = (schema.meta() as { id?: string } | undefined)?.id;
  delete json['$schema'];
  // Nested named schemas (Upload inside UploadList) come back under $defs: hoist them.
  const defs = json['$defs'] as Record<string, unknown> | undefined;
  if (defs !== undefined) {
    for (const [k, v] of Object.entries(defs)) components[k] = rewriteRefs(v);
    delete json['$defs'];
  }
  if (id === undefined) return rewriteRefs(json);
  components[id] = rewriteRefs(json);
  return { $ref: `#/components/schemas/${id}` };
}

function rewriteRefs<T>(v: T): T {
  return JSON.parse(JSON.stringify(v).replaceAll('"#/$defs/', '"#/components/schemas/')) as T;
}

export function openApiDocument(): Record<string, unknown> {
  const components: Record<string, unknown> = {};
  const paths: Record<string, Record<string, unknown>> = {};
  for (const e of ENDPOINTS) {
    const op: Record<string, unknown> = { operationId: e.operationId, summary: e.summary };
    const params: unknown[] = [];
    if (e.path.includes('{id}')) params.push(idParam);
    for (const [name, p] of Object.entries(e.params ?? {}))
      params.push({ name, in: 'path', required: true, ...p });
    for (const [name, q] of Object.entries(e.query ?? {}))
      params.push({ name, in: 'query', required: false, ...q });
    if (params.length > 0) op['parameters'] = params;
    if (e.request !== undefined) {
      op['requestBody'] = {
        required: e.requestOptional !== true,
        content: { 'application/json': { schema: schemaRef(e.request, 'input', components) } },
      };
    }
    if (e.rawBody !== undefined) {
      op['requestBody'] = {
        required: true,
        description: e.rawBody,
        content: { 'application/octet-stream': { schema: { type: 'string', format: 'binary' } } },
      };
    }
    const responses: Record<string, unknown> = {};
    for (const [status, r] of Object.entries(e.responses)) {
      responses[status] = {
        description: r.description,
        ...(r.schema !== undefined && {
          content: { 'application/json': { schema: schemaRef(r.schema, 'output', components) } },
        }),
        ...(r.headers !== undefined && {
          headers: Object.fromEntries(
            Object.entries(r.headers).map(([h, d]) => [h, { description: d, schema: { type: 'string' } }]),
          ),
        }),
      };
    }
    if (e.auth) {
      op['security'] = [{ bearer: [] }, { apiKey: [] }];
      responses['401'] = {
        description: 'unauthenticated',
        content: { 'application/json': { schema: schemaRef(ErrorBody, 'output', components) } },
      };
    }
    op['responses'] = responses;
    paths[e.path] = { ...paths[e.path], [e.method]: op };
  }
  const webhooks = webhooksDocument(components);
  return {
    openapi: '3.1.0',
    info: {
      title: 'Chute gateway',
      version: '1',
      description:
        'Grants for direct-to-storage uploads, verification and freezing. Errors: ' +
        Object.entries(GATEWAY_CODES)
          .map(([code, { status }]) => `${code} (${status})`)
          .join(', '),
    },
    paths,
    webhooks,
    components: {
      schemas: components,
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT or ck_ API key' },
        apiKey: { type: 'apiKey', in: 'header', name: 'X-Api-Key' },
      },
    },
  };
}

/** OpenAPI 3.1 `webhooks`: what the gateway POSTs to each configured endpoint, per event type. */
function webhooksDocument(components: Record<string, unknown>): Record<string, unknown> {
  const parameters = Object.entries(WEBHOOK_HEADERS).map(([name, description]) => ({
    name,
    in: 'header',
    required: true,
    description,
    schema: { type: 'string' },
  }));
  return Object.fromEntries(
    EVENT_TYPES.map((type) => [
      type,
      {
        post: {
          operationId: `webhook.${type}`,
          summary: EVENT_SUMMARIES[type],
          parameters,
          requestBody: {
            required: true,
            content: { 'application/json': { schema: schemaRef(webhookBody(type), 'output', components) } },
          },
          responses: {
            '2XX': { description: 'Delivered.' },
            '410': { description: 'Gone: the gateway disables this endpoint (until its URL changes).' },
            default: { description: 'Anything else (3xx included, or no answer in time): retried later.' },
          },
        },
      },
    ]),
  );
}

export function getOpenApi() {
  const doc = openApiDocument();
  return (c: Ctx) => c.json(doc);
}
