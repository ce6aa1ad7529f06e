/**
 * A bucket's CORS configuration: the `CORSConfiguration` XML of PutBucketCors / GetBucketCors,
 * read into rules and written back. Pure: no I/O.
 *
 * Validation follows S3 (PutBucketCors in the API reference, and S3's answers as recorded by
 * peers): the document's shape is checked first (MalformedXML), then each rule's values in
 * order (InvalidRequest): AllowedMethod, AllowedOrigin, AllowedHeader, ExposeHeader.
 */
import { S3Error } from '@chute/errors';
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { esc } from '../xml.ts';

export const CORS_METHODS = ['GET', 'PUT', 'POST', 'DELETE', 'HEAD'] as const;
export type CorsMethod = (typeof CORS_METHODS)[number];

export interface CorsRule {
  id?: string;
  /** Origins as written; at most one `*` in each. */
  allowedOrigins: string[];
  allowedMethods: CorsMethod[];
  /** Header names as written; at most one `*` in each; compared case-insensitively. */
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

/** "The document is limited to 64 KB in size." (PutBucketCors) */
export const MAX_CORS_DOCUMENT_BYTES = 64 * 1024;
/** "You can add up to 100 rules to the configuration." (CORS configuration, user guide) */
export const MAX_CORS_RULES = 100;
const MAX_ID_LENGTH = 255;
const MAX_AGE_LIMIT = 2 ** 31 - 1;

const XMLNS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const parser = new XMLParser({
  preserveOrder: true,
  removeNSPrefix: true,
  ignoreAttributes: true,
  ignoreDeclaration: true,
  ignorePiTags: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
});

type Node = Record<string, unknown>;

function malformed(): S3Error {
  return new S3Error('MalformedXML');
}

function invalid(message: string): S3Error {
  return new S3Error('InvalidRequest', message);
}

/** The element name of a preserveOrder node, or '#text' for text. */
function nameOf(node: Node): string {
  const key = Object.keys(node).find((k) => k !== ':@');
  if (key === undefined) throw malformed();
  return key;
}

function childrenOf(node: Node, name: string): Node[] {
  const children = node[name];
  return Array.isArray(children) ? (children as Node[]) : [];
}

/** The text of a leaf element; an element inside it is MalformedXML. */
function textOf(node: Node, name: string): string {
  let text = '';
  for (const child of childrenOf(node, name)) {
    if (nameOf(child) !== '#text') throw malformed();
    text += String(child['#text']);
  }
  return text;
}

function isBlank(node: Node): boolean {
  return nameOf(node) === '#text' && String(node['#text']).trim() === '';
}

/**
 * Reads a CORSConfiguration document. Throws S3Error MalformedXML for a document that is not
 * XML or not the schema, InvalidRequest for a value S3 refuses, MaxMessageLengthExceeded above
 * 64 KB.
 */
export function parseCorsConfiguration(body: string | Uint8Array): CorsRule[] {
  if (typeof body !== 'string') {
    if (body.byteLength > MAX_CORS_DOCUMENT_BYTES) throw new S3Error('MaxMessageLengthExceeded');
    try {
      body = new TextDecoder('utf-8', { fatal: true }).decode(body);
    } catch {
      throw malformed();
    }
  } else if (Buffer.byteLength(body) > MAX_CORS_DOCUMENT_BYTES) {
    throw new S3Error('MaxMessageLengthExceeded');
  }
  body = body.replace(/^\uFEFF/, '');
  // A DTD could define entities (billion laughs); S3's schema has no use for one.
  if (/<!DOCTYPE/i.test(body) || body.trim() === '' || XMLValidator.validate(body) !== true) {
    throw malformed();
  }
  let doc: Node[];
  try {
    doc = parser.parse(body) as Node[];
  } catch {
    throw malformed();
  }
  const roots = doc.filter((n) => !isBlank(n));
  const root = roots[0];
  if (roots.length !== 1 || root === undefined || nameOf(root) !== 'CORSConfiguration') throw malformed();

  const ruleNodes: Node[] = [];
  for (const child of childrenOf(root, 'CORSConfiguration')) {
    if (isBlank(child)) continue;
    if (nameOf(child) !== 'CORSRule') throw malformed();
    ruleNodes.push(child);
  }
  if (ruleNodes.length === 0 || ruleNodes.length > MAX_CORS_RULES) throw malformed();

  // Shape of every rule first: a MalformedXML anywhere wins over an InvalidRequest.
  const raw = ruleNodes.map(readRuleShape);
  return raw.map(checkRuleValues);
}

interface RawRule {
  id?: string;
  allowedOrigins: string[];
  allowedMethods: string[];
  allowedHeaders: string[];
  exposeHeaders: string[];
  maxAgeSeconds?: number;
}

function readRuleShape(ruleNode: Node): RawRule {
  const rule: RawRule = { allowedOrigins: [], allowedMethods: [], allowedHeaders: [], exposeHeaders: [] };
  for (const child of childrenOf(ruleNode, 'CORSRule')) {
    if (isBlank(child)) continue;
    const name = nameOf(child);
    switch (name) {
      case 'AllowedOrigin':
        rule.allowedOrigins.push(textOf(child, name));
        break;
      case 'AllowedMethod':
        rule.allowedMethods.push(textOf(child, name));
        break;
      case 'AllowedHeader':
        rule.allowedHeaders.push(textOf(child, name));
        break;
      case 'ExposeHeader':
        rule.exposeHeaders.push(textOf(child, name));
        break;
      case 'ID': {
        const id = textOf(child, name);
        if (rule.id !== undefined || id.length > MAX_ID_LENGTH) throw malformed();
        rule.id = id;
        break;
      }
      case 'MaxAgeSeconds': {
        const text = textOf(child, name);
        if (rule.maxAgeSeconds !== undefined || !/^[0-9]+$/.test(text)) throw malformed();
        const seconds = Number(text);
        if (seconds > MAX_AGE_LIMIT) throw malformed();
        rule.maxAgeSeconds = seconds;
        break;
      }
      default:
        throw malformed();
    }
  }
  if (rule.allowedOrigins.length === 0 || rule.allowedMethods.length === 0) throw malformed();
  return rule;
}

function wildcards(value: string): number {
  return value.split('*').length - 1;
}

function checkRuleValues(raw: RawRule): CorsRule {
  for (const method of raw.allowedMethods) {
    if (!(CORS_METHODS as readonly string[]).includes(method)) {
      throw invalid(`Found unsupported HTTP method in CORS config. Unsupported method is ${method}`);
    }
  }
  for (const origin of raw.allowedOrigins) {
    if (wildcards(origin) > 1)
      throw invalid(`AllowedOrigin "${origin}" can not have more than one wildcard.`);
  }
  for (const header of raw.allowedHeaders) {
    if (wildcards(header) > 1)
      throw invalid(`AllowedHeader "${header}" can not have more than one wildcard.`);
  }
  for (const header of raw.exposeHeaders) {
    if (header.includes('*')) {
      throw invalid(
        `ExposeHeader "${header}" contains wildcard. We currently do not support wildcard for ExposeHeader.`,
      );
    }
  }
  const rule: CorsRule = {
    allowedOrigins: raw.allowedOrigins,
    allowedMethods: raw.allowedMethods as CorsMethod[],
    allowedHeaders: raw.allowedHeaders,
    exposeHeaders: raw.exposeHeaders,
  };
  if (raw.id !== undefined) rule.id = raw.id;
  if (raw.maxAgeSeconds !== undefined) rule.maxAgeSeconds = raw.maxAgeSeconds;
  return rule;
}

function elements(name: string, values: readonly string[]): string {
  return values.map((v) => `<${name}>${esc(v)}</${name}>`).join('');
}

/** Writes rules as GetBucketCors answers them (S3's element order). */
export function serializeCorsConfiguration(rules: readonly CorsRule[]): string {
  const body = rules
    .map(
      (r) =>
        '<CORSRule>' +
        (r.id !== undefined ? `<ID>${esc(r.id)}</ID>` : '') +
        elements('AllowedMethod', r.allowedMethods) +
        elements('AllowedOrigin', r.allowedOrigins) +
        elements('AllowedHeader', r.allowedHeaders) +
        (r.maxAgeSeconds !== undefined ? `<MaxAgeSeconds>${r.maxAgeSeconds}</MaxAgeSeconds>` : '') +
        elements('ExposeHeader', r.exposeHeaders) +
        '</CORSRule>',
    )
    .join('');
  return `<?xml version="1.0" encoding="UTF-8"?>\n<CORSConfiguration xmlns="${XMLNS}">${body}</CORSConfiguration>`;
}
