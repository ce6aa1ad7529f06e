import { S3Error } from '@chute/errors';
import { XMLParser } from 'fast-xml-parser';

/** The S3 XML namespace every response document declares. */
export const S3_NS = 'http://s3.amazonaws.com/doc/2006-03-01/';

const ESC: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' };

/**
 * Escapes text for an XML element. Characters XML 1.0 cannot carry at all (C0 controls other
 * than tab/LF/CR) are written as numeric references, as S3 does for keys with such bytes.
 */
export function esc(s: string): string {
  let out = '';
  let last = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    const rep = ESC[s[i]!] ?? (c < 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d ? `&#${c};` : undefined);
    if (rep === undefined) continue;
    out += s.slice(last, i) + rep;
    last = i + 1;
  }
  return last === 0 ? s : out + s.slice(last);
}

/** A tiny element tree: `el('Key', 'a')`, `el('Contents', [el(...), …])`; undefined children are skipped. */
export type Node = string;
export function el(name: string, content: string | number | boolean | Node[] | undefined | null): Node {
  if (content === undefined || content === null) return '';
  if (Array.isArray(content)) return `<${name}>${content.join('')}</${name}>`;
  return `<${name}>${esc(String(content))}</${name}>`;
}

/** A full response document with the XML declaration and the S3 namespace on the root. */
export function doc(root: string, children: Node[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<${root} xmlns="${S3_NS}">${children.join('')}</${root}>`;
}

/** An error document (S3 does not put a namespace on <Error>). */
export function errorDoc(children: Node[]): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<Error>${children.join('')}</Error>`;
}

export function isoDate(ms: number): string {
  return new Date(ms).toISOString();
}

const parser = new XMLParser({
  ignoreAttributes: true,
  removeNSPrefix: true,
  parseTagValue: false,
  trimValues: false,
  processEntities: true,
  ignoreDeclaration: true,
  isArray: (name) => name === 'Part' || name === 'Object' || name === 'CORSRule' || name === 'Tag',
});

/**
 * Parses a request body; anything that is not well-formed XML with the expected root is
 * MalformedXML, as S3 answers.
 */
export function parseXml(body: string, root: string): Record<string, unknown> {
  let out: unknown;
  try {
    out = parser.parse(body, true);
  } catch {
    throw new S3Error('MalformedXML');
  }
  const top = (out as Record<string, unknown> | undefined)?.[root];
  if (top === undefined || top === null || typeof top !== 'object') {
    if (top === '') return {};
    throw new S3Error('MalformedXML');
  }
  return top as Record<string, unknown>;
}

/** Reads a text child of a parsed element; undefined when missing. */
export function text(node: unknown, name: string): string | undefined {
  if (!node || typeof node !== 'object') return undefined;
  const v = (node as Record<string, unknown>)[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v === 'string') return v;
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  return undefined;
}
