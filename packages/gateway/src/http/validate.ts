import { ChuteError } from '@chute/errors';
import type { z } from 'zod';
import type { Ctx } from './context.ts';

/** JSON bodies above this are refused before parsing: a grant request is a few hundred bytes. */
export const MAX_JSON_BYTES = 16 * 1024;

/** The request's JSON body, validated; invalid_request names the first offending field. */
export async function parseBody<S extends z.ZodType>(
  c: Ctx,
  schema: S,
  maxBytes = MAX_JSON_BYTES,
): Promise<z.output<S>> {
  const type = c.req.header('content-type') ?? '';
  if (!/^application\/json\s*(;|$)/i.test(type)) {
    throw new ChuteError('invalid_request', {
      message: 'Send a JSON body with Content-Type: application/json.',
    });
  }
  const length = Number(c.req.header('content-length') ?? 0);
  if (length > maxBytes) throw new ChuteError('invalid_request', { message: 'The JSON body is too large.' });
  const text = await c.req.text();
  if (text.length > maxBytes)
    throw new ChuteError('invalid_request', { message: 'The JSON body is too large.' });
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    throw new ChuteError('invalid_request', { message: 'The body is not valid JSON.' });
  }
  return check(schema, json);
}

export function check<S extends z.ZodType>(schema: S, value: unknown): z.output<S> {
  const result = schema.safeParse(value);
  if (result.success) return result.data;
  const issue = result.error.issues[0]!;
  const field = issue.path.join('.') || (issue.code === 'unrecognized_keys' ? issue.keys.join(', ') : '');
  throw new ChuteError('invalid_request', {
    message: field ? `${field}: ${issue.message}` : issue.message,
    details: {
      field,
      issues: result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    },
  });
}
